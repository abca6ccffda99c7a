"""Issue 9 "done when": a report on a demo month shows the PMK 2/2020 labels, and a hand count of children with
BB/TB < −3 SD equals the gizi buruk number on the page."""
import html as html_lib
import re
from datetime import date

from sqlalchemy import select

from posyandu.domain import reports as dom
from posyandu.domain.lifecycle import age_in_months
from posyandu.extensions import db
from posyandu.models import Measurement, Person

from .conftest import Client


def _total_of_row(html: str, label: str) -> int:
    """The bold total cell at the end of the SKDN row with this label."""
    row = re.search(re.escape(label) + r"</th>(.*?)</tr>", html, re.S).group(1)
    return int(re.sub(r"<[^>]+>", "", re.findall(r"<b>(.*?)</b>", row, re.S)[-1]).strip())


def test_demo_month_report_gizi_buruk_equals_hand_count_of_bb_tb_below_minus_3(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo", "--children", "1500", "--months", "3"]).exit_code == 0
    month = dom.shift_month(date.today(), -1)
    first, last = dom.month_start(month), dom.month_end(month)
    c = Client(app.test_client())
    assert c.login("admin", "posyandu-demo").status_code == 303
    resp = c.get(f"/laporan/kabupaten?bulan={month:%Y-%m}")
    html = html_lib.unescape(resp.get_data(as_text=True))  # labels compared as text, escaped or not
    assert resp.status_code == 200, html[:300]
    assert "Gizi buruk (BB/PB atau BB/TB < −3 SD)" in html and "Gizi buruk (BB/U" not in html
    assert "berat badan sangat kurang (BB/U < −3 SD)" in html

    # by hand: each live balita of the district at the month's end, its last valid weighing of the month
    kids = {p.id: p for p in db.session.scalars(select(Person).where(Person.deleted_at.is_(None)))
            if p.birth_date <= last and age_in_months(p.birth_date, last) < 60}
    latest: dict[int, Measurement] = {}
    for m in db.session.scalars(select(Measurement).where(
            Measurement.measured_on >= first, Measurement.measured_on <= last, Measurement.flagged.is_(False),
            Measurement.weight_kg.is_not(None))):
        if m.person_id in kids and (m.person_id not in latest
                                    or (m.measured_on, m.id) > (latest[m.person_id].measured_on, latest[m.person_id].id)):
            latest[m.person_id] = m
    buruk = sum(1 for m in latest.values() if m.whz is not None and m.whz < -3)
    kurang = sum(1 for m in latest.values() if m.whz is not None and -3 <= m.whz < -2)
    sangat_kurang_bb = sum(1 for m in latest.values() if m.waz is not None and m.waz < -3)
    assert buruk > 0 and len(latest) > 500
    assert _total_of_row(html, "Gizi buruk (BB/PB atau BB/TB < −3 SD)") == buruk
    assert _total_of_row(html, "Gizi kurang (BB/PB atau BB/TB −3 s.d. < −2 SD)") == kurang
    print(f"demo {month:%Y-%m}: weighed {len(latest)}, BB/TB < -3 by hand {buruk} = gizi buruk on the page; "
          f"gizi kurang {kurang}; BB/U < -3 (the old, wrong row) {sangat_kurang_bb}")
