"""Monthly reports and roll-ups: on screen, as PDF and XLSX, trends as SVG, the people behind each number (and
CSV of them), and the e-PPGBM export. Every area is limited to the user's scope."""
from dataclasses import dataclass
from datetime import date

from flask import Response, abort, request, stream_with_context
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import Select
from werkzeug.exceptions import MethodNotAllowed

from ...domain import reports as dom
from ...domain.report_chart import trend_chart
from ...jobs import runner as job_runner
from ...jobs import start as start_job
from ...models import Kecamatan, Kelurahan, Posyandu, Puskesmas
from ...roles import role_required
from ...services import report_exports
from ...services import reports as svc
from ...web import get_or_404, int_arg, render
from . import bp
from .document import report_data
from .labels import KINDS, METRICS, PREVALENCE, RANK_KEYS, RISK, SKDN_ROWS, detail_label, metric_label

MODELS = {"kelurahan": Kelurahan, "puskesmas": Puskesmas, "kecamatan": Kecamatan}
SUB_LEVEL = {"district": "kecamatan", "kecamatan": "kelurahan", "puskesmas": "kelurahan", "kelurahan": "posyandu"}
RANK_PAGE = 20
NOT_FINAL_SHOWN = 12  # names in the "not final" notice; the rest as a count
EPPGBM_ROLES = ("district_admin", "kelurahan_clerk", "nakes", "ketua")
AREA_ROUTES = ("/posyandu/<int:posyandu_id>", "/<any(kelurahan,puskesmas,kecamatan):kind>/<int:obj_id>", "/kabupaten")


def area_routes(suffix: str = "", methods: list[str] | None = None):
    """Register a view under the three area URL shapes: a Posyandu, a kelurahan/Puskesmas/kecamatan, the district.
    One endpoint; url_for picks the shape from the arguments given (posyandu_id, kind + obj_id, or none)."""
    def decorate(view):
        for rule in AREA_ROUTES:
            bp.add_url_rule(rule + suffix, view.__name__, view, methods=methods)
        return view
    return decorate


@bp.before_request
@login_required
def _login():
    """Every report needs a login."""


@dataclass
class Area:
    kind: str
    id: int | None
    name: str
    pos: Select
    wide: bool  # a kecamatan or the district: read measurements by date, not by child

    @property
    def args(self) -> dict:
        if self.kind == "district":
            return {}
        if self.kind == "posyandu":
            return {"posyandu_id": self.id}
        return {"kind": self.kind, "obj_id": self.id}


def _area(kind: str | None = None, obj_id: int | None = None, posyandu_id: int | None = None) -> Area:
    kind = "posyandu" if posyandu_id is not None else kind or "district"
    if kind == "district":
        if current_user.role != "district_admin":
            abort(403)
        return Area(kind, None, current_user.district.name, svc.area_posyandu(current_user, kind, None), True)
    if kind == "posyandu":
        obj = get_or_404(Posyandu, posyandu_id)
        name = f"{obj.name}, {obj.kelurahan.name}"
        return Area(kind, obj.id, name, svc.area_posyandu(current_user, kind, obj.id), False)
    if current_user.role not in ("district_admin", "kelurahan_clerk", "nakes"):
        abort(403)  # a Posyandu's own people see their Posyandu's report, not a roll-up around it
    obj = get_or_404(MODELS[kind], obj_id)
    return Area(kind, obj.id, obj.name, svc.area_posyandu(current_user, kind, obj.id), kind == "kecamatan")


def _month() -> date:
    return dom.parse_month(request.args.get("bulan"), date.today())


