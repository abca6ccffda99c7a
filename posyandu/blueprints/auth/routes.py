"""Login, logout and the choice of language."""
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ...database import unit_of_work
from ...extensions import db
from ...forms import MIN_PASSWORD
from ...services import accounts, invitations
from ...services.audit import acting
from ...web import render
from . import bp
from .forms import InvitationForm, LoginForm, PasswordChangeForm


def _safe_next(target: str | None) -> str:
    """Only local paths: an attacker's link must not send a kader to another site after login."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.index")


DEVICE_COOKIE = "posyandu_device"
DEVICE_DAYS = 180


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="known-device")


def _known_user_id() -> int | None:
    """The account that logged in on this browser before (a signed cookie), if any."""
    raw = request.cookies.get(DEVICE_COOKIE)
    try:
        return int(_devices().loads(raw, max_age=DEVICE_DAYS * 86400)) if raw else None
    except (BadSignature, ValueError, TypeError):
        return None


@bp.route("/masuk", methods=["GET", "POST"])
def login():
    """The login form; a successful login opens a server-side session."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        result = accounts.login(form.username.data, form.password.data, request.remote_addr or "",
                                request.user_agent.string, current_app.config, _known_user_id())
        if result.throttled:
            form.username.errors.append(_("Terlalu banyak percobaan gagal. Coba lagi dalam %(n)s detik.",
                                          n=result.retry_after))
            page, status = render("auth/login.html", form=form, status=429)
            return page, status, {"Retry-After": str(result.retry_after)}
        if result.user is None:
            form.password.errors.append(_("Nama pengguna atau kata sandi salah."))
            return render("auth/login.html", form=form, status=422)
        lang = session.get("lang")
        session.clear()  # a fresh session id after login (no fixation)
        if lang:
            session["lang"] = lang
        session["auth"] = result.token
        login_user(result.user)
        resp = redirect(_safe_next(request.args.get("next")), 303)
        # This browser is now known for the account: an attacker elsewhere cannot slow its logins down.
        resp.set_cookie(DEVICE_COOKIE, _devices().dumps(result.user.id), max_age=DEVICE_DAYS * 86400, httponly=True,
                        samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
        return resp
    status = 422 if form.is_submitted() else 200
    return render("auth/login.html", form=form, status=status)


def _end_session() -> None:
    """Revoke this browser's login on the server (if any) and forget the session, keeping only its language."""
    if current_user.is_authenticated:
        accounts.logout(session.get("auth"))
        logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.route("/keluar", methods=["POST"])
def logout():
    """Log out: the session is revoked on the server, not only forgotten by the browser."""
    _end_session()
    flash(_("Anda telah keluar."), "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/sandi", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password: the current one first; every other session of the account is logged out."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        with unit_of_work():  # a wrong current password was counted (and committed) by the throttle already
            result = accounts.change_password(current_user, form.current.data, form.new.data,
                                              session.get("auth"), current_app.config)
        if result == "ok":
            flash(_("Kata sandi diganti. Sesi di perangkat lain telah dikeluarkan."), "success")
            return redirect(url_for("main.index"), 303)
        if result == "throttled":
            form.current.errors.append(_("Terlalu banyak percobaan gagal. Coba lagi nanti."))
            return render("auth/password.html", form=form, status=429)
        form.current.errors.append(_("Kata sandi saat ini salah."))
    status = 422 if form.is_submitted() else 200
    return render("auth/password.html", form=form, status=status)


INVITATION_KEY = "invitation"  # the session holds the link's hash between opening it and setting the password


def _invitation_gone(reason: str):
    """A link that no longer works, said plainly, with what to do next."""
    return render("auth/invitation_invalid.html", reason=reason, days=invitations.DAYS,
                  status=404 if reason == "unknown" else 410)


@bp.route("/undangan/<token>")
def open_invitation(token: str):
    """Open an invitation link: a valid one is remembered (its hash) in this browser's session and the token leaves
    the address bar at once (no token in the history, a Referer or later log lines)."""
    invitation = invitations.find(invitations.digest(token[:100]))
    reason = invitations.state(invitation)
    if reason != "open":
        return _invitation_gone(reason)
    _end_session()  # someone else's session on this browser must not stay open beside hers
    session[INVITATION_KEY] = invitation.token_hash
    return redirect(url_for("auth.accept_invitation"), 303)


@bp.route("/undangan", methods=["GET", "POST"])
def accept_invitation():
    """Set one's own password from an invitation (the same rules as everywhere), then log in with it."""
    invitation = invitations.find(session.get(INVITATION_KEY))
    reason = invitations.state(invitation)
    if reason != "open":
        session.pop(INVITATION_KEY, None)
        return _invitation_gone(reason)
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                user = invitations.accept(invitation, form.new.data)
        except ValueError as err:
            session.pop(INVITATION_KEY, None)
            return _invitation_gone(str(err))
        session.pop(INVITATION_KEY, None)
        flash(_("Kata sandi disimpan. Silakan masuk dengan nama pengguna %(u)s.", u=user.username), "success")
        return redirect(url_for("auth.login"), 303)
    status = 422 if form.is_submitted() else 200
    return render("auth/invitation.html", form=form, user=invitation.user, expires=invitation.expires_at,
                  min_length=MIN_PASSWORD, status=status)


@bp.route("/bahasa", methods=["POST"])
def set_language():
    """Switch the interface language (Bahasa Indonesia or English)."""
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            with unit_of_work():
                acting(db.session, current_user)
                current_user.locale = lang
    return redirect(_safe_next(request.form.get("next")), 303)
