"""Protocol v1: the version a node speaks, and the refusals every side names with a code (docs/sync.md)."""

PROTOCOL = 1
MIN_PROTOCOL = 1
HEADER = "X-Sync-Protocol"
MAX_CHANGES = 500  # changes in one push
PULL_LIMIT = 1000  # records in one pull page


class Refused(Exception):
    """A request the server refuses as a whole: an HTTP status and a code from docs/sync.md."""

    def __init__(self, status: int, code: str, message: str = "", **extra):
        super().__init__(f"{status} {code} {message}".strip())
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def body(self) -> dict:
        return {"error": self.code, "message": self.message, **self.extra}


def check_version(header: str | None) -> None:
    """Refuse a laptop speaking an older protocol (update the app) or one this server does not know."""
    try:
        version = int(header or "")
    except ValueError:
        raise Refused(400, "protocol_unknown", "missing or unreadable X-Sync-Protocol") from None
    if version < MIN_PROTOCOL:
        raise Refused(426, "protocol_outdated", "update the app", min=MIN_PROTOCOL, max=PROTOCOL)
    if version > PROTOCOL:
        raise Refused(400, "protocol_unknown", "this server speaks an older protocol", min=MIN_PROTOCOL,
                      max=PROTOCOL)
