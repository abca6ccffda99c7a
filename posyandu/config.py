"""Default configuration; overridden by instance/config.py, then by the environment."""
import os


class Defaults:
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    BABEL_DEFAULT_LOCALE = "id"
    BABEL_DEFAULT_TIMEZONE = "Asia/Makassar"  # WITA: East Kalimantan
    LANGUAGES = ("id", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the (idle-limited) session
    IDLE_TIMEOUT_MINUTES = 30
    LOGIN_MAX_FAILURES = 5  # per username within the window
    LOGIN_MAX_FAILURES_PER_IP = 30
    LOGIN_WINDOW_MINUTES = 15
    PAGE_SIZE = 25
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024
    # argon2id; argon2-cffi's defaults (t=3, m=64 MiB, p=4) exceed OWASP's minimum (t=2, m=19 MiB, p=1)
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_KIB = 65536
    ARGON2_PARALLELISM = 4
    COMPRESS_MIMETYPES = [
        "text/html", "text/css", "text/csv", "text/javascript", "application/javascript",
        "application/json", "image/svg+xml",
    ]
    COMPRESS_MIN_SIZE = 300
    COMPRESS_ALGORITHM = ["br", "gzip"]
    SEND_FILE_MAX_AGE_DEFAULT = 3600


def from_environment() -> dict:
    """Settings read from environment variables (the last layer)."""
    out = {}
    url = os.environ.get("DATABASE_URL")
    if url:
        out["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    if os.environ.get("SECRET_KEY"):
        out["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if os.environ.get("SESSION_COOKIE_SECURE") == "1":
        out["SESSION_COOKIE_SECURE"] = True
    return out


def normalise_database_url(url: str) -> str:
    """Point plain postgres URLs at the psycopg 3 driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
