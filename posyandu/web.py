"""Request/response helpers shared by the blueprints: page or fragment, security headers, assets."""
import hashlib
from pathlib import Path

from flask import Flask, Response, abort, current_app, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import IntegerConverter, ValidationError

from .extensions import db
from .parsing import MAX_ID, parse_int

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def wants_fragment() -> bool:
    """An htmx request that swaps part of a page (not a boosted navigation or a history restore)."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-Boosted") != "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def render(template_name: str, fragment_name: str | None = None, status: int = 200, **context):
    """Render the full page, or only its partial for an htmx swap."""
    name = fragment_name if fragment_name and wants_fragment() else template_name
    return render_template(name, **context), status


def get_or_404(model, obj_id: int, options: tuple = ()):
    """The object if it is inside the current user's scope; 404 otherwise, so nothing leaks. On a request that
    writes, its row is locked until the commit (database.lock_for_write): posts to one record take turns.
    `options`: loader options (a module-level tuple) for what the page shows of it, in the same query."""
    from .database import lock_for_write
    from .services.scope import get_in_scope

    obj = get_in_scope(current_user, model, obj_id, options)
    if obj is None:
        abort(404)
    return lock_for_write(db.session, obj)


def htmx_redirects(response: Response) -> Response:
    """A redirect after an htmx form post becomes HX-Location: htmx would otherwise follow it inside the XHR
    and swap the whole next page into the form."""
    if wants_fragment() and response.status_code in (301, 302, 303, 307, 308):
        location = response.headers["Location"]
        response = Response(b"", status=200)  # not 204: waitress closes connections without Content-Length
        response.headers["HX-Location"] = location
    return response


def unchanged() -> Response:
    """Nothing to swap (a poll whose answer has not changed): an empty 200 that tells htmx to leave the page as it
    is. Not a 204: waitress closes the connection after a response without Content-Length. It carries only what it
    needs — there is no document for CSP or framing rules to protect, and every byte of it comes back every few
    seconds to every phone at the Posyandu."""
    resp = Response(b"", status=200)
    del resp.headers["Content-Type"]
    resp.headers["HX-Reswap"] = "none"
    resp.headers["Cache-Control"] = "no-store"  # the same URL answers with the queue once it changes
    resp.nothing_to_render = True
    return resp


def security_headers(response: Response) -> Response:
    if getattr(response, "nothing_to_render", False):
        return response
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.vary.add("HX-Request")
    if request.endpoint not in ("assets.file", "static"):
        # Pages may hold personal data: never keep them in a shared cache or the back-forward cache.
        response.headers["Cache-Control"] = "no-store"
    return response


class Assets:
    """The one CSS file and the one JS bundle, served under hashed names so a return visit asks for nothing.

    CSS: app.css then static/css/*.css; JS: the vendored htmx then static/js/*.js — each area keeps its own
    small file, and a first visit still costs one request for each kind.
    """

    def __init__(self, static: Path):
        self.files = {}
        css = b"\n".join(p.read_bytes() for p in [static / "app.css", *sorted((static / "css").glob("*.css"))])
        js = b"\n;\n".join(p.read_bytes() for p in [static / "vendor" / "htmx-2.0.11.min.js",
                                                     *sorted((static / "js").glob("*.js"))])
        for ext, body, mime in (("css", css, "text/css"), ("js", js, "text/javascript")):
            name = f"app.{hashlib.sha256(body).hexdigest()[:12]}.{ext}"
            self.files[ext] = (name, body, mime)
        self.by_name = {name: (body, mime) for name, body, mime in self.files.values()}

    def url(self, ext: str) -> str:
        return url_for("assets.file", name=self.files[ext][0])

    def response(self, name: str) -> Response:
        if name not in self.by_name:
            abort(404)
        body, mime = self.by_name[name]
        resp = Response(body, mimetype=mime)
        resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return resp


def init_assets(app: Flask) -> None:
    from flask import Blueprint

    assets = Assets(Path(app.static_folder))
    bp = Blueprint("assets", __name__)
    bp.add_url_rule("/a/<name>", "file", assets.response)
    app.register_blueprint(bp)
    app.jinja_env.globals["asset_url"] = assets.url


def commit_or_rollback():
    """Commit the unit of work; roll back and re-raise on failure."""
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def current_config(key: str):
    return current_app.config[key]


class IdConverter(IntegerConverter):
    """`<int:…>` in every URL: ASCII digits that fit an id column. Anything else (a 40-digit number, "١٢")
    matches no route, so it is a plain 404 rather than an overflow in the database."""

    regex = r"[0-9]{1,10}"

    def to_python(self, value: str) -> int:
        number = parse_int(value, 0, MAX_ID)
        if number is None:
            raise ValidationError()
        return number


def public_url(endpoint: str, **values) -> str:
    """An absolute address for someone on another device (an invitation link, a certificate's QR code):
    PUBLIC_BASE_URL when set, else the address this request came to."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, **values, _external=True)


def invited_page(user, token: str, back: str):
    """The one time an invitation link is shown: to the admin who made it, on the answer to her post (never in a
    flash, a log or the database), with the account it opens."""
    from .services.invitations import DAYS

    return render("accounts/invited.html", user=user, link=public_url("auth.open_invitation", token=token),
                  days=DAYS, back=back)


def pdf_response(data: bytes, filename: str) -> Response:
    """A PDF as an attachment, like every other file the app serves: a form posted to it (the chosen
    certificates) then saves the file too, where an inline PDF would replace the page in some browsers."""
    resp = Response(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


def int_arg(name: str, default=None, lo: int = 1, hi: int = MAX_ID, source=None):
    """A whole number from the query string (or `source`, e.g. request.form): ASCII digits within [lo, hi], else
    `default`. The one way routes read numbers from ?page=, ?posyandu=, ?ibu= and posted ids."""
    value = parse_int((source if source is not None else request.args).get(name), lo, hi)
    return default if value is None else value


def page_number() -> int:
    """The ?page= of a list, kept within sane bounds."""
    return int_arg("page", 1, 1, 10_000, source=request.values)


def refuse_nul_bytes():
    """No person types a NUL byte: refuse it anywhere in the query or the form (PostgreSQL cannot even store
    it in text, and a search for it used to end in a server error)."""
    for multi in (request.args, request.form if request.method in ("POST", "PUT", "PATCH", "DELETE") else {}):
        for key, values in multi.lists() if multi else ():
            if "\x00" in key or any("\x00" in v for v in values):
                abort(400)


def search_query() -> tuple[str, int]:
    """(text, page) of a list search. Searches are posted — a read, CSRF-checked like any post — so a NIK typed
    into them never lands in a URL, a server log or the browser history; a GET just lists."""
    if request.method != "POST":
        return "", page_number()
    from .forms import CsrfForm

    if not CsrfForm().validate_on_submit():
        abort(400)
    return request.form.get("q", "")[:100], page_number()


class TrustedProxies:
    """Werkzeug's ProxyFix, applied only to requests that come from a configured proxy (TRUSTED_PROXIES):
    X-Forwarded-For from anyone else is ignored, so a client cannot choose the address it is throttled under."""

    def __init__(self, wsgi_app, trusted, hops: int = 1):
        from ipaddress import ip_network

        from werkzeug.middleware.proxy_fix import ProxyFix

        self.plain = wsgi_app
        self.fixed = ProxyFix(wsgi_app, x_for=hops, x_proto=hops)
        self.networks = [ip_network(t, strict=False) for t in trusted]

    def __call__(self, environ, start_response):
        from ipaddress import ip_address

        try:
            remote = ip_address(environ.get("REMOTE_ADDR", ""))
        except ValueError:
            remote = None
        if remote is not None and any(remote in n for n in self.networks):
            return self.fixed(environ, start_response)
        return self.plain(environ, start_response)

