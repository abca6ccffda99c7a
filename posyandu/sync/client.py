"""The laptop's side of the wire: JSON over HTTP(S) with gzip, the device credential and the protocol header.

Standard library only (urllib), so a Windows laptop needs nothing more than the app's own requirements."""
import gzip
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

from .protocol import HEADER, PROTOCOL, Refused

TIMEOUT = 60


def save_credential(path: str, data: dict) -> Path:
    """Write the device credential (instance/sync.json by default), readable by the app's user only (0600)."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
    os.chmod(path, 0o600)
    return path


def load_credential(path: str) -> dict | None:
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else None


class Transport:
    """Counts what went over the wire, so `sync run` can say it (and the bench can measure it)."""

    def __init__(self, base_url: str, credential: str | None = None):
        self.base = base_url.rstrip("/") + "/sync/v1"
        self.credential = credential
        self.sent = self.received = self.round_trips = 0

    def call(self, method: str, path: str, payload: dict | None = None) -> dict:
        """One request; a refusal (4xx/5xx with a code) raises Refused, a dead link raises OSError."""
        headers = {HEADER: str(PROTOCOL), "Accept": "application/json", "Accept-Encoding": "gzip"}
        if self.credential:
            headers["Authorization"] = f"Device {self.credential}"
        data = None
        if payload is not None:
            data = gzip.compress(json.dumps(payload, separators=(",", ":")).encode(), mtime=0)
            headers.update({"Content-Type": "application/json", "Content-Encoding": "gzip"})
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        self.round_trips += 1
        self.sent += len(data or b"")
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
                return self._json(resp.read(), resp.headers)
        except urllib.error.HTTPError as e:
            body = self._json(e.read(), e.headers, strict=False)
            raise Refused(e.code, body.get("error", "http_error"), body.get("message", ""),
                          **{k: v for k, v in body.items() if k not in ("error", "message")}) from None

    def _json(self, raw: bytes, headers, strict: bool = True) -> dict:
        self.received += len(raw)
        if headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            if strict:
                raise
            return {}


def enrol(base_url: str, code: str, label: str) -> dict:
    """Exchange the one-time code for the device's credential (the server's answer)."""
    return Transport(base_url).call("POST", "/enrol", {"code": code, "label": label})
