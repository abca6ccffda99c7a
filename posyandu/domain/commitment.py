"""Commitment signing: the hash of the signed text and drawn signatures as strokes.

A drawn signature is kept as vector strokes, not as an uploaded image: small, exact, nothing to decode, and it
draws the same on a page (SVG) and in the PDF. Coordinates are in pad units: 0–1200 across, 0–400 down (the pad is 3:1 on every screen).
"""
import hashlib
import json
import unicodedata
from .errors import Invalid

PAD_W, PAD_H = 1200, 400
MAX_STROKES = 60
MAX_POINTS = 4000


class SignatureError(Invalid):
    """The posted signature is not a plausible drawing."""


def canonical_text(text: str) -> str:
    """The exact text as stored and hashed: NFC, Unix line ends, no trailing spaces on the whole."""
    return unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n").strip()


def text_hash(text: str) -> str:
    """SHA-256 (hex) of the UTF-8 bytes of the text exactly as stored."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_strokes(raw: str | None) -> list[list[tuple[int, int]]]:
    """Strokes from the pad's JSON ([[x, y, x, y, …], …] in pad units); raises SignatureError when not a drawing."""
    if not raw or not isinstance(raw, str) or len(raw) > 64_000:
        raise SignatureError("empty" if not raw else "too_large")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as e:  # RecursionError: "[[[[…" nested deeper than the parser goes
        raise SignatureError("invalid") from e
    if not isinstance(data, list) or not data or len(data) > MAX_STROKES:
        raise SignatureError("invalid")
    strokes, points = [], 0
    for stroke in data:
        if not isinstance(stroke, list) or len(stroke) % 2 or not stroke:
            raise SignatureError("invalid")
        pts = []
        for i in range(0, len(stroke), 2):
            x, y = stroke[i], stroke[i + 1]
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (x, y)):
                raise SignatureError("invalid")
            if not (0 <= x <= PAD_W and 0 <= y <= PAD_H):  # also refuses NaN and infinities
                raise SignatureError("invalid")
            pts.append((int(round(x)), int(round(y))))
        points += len(pts)
        strokes.append(pts)
    if points > MAX_POINTS:
        raise SignatureError("too_large")
    if points < 5 or _extent(strokes) < 60:  # a dot or a tap is not a signature
        raise SignatureError("too_small")
    return strokes


def _extent(strokes) -> int:
    xs = [x for s in strokes for x, _ in s]
    ys = [y for s in strokes for _, y in s]
    return max(max(xs) - min(xs), max(ys) - min(ys))


def dump_strokes(strokes) -> str:
    """The canonical stored form."""
    return json.dumps([[v for p in s for v in p] for s in strokes], separators=(",", ":"))


def load_strokes(stored: str) -> list[list[tuple[int, int]]]:
    data = json.loads(stored)
    return [[(s[i], s[i + 1]) for i in range(0, len(s), 2)] for s in data]


def svg_path(stored: str) -> str:
    """An SVG path ("M x y L x y …") of stored strokes, for showing a signature on a page."""
    parts = []
    for s in load_strokes(stored):
        parts.append("M" + " L".join(f"{x} {y}" for x, y in s[:1]) + "".join(f" L{x} {y}" for x, y in s[1:]))
        if len(s) == 1:
            parts[-1] += f" L{s[0][0] + 1} {s[0][1]}"
    return " ".join(parts)
