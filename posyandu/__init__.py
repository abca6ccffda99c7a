"""The Posyandu application factory."""
import os
import secrets
from pathlib import Path

from flask import Flask, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .config import Defaults, from_environment
from .extensions import babel, compress, csrf, db, login_manager, migrate


def _lazy_strings_are_text() -> None:
    """flask-babel's lazy strings say they are safe HTML (`__html__` returns the text as is), so a lazily
    translated message holding user input — "Baris tidak sah: <script>…" — went into the page unescaped.
    A translated message is text: Jinja escapes it like any other string."""
    from flask_babel.speaklater import LazyString
    from markupsafe import escape

    LazyString.__html__ = lambda self: str(escape(str(self)))


_lazy_strings_are_text()


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then the environment (or test_config)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Defaults)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "posyandu.sqlite")
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.update(from_environment())
    else:
        app.config.update(test_config)
    app.config.setdefault("JOBS_DIR", os.path.join(app.instance_path, "jobs"))
    # A failing statement is logged with its shape, never its values (names, NIKs): hide_parameters.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"hide_parameters": True,
                                               **(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})}
    # A laptop enrolled with a district server (docs/sync.md) tracks its changes for the sync.
    app.config.setdefault("SYNC_CREDENTIAL_FILE", os.path.join(app.instance_path, "sync.json"))
    app.config.setdefault("SYNC_LAPTOP", os.path.exists(app.config["SYNC_CREDENTIAL_FILE"]))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))

    if app.config.get("TRUSTED_PROXIES"):
        from .web import TrustedProxies

        app.wsgi_app = TrustedProxies(app.wsgi_app, app.config["TRUSTED_PROXIES"], app.config["PROXY_FIX_X_FOR"])
    from .flashes import ServerSideFlashes

    app.session_interface = ServerSideFlashes()
    _init_extensions(app)
    from . import unchanged_pages
    from .poll import UnchangedPoll

    with app.app_context():
        if app.config["UNCHANGED_PAGES"]:
            app.wsgi_app = app.extensions["unchanged_pages"] = unchanged_pages.UnchangedPages(app.wsgi_app, app,
                                                                                              db.engine)
            unchanged_pages.init_app(app)
        app.wsgi_app = UnchangedPoll(app.wsgi_app, app, db.engine)
    _register_blueprints(app)
    _register_hooks(app)
    from .cli import register_cli

    register_cli(app)
    return app


def _instance_secret(instance: Path) -> str:
    """A random secret kept in instance/ so sessions survive restarts of a laptop install."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _init_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (every table registered before migrations look)
    from .database import configure_engine
    from .services import accounts, changes, month_lock  # noqa: F401  (month_lock: the freeze of approved months;
    # changes: the Posyandu change tokens)
    from .sync import tracking  # noqa: F401  (the server sequence; a laptop's per-record sync state)

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    compress.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Silakan masuk terlebih dahulu.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # our server-side sessions do this job
    accounts.configure_hasher(app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_KIB"],
                              app.config["ARGON2_PARALLELISM"])
    with app.app_context():
        configure_engine(db.engine)
    from . import jobs

    jobs.init_app(app)

    @login_manager.user_loader
    def _load_user(user_id):
        user = accounts.user_for_token(session.get("auth"), app.config["IDLE_TIMEOUT_MINUTES"])
        return user if user is not None and str(user.id) == user_id else None

    @login_manager.unauthorized_handler
    def _unauthorized():
        target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        if request.headers.get("HX-Request") == "true":
            return "", 401, {"HX-Redirect": target}
        return redirect(target)


def _select_locale():
    lang = session.get("lang")
    if lang is None and current_user and current_user.is_authenticated:
        lang = current_user.locale
    return lang if lang in ("id", "en") else "id"


def _register_blueprints(app: Flask) -> None:
    import importlib

    from .blueprints import BLUEPRINTS
    from .web import IdConverter, init_assets

    app.url_map.converters["int"] = IdConverter
    init_assets(app)
    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(f".blueprints.{name}", __name__).bp)

    from .database import retry_races

    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = retry_races(view, db.session)


def _register_hooks(app: Flask) -> None:
    from .errors import register_error_handlers
    from .web import htmx_redirects, refuse_nul_bytes, security_headers

    app.before_request(refuse_nul_bytes)
    app.after_request(security_headers)
    app.after_request(htmx_redirects)  # runs first: after_request hooks run in reverse order
    register_error_handlers(app)

    from . import labels

    from .domain.identity import initial
    from .domain.reports import fmt_pct
    from .services.people import group_of

    from .nav import items_for
    from .roles import may_open

    app.jinja_env.globals.update(labels=labels, age_text=labels.age_text, group_of=group_of,
                                 nav_items=lambda user: items_for(user, app.view_functions), may_open=may_open)
    app.jinja_env.filters["masked_nik"] = labels.masked_nik
    app.jinja_env.filters.update(dateformat=labels.dateformat, decimalformat=labels.decimalformat)
    app.jinja_env.filters["initial"] = initial
    app.jinja_env.filters["pct"] = fmt_pct  # 52.5 → "52,5%", the one way percentages are printed

    @app.context_processor
    def _globals():
        from flask_babel import get_locale

        from datetime import date

        return {"locale": str(get_locale()), "today_iso": date.today().isoformat()}
