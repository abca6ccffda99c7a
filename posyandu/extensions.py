"""Flask extensions, created unbound and bound in create_app()."""
from flask import g
from flask_babel import Babel, Domain, get_domain, get_locale
from flask_compress import Compress
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints so Alembic can alter them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


def _babel_namespace():
    """flask-babel's namespace of the request (`g._flask_babel`), or None. `g` is looked up once, not through its
    proxy for each use: a card asks for its catalogue and locale two hundred times."""
    try:
        app_g = g._get_current_object()
    except RuntimeError:  # no app context
        return None
    return app_g.get("_flask_babel")


def catalogue():
    """The request's translations, found once per request. flask-babel finds them again for every string (three
    lookups through `g`, the locale turned into a string, a dict probe): on a page of a hundred strings and
    lazy labels that was 12 % of its time. Kept next to the locale flask-babel chose, so `force_locale` or
    `refresh()` (which replace or drop it) are followed."""
    ns = _babel_namespace()
    if ns is not None:
        hit = getattr(ns, "posyandu_catalogue", None)
        if (hit is not None and hit[0] is getattr(ns, "babel_locale", None)
                and hit[1] is getattr(ns, "babel_domain", None)):
            return hit[2]
    domain = get_domain()
    translations = Domain.get_translations(domain)  # flask-babel's own lookup (ours would come back here)
    ns = _babel_namespace()
    if ns is not None and getattr(ns, "babel_locale", None) is not None:
        ns.posyandu_catalogue = (ns.babel_locale, domain, translations)
    return translations


def locale_name() -> str:
    """The request's locale as a string ('id', 'en'), to key formats remembered across requests: flask-babel's
    `get_locale()` goes three times through `g` and `str()` of a Locale rebuilds its name, for each of a card's
    hundred-odd dates and numbers. Kept next to the locale flask-babel chose, like `catalogue()`."""
    ns = _babel_namespace()
    locale = getattr(ns, "babel_locale", None)
    if locale is None:  # none chosen yet in this request, or no request: flask-babel's way
        return str(get_locale())
    hit = getattr(ns, "posyandu_locale", None)
    if hit is None or hit[0] is not locale:
        hit = ns.posyandu_locale = (locale, str(locale))
    return hit[1]


class _RequestDomain(Domain):
    """The default domain, reading `catalogue()` (what `_()` in Python and every lazy string use)."""

    def get_translations(self):
        if g and getattr(_babel_namespace(), "babel_domain", self) is self:
            return catalogue()
        return super().get_translations()


class _Babel(Babel):
    @property
    def domain_instance(self):
        return _DOMAIN

    def init_app(self, app, *args, **kwargs):
        """flask-babel, with templates' `_()` reading `catalogue()` directly."""
        super().init_app(app, *args, **kwargs)
        app.jinja_env.install_gettext_callables(
            gettext=lambda s: catalogue().ugettext(s),
            ngettext=lambda s, p, n: catalogue().ungettext(s, p, n),
            pgettext=lambda c, s: catalogue().upgettext(c, s),
            npgettext=lambda c, s, p, n: catalogue().unpgettext(c, s, p, n),
            newstyle=True)


_DOMAIN = _RequestDomain()
babel = _Babel()
compress = Compress()