def _month_arg(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def _month_choices() -> list[tuple[str, date]]:
    return [(_month_arg(m), m) for m in reversed(dom.months_back(date.today(), 24))]


@bp.route("/")
def index():
    """The report of the user's own node (the district, her Puskesmas, kelurahan or Posyandu)."""
    u = current_user
    if u.role == "district_admin":
        return area()
    if u.role == "nakes":
        return area(kind="puskesmas", obj_id=u.puskesmas_id)
    if u.role == "kelurahan_clerk":
        return area(kind="kelurahan", obj_id=u.kelurahan_id)
    return area(posyandu_id=u.posyandu_id)


@area_routes()
def area(kind: str | None = None, obj_id: int | None = None, posyandu_id: int | None = None):
    """The monthly report of an area: SKDN by age band and sex, nutrition, mothers, ILP, kader; for a roll-up,
    its parts and the Posyandu ranked."""
    a = _area(kind, obj_id, posyandu_id)
    kind = a.kind
    month = _month()
    by_pos = svc.monthly_by_posyandu(a.pos, month, a.wide, risk=not a.wide, parallel=True)
    rows = svc.posyandu_rows(a.pos)
    whole = svc.total(by_pos.values())
    pending = svc.not_final(a.pos, month)
    ctx = {"a": a, "month": month, "month_arg": _month_arg(month), "months": _month_choices(), "r": whole,
           "not_final": pending[:NOT_FINAL_SHOWN], "not_final_n": len(pending), "n_posyandu": len(rows),
           "t": whole.total(), "bands": dom.AGE_BANDS, "skdn_rows": SKDN_ROWS, "metrics": METRICS, "kinds": KINDS,
           "fmt": dom.fmt_pct, "risk_counted": not a.wide, "prevalence": PREVALENCE}
    kader_total, kader_trained = svc.trained_kader(a.pos, min(dom.month_end(month), date.today()), month)
    ctx.update(kader_total=kader_total, kader_trained=kader_trained, trained_pct=dom.pct(kader_trained, kader_total),
               incentives=svc.incentive_totals(a.pos, month))
    sub = SUB_LEVEL.get(kind)
    if sub:
        ctx["sub_kind"] = sub
        ctx["parts"] = svc.roll_up(by_pos, rows, sub)
        key = request.args.get("urut") if request.args.get("urut") in RANK_KEYS else "stunting_pct"
        ranked = dom.rank([((pid, name), a_.total()) for pid, name, a_ in svc.roll_up(by_pos, rows, "posyandu")], key)
        page = int_arg("hal", 1, 1, 1000)
        ctx.update(rank_key=key, rank_keys=RANK_KEYS, rank_page=page, rank_offset=(page - 1) * RANK_PAGE,
                   ranked=ranked[(page - 1) * RANK_PAGE: page * RANK_PAGE],
                   rank_more=len(ranked) > page * RANK_PAGE)
    return render("reports/area.html", **ctx)


@area_routes("/tren.svg")
def trend_svg(kind: str | None = None, obj_id: int | None = None, posyandu_id: int | None = None):
    """Prevalence over the last twelve months as an SVG image (served apart so the report page stays fast)."""
    a = _area(kind, obj_id, posyandu_id)
    month = _month()
    trend = svc.prevalence_trend(a.pos, month, 12, a.wide)
    svg = trend_chart([(m, c.stunting_pct, c.wasting_pct, c.underweight_pct) for m, c in trend],
                      title=_("Prevalensi per bulan: %(area)s", area=a.name),
                      series=tuple(str(v) for v in PREVALENCE.values()), y_label=_("% balita diukur"))
    resp = Response(svg, mimetype="image/svg+xml")
    return resp


@area_routes("/daftar/<metric>")
def people_list(metric: str, kind: str | None = None, obj_id: int | None = None, posyandu_id: int | None = None):
    """The people behind one number of the report, paginated; `?format=csv` downloads all of them."""
    if metric not in svc.METRICS:
        abort(404)
    a = _area(kind, obj_id, posyandu_id)
    month = _month()
    band = request.args.get("umur") if request.args.get("umur") in {b[0] for b in dom.AGE_BANDS} else None
    sex = request.args.get("jk") if request.args.get("jk") in dom.SEXES else None
    title = metric_label(metric)
    if request.args.get("format") == "csv":
        q = svc.people_list(a.pos, month, metric, band, sex, a.wide)
        header = ["No", _("Nama"), "NIK", _("JK"), _("Tanggal lahir"), _("Posyandu"), detail_label(metric)]
        lines = report_exports.people_csv(q, header, lambda d: _detail(metric, d), svc.posyandu_names(a.pos))
        resp = Response(stream_with_context(lines), mimetype="text/csv")
        resp.headers["Content-Disposition"] = (f'attachment; filename="{metric}-{a.kind}-{a.id or "kab"}-'
                                               f'{_month_arg(month)}.csv"')
        return resp
    page = int_arg("page", 1, 1, 10_000)
    rows, more, total = svc.list_page(a.pos, month, metric, band, sex, a.wide, page, 25)
    names = svc.posyandu_names(a.pos) if a.kind != "posyandu" else None
    # The Posyandu each person was counted in (for a closed month: as it was at approval).
    rows = [(r[0], r[1], svc.counted_in(r, names) if names is not None else None) for r in rows]
    return render("reports/list.html", a=a, month=month, month_arg=_month_arg(month), metric=metric, title=title,
                  rows=rows, more=more, page=page, total=total, band=band, sex=sex,
                  detail_label=detail_label(metric), show_posyandu=names is not None, detail=_detail,
                  today=date.today())


@area_routes("/laporan.pdf", methods=["GET", "POST"])
def report_pdf(kind: str | None = None, obj_id: int | None = None, posyandu_id: int | None = None):
    """The monthly report as an A4 PDF. A kecamatan's or the district's reads every Posyandu's month: a POST
    starts it as a background job (its page shows the progress, then the download); a GET is for the small
    areas, made at once."""
    a = _area(kind, obj_id, posyandu_id)
    month = _month()
    name = f"laporan-{a.kind}-{a.id or 'kab'}-{_month_arg(month)}.pdf"
    if request.method == "POST":
        return start_job("report_pdf", {"area": a.args, "month": _month_arg(month)},
                         _("Laporan bulanan %(area)s, %(month)s (PDF)", area=a.name,
                           month=format_date(month, "MMMM yyyy")), name, "application/pdf")
    if a.wide:
        raise MethodNotAllowed(["POST"])  # never in a request thread: the page posts it as a job
    return _download(_report_pdf(a, month), "application/pdf", name)


def _report_pdf(a: Area, month: date, progress=None) -> bytes:
    from ...pdf.report import monthly_report_pdf

    if progress is not None:
        progress(0, 2)
    data = report_data(a.kind, a.name, month, svc.total(svc.monthly_by_posyandu(a.pos, month, a.wide).values()),
                       svc.final_on(a.pos, month))
    data["doc_header"] = current_user.district.document_header() if current_user.district else None
    if progress is not None:
        progress(1, 2)
    body = monthly_report_pdf(data)
    if progress is not None:
        progress(2, 2)
    return body


@job_runner("report_pdf")
def _report_pdf_job(params: dict, out, progress) -> None:
    """A report PDF job, as the user who started it (her scope checked again)."""
    out.write(_report_pdf(_area(**params["area"]), dom.parse_month(params["month"], date.today()), progress))


@area_routes("/laporan.xlsx")
def report_xlsx(kind: str | None = None, obj_id: int | None = None, posyandu_id: int | None = None):
    """The monthly report as a spreadsheet (the same figures, one sheet per table)."""
    a = _area(kind, obj_id, posyandu_id)
    month = _month()
    by_pos = svc.monthly_by_posyandu(a.pos, month, a.wide)
    data = report_data(a.kind, a.name, month, svc.total(by_pos.values()), svc.final_on(a.pos, month))
    body = report_exports.monthly_report_xlsx(data, svc.roll_up(by_pos, svc.posyandu_rows(a.pos), "posyandu"), month)
    return _download(body, report_exports.XLSX, f"laporan-{a.kind}-{a.id or 'kab'}-{_month_arg(month)}.xlsx")


@area_routes("/eppgbm.xlsx", methods=["POST"])
@role_required(*EPPGBM_ROLES)
def eppgbm_xlsx(kind: str | None = None, obj_id: int | None = None, posyandu_id: int | None = None):
    """Start the e-PPGBM workbook of an area (balita and the month's measurements in the import shape) as a
    background job: a district's takes a while; its page shows the progress, then the download."""
    a = _area(kind, obj_id, posyandu_id)
    month = _month()
    return start_job("eppgbm", {"area": a.args, "month": _month_arg(month)},
                     _("e-PPGBM %(area)s, %(month)s (XLSX)", area=a.name, month=format_date(month, "MMMM yyyy")),
                     f"eppgbm-{a.kind}-{a.id or 'kab'}-{_month_arg(month)}.xlsx", report_exports.XLSX)


@job_runner("eppgbm")
def _eppgbm_job(params: dict, out, progress) -> None:
    """An e-PPGBM job, as the user who started it (her role and scope checked again); streamed, bounded memory."""
    if current_user.role not in EPPGBM_ROLES:
        abort(403)
    a = _area(**params["area"])
    report_exports.eppgbm_xlsx(a.pos, dom.parse_month(params["month"], date.today()), out, progress)


def _detail(metric: str, value) -> str:
    """The detail column of a list as text: a z-score, a code, a date, a reason."""
    if value is None:
        return ""
    if metric == "at_risk":
        return str(RISK.get(value, value))
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, date):
        return value.isoformat()
    if metric.startswith("ilp-reg-"):
        from ...labels import GROUPS

        return str(GROUPS.get(value, value))
    return str(value)


def _download(body: bytes, mime: str, name: str) -> Response:
    resp = Response(body, mimetype=mime)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp
