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
    # Login throttling with backoff, never a hard lock: (free attempts, first wait s, longest wait s) per
    # account from one client, per client (a whole Posyandu may share one address), and per account from anywhere
    # (not counted on a device the account logged in from before). Counts start over after the window.
    LOGIN_THROTTLE = {"account_client": (5, 2, 300), "client": (30, 2, 60), "account": (30, 2, 60)}
    LOGIN_WINDOW_MINUTES = 15
    # A kader's signing PIN: (free attempts, first wait s, longest wait s); counts start over after a day.
    PIN_THROTTLE = (5, 30, 900)
    # Behind a reverse proxy (nginx): the proxies whose X-Forwarded-For / X-Forwarded-Proto are believed
    # (addresses or networks, e.g. "127.0.0.1" or "10.0.0.0/8"), and how many proxy hops to read.
    # Empty: the header is ignored and the client is the connecting address.
    TRUSTED_PROXIES: tuple = ()
    PROXY_FIX_X_FOR = 1
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
    # The address people outside reach this server by (https://posyandu.example.go.id): certificate QR codes
    # open <PUBLIC_BASE_URL>/v/<token>. Unset, they carry the address of the request that printed them — on
    # a Posyandu laptop http://127.0.0.1:5000, which no phone can open; the certificate pages warn.
    PUBLIC_BASE_URL: str | None = None
    # Background jobs (posyandu.jobs): the queue in a SQLite file in instance/ unless JOBS_URL names Redis
    # (redis://host:6379/0) or PostgreSQL (postgresql://user@host/db) on a district server; worker threads of
    # `flask serve` (or `flask jobs-worker`); hours a job's file is kept. JOBS_DIR defaults to instance/jobs.
    JOBS_URL: str | None = None
    JOBS_WORKERS = 2
    JOBS_KEEP_HOURS = 24
    JOBS_IMMEDIATE = False  # run each job at once in the thread that starts it (tests)
    # The people list, the person card and the meja pages answered again, byte for byte, while nothing they show
    # has changed (posyandu.unchanged_pages). UNCHANGED_PAGES=0 in the environment renders every one (benchmarks
    # of the rendering itself).
    UNCHANGED_PAGES = True


def from_environment() -> dict:
    """Settings read from environment variables (the last layer)."""
    out = {}
    url = os.environ.get("DATABASE_URL")
    if url:
        out["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    if os.environ.get("SYNC_CREDENTIAL_FILE"):  # a laptop's device credential (default instance/sync.json)
        out["SYNC_CREDENTIAL_FILE"] = os.environ["SYNC_CREDENTIAL_FILE"]
    if os.environ.get("SECRET_KEY"):
        out["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if os.environ.get("PUBLIC_BASE_URL"):
        out["PUBLIC_BASE_URL"] = os.environ["PUBLIC_BASE_URL"]
    if os.environ.get("SESSION_COOKIE_SECURE") == "1":
        out["SESSION_COOKIE_SECURE"] = True
    if os.environ.get("TRUSTED_PROXIES"):
        out["TRUSTED_PROXIES"] = tuple(p.strip() for p in os.environ["TRUSTED_PROXIES"].split(",") if p.strip())
    if os.environ.get("JOBS_URL"):
        out["JOBS_URL"] = os.environ["JOBS_URL"]
    if os.environ.get("UNCHANGED_PAGES") == "0":
        out["UNCHANGED_PAGES"] = False
    if os.environ.get("PROXY_FIX_X_FOR"):
        out["PROXY_FIX_X_FOR"] = int(os.environ["PROXY_FIX_X_FOR"])
    return out


def normalise_database_url(url: str) -> str:
    """Point plain postgres URLs at the psycopg 3 driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
