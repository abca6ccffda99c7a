"""Report pages, lists behind numbers, CSV, PDF, XLSX and e-PPGBM exports, scope; home visits."""
import csv
import io
import shutil
import subprocess
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from posyandu.domain import reports as dom
from posyandu.extensions import db
from posyandu.models import HomeVisit, Kader

from .conftest import ROOT
from .report_factories import M, build_month

MONTH = f"{M.year:04d}-{M.month:02d}"


@pytest.fixture
def month(tree):
    return build_month(tree)


def test_district_report_page_links_numbers_to_lists(tree, month, login):
    c = login("admin_d")
    resp = c.get(f"/laporan/kabupaten?bulan={MONTH}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Kota D" in html
    assert " style=" not in html and "<script>" not in html
    assert f"/laporan/kabupaten/daftar/S?bulan={MONTH}" in html  # S = 7 links to its list
    assert "Kecamatan A" in html and "Posyandu A1" in html  # parts and the ranking
    assert c.get("/laporan/").status_code == 200
    lst = c.get(f"/laporan/kabupaten/daftar/D?bulan={MONTH}").get_data(as_text=True)
    assert "Anak Satu" in lst and "Anak Sembilan" in lst and "Anak Empat" not in lst and "Anak Sepuluh" not in lst
    # the SKDN cell of 24-35 months, boys, in Posyandu A1
    a1 = tree.posyandu["A1"].id
    page = c.get(f"/laporan/posyandu/{a1}?bulan={MONTH}").get_data(as_text=True)
    assert f"/laporan/posyandu/{a1}/daftar/B?bulan={MONTH}&amp;umur=24-35&amp;jk=L" in page
    cell = c.get(f"/laporan/posyandu/{a1}/daftar/B?bulan={MONTH}&umur=24-35&jk=L").get_data(as_text=True)
    assert "Anak Tujuh" in cell and "Anak Satu" not in cell
    frag = c.get(f"/laporan/kecamatan/{tree.posyandu['A1'].kelurahan.kecamatan_id}?bulan={MONTH}")
    assert frag.status_code == 200 and "Kelurahan A" in frag.get_data(as_text=True)


def test_list_csv_has_every_row(tree, month, login):
    c = login("nakes_a")
    pkm = tree.puskesmas["A"].id
    resp = c.get(f"/laporan/puskesmas/{pkm}/daftar/S?bulan={MONTH}&format=csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["No", "Nama", "NIK"] and len(rows) == 1 + 7
    assert {r[1] for r in rows[1:]} >= {"Anak Satu", "Anak Sembilan"}


def test_scope_of_reports(tree, month, login):
    kader = login("kader_a1")
    assert kader.get("/laporan/kabupaten").status_code == 403
    assert kader.get(f"/laporan/kelurahan/{tree.kelurahan['A'].id}").status_code == 403
    assert kader.get(f"/laporan/posyandu/{tree.posyandu['A2'].id}").status_code == 404
    own = kader.get(f"/laporan/?bulan={MONTH}").get_data(as_text=True)
    assert "Posyandu A1" in own
    clerk = login("clerk_a")
    assert clerk.get(f"/laporan/kelurahan/{tree.kelurahan['B'].id}").status_code == 404
    assert clerk.get(f"/laporan/posyandu/{tree.posyandu['C1'].id}/daftar/S?bulan={MONTH}").status_code == 404
    admin_e = login("admin_e")
    lst = admin_e.get(f"/laporan/kabupaten/daftar/S?bulan={MONTH}").get_data(as_text=True)
    assert "Anak Sepuluh" in lst and "Anak Satu" not in lst


def test_trend_svg_is_csp_safe(tree, month, login):
    resp = login("ketua_a1").get(f"/laporan/posyandu/{tree.posyandu['A1'].id}/tren.svg?bulan={MONTH}")
    svg = resp.get_data(as_text=True)
    assert resp.mimetype == "image/svg+xml" and svg.startswith("<svg") and "style" not in svg
    assert svg.count("<polyline") >= 1 and "Stunting" in svg


def test_report_pdf_parses_and_renders(tree, month, login, tmp_path):
    resp = login("ketua_a1").get(f"/laporan/posyandu/{tree.posyandu['A1'].id}/laporan.pdf?bulan={MONTH}")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(resp.data))
    page = reader.pages[0]
    assert round(float(page.mediabox.width)) == 842 and round(float(page.mediabox.height)) == 595  # A4 landscape
    text = "".join(p.extract_text() for p in reader.pages)
    assert "SKDN" in text and "Posyandu A1" in text and "Cakupan ILP" in text
    assert "83,3" in text and "40,0" in text  # K/S and N/D
    if shutil.which("pdftoppm"):
        out = ROOT / "screenshots" / "report-pdf"
        out.parent.mkdir(exist_ok=True)
        (tmp_path / "r.pdf").write_bytes(resp.data)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(tmp_path / "r.pdf"), str(out)],
                       check=True)


def test_report_xlsx(tree, month, login):
    resp = login("admin_d").get(f"/laporan/kabupaten/laporan.xlsx?bulan={MONTH}")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["SKDN", "Indikator", "Kegiatan", "ILP", "Per Posyandu"]
    ws = wb["SKDN"]
    rows = list(ws.iter_rows(values_only=True))
    d_row = next(r for r in rows if r[0] and str(r[0]).startswith("D ·"))
    assert d_row[-1] == 6 and rows[3][-1] == "Jumlah"
    per = {r[0]: r for r in wb["Per Posyandu"].iter_rows(values_only=True)}
    assert per["Posyandu A1"][1:4] == (6, 5, 5)


def test_eppgbm_export(tree, month, login):
    resp = login("admin_d").job_file(f"/laporan/kabupaten/eppgbm.xlsx?bulan={MONTH}")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.data), read_only=True)
    assert wb.sheetnames == ["Data Dasar", "Pertumbuhan"]
    base = list(wb["Data Dasar"].iter_rows(values_only=True))
    assert base[0][:6] == ("No", "No. KK", "NIK", "Nama Anak", "Tanggal Lahir", "Jenis Kelamin")
    assert {"NIK Ibu", "Nama Ibu", "NIK Ayah", "Nama Ayah", "Alamat", "Posyandu", "Puskesmas", "Anak Ke-",
            "Berat Lahir (kg)", "Panjang Lahir (cm)"} <= set(base[0])
    assert len(base) == 1 + 7  # S of district D
    growth = list(wb["Pertumbuhan"].iter_rows(values_only=True))
    head = growth[0]
    assert {"NIK", "Bulan", "Tanggal Pengukuran", "Berat (kg)", "Tinggi/Panjang (cm)", "Lingkar Kepala (cm)",
            "LILA (cm)", "Cara Ukur", "BB/U", "TB/U", "BB/TB"} <= set(head)
    # one row per child weighed in M (c1, c2, c3, c5, c7, c9): the month's last valid weighing, with its date
    names = [r[head.index("Nama Anak")] for r in growth[1:]]
    assert len(growth) == 1 + 6 and len(set(names)) == 6
    by_name = {r[head.index("Nama Anak")]: r for r in growth[1:]}
    assert by_name["Anak Dua"][head.index("Tanggal Pengukuran")].day == 20  # the later of two weighings
    c7 = by_name["Anak Tujuh"]  # a valid weighing on the 3rd, a flagged one on the 25th: the valid one
    assert c7[head.index("Tanggal Pengukuran")].day == 3 and not c7[head.index("Catatan")]
    assert c7[head.index("BB/TB")] == "Gizi kurang"
    c3 = next(r for r in growth[1:] if r[head.index("Nama Anak")] == "Anak Tiga")
    assert c3[head.index("BB/U")] == "Berat badan sangat kurang" and c3[head.index("Cara Ukur")] == "Terlentang"
    assert login("kader_a1").post(f"/laporan/posyandu/{tree.posyandu['A1'].id}/eppgbm.xlsx").status_code == 403


def test_home_visit_tasks_and_recording_closes_one(tree, login):
    from posyandu.services.home_visits import home_visits_by_kader, home_visits_count

    c = login("kader_a1")
    page = c.get("/kunjungan-rumah/").get_data(as_text=True)
    assert "Ibu A1" in page and "Tidak hadir di hari buka terakhir" in page  # pregnant, not at last week's session
    mother = tree.people["mother_A1"]
    key = f"absent:{tree.sessions['A1'].held_on}"
    url = f"/kunjungan-rumah/catat/{mother.id}?tugas={key}"
    form = c.get(url).get_data(as_text=True)
    assert "Kader Satu" in form
    kader = db.session.scalar(select(Kader).where(Kader.name == "Kader Satu"))
    data = {"visited_on": date.today().isoformat(), "kader_id": kader.id, "findings": "Ibu sehat",
            "advice": "Datang ke hari buka", "idempotency_key": "hv-1", "task_key": key}
    assert c.post(url, data).status_code == 303
    assert c.post(url, data).status_code == 303  # posted twice: one visit
    assert db.session.scalar(select(func.count()).select_from(HomeVisit)) == 1
    after = c.get("/kunjungan-rumah/").get_data(as_text=True)
    assert f"tugas={key.replace(':', '%3A')}" not in after and "Ibu sehat" not in after and "Kader Satu" in after
    assert home_visits_count(kader.id, date.today()) == 1
    assert home_visits_count(kader.id, dom.shift_month(date.today(), -1)) == 0
    # the grouped count an incentive batch uses: one query for all its kader
    assert home_visits_by_kader([kader.id, 10**9], date.today()) == {kader.id: 1}
    # another Posyandu's person: 404; a task code that does not exist: 404
    assert c.get(f"/kunjungan-rumah/catat/{tree.people['mother_A2'].id}").status_code == 404
    assert c.get(f"/kunjungan-rumah/catat/{mother.id}?tugas=x:1").status_code == 404
    csv_resp = c.get("/kunjungan-rumah/?format=csv")
    assert csv_resp.mimetype == "text/csv"


def test_report_shows_pmk_2020_labels(tree, month, login):
    """Issue 9: the monthly report names gizi buruk/kurang by BB/PB or BB/TB, and BB/U < −3 SD as BGM / berat
    badan sangat kurang — on screen, in the XLSX and in the PDF's data."""
    c = login("admin_d")
    a1 = tree.posyandu["A1"].id
    html = c.get(f"/laporan/posyandu/{a1}?bulan={MONTH}").get_data(as_text=True)
    assert "Gizi buruk (BB/PB atau BB/TB &lt; −3 SD)" in html or "Gizi buruk (BB/PB atau BB/TB < −3 SD)" in html
    assert "Gizi kurang (BB/PB atau BB/TB −3 s.d. &lt; −2 SD)" in html or "Gizi kurang (BB/PB atau BB/TB −3 s.d. < −2 SD)" in html
    assert "berat badan sangat kurang (BB/U" in html
    assert "Gizi buruk (BB/U" not in html and "Gizi kurang (BB/U" not in html
    wb = load_workbook(io.BytesIO(c.get(f"/laporan/posyandu/{a1}/laporan.xlsx?bulan={MONTH}").data), read_only=True)
    rows = {r[0]: r for r in wb.worksheets[0].iter_rows(values_only=True) if r and r[0]}
    assert rows["Gizi buruk (BB/PB atau BB/TB < −3 SD)"][-1] == 1
    assert rows["Gizi kurang (BB/PB atau BB/TB −3 s.d. < −2 SD)"][-1] == 1


def test_eppgbm_one_row_per_child_from_its_own_posyandu(tree, month, login):
    """Issue 9 item 4: a child weighed twice, and once at another Posyandu, is one row under the Posyandu it
    belongs to; a child with only a flagged weighing keeps that row, marked."""
    from posyandu.models import Measurement

    c9 = month["c9"]  # Posyandu A2; weighed at A1's hari buka later in the month
    db.session.add(Measurement(person_id=c9.id, posyandu_id=tree.posyandu["A1"].id, measured_on=M.replace(day=27),
                               weight_kg=5.9, length_cm=58.0, position="l", age_days=(M.replace(day=27) - c9.birth_date).days,
                               waz=0.2, lhaz=0.3, whz=0.1, ntob="N", flagged=False))
    c5 = month["c5"]
    db.session.add(Measurement(person_id=c5.id, posyandu_id=c5.posyandu_id, measured_on=M.replace(day=28),
                               weight_kg=40.0, age_days=(M.replace(day=28) - c5.birth_date).days, waz=5.6,
                               flagged=True, ntob="N"))
    from .factories import person
    from .report_factories import born, weigh

    only_flagged = person(tree.posyandu["A1"], "Anak Tandai", "P", born(20))
    weigh(only_flagged, M.replace(day=12), "B", waz=-6.4, flagged=True)
    db.session.commit()
    resp = login("admin_d").job_file(f"/laporan/kabupaten/eppgbm.xlsx?bulan={MONTH}")
    growth = list(load_workbook(io.BytesIO(resp.data), read_only=True)["Pertumbuhan"].iter_rows(values_only=True))
    head, rows = growth[0], growth[1:]
    col = {name: head.index(name) for name in head}
    nik_or_name = [r[col["Nama Anak"]] for r in rows]
    assert len(nik_or_name) == len(set(nik_or_name)) == 7  # no child twice
    r9 = next(r for r in rows if r[col["Nama Anak"]] == "Anak Sembilan")
    assert r9[col["Posyandu"]] == "Posyandu A2" and r9[col["Tanggal Pengukuran"]].day == 27
    r5 = next(r for r in rows if r[col["Nama Anak"]] == "Anak Lima")
    assert r5[col["Tanggal Pengukuran"]].day == 10 and not r5[col["Catatan"]]  # the valid one, not the flagged
    flagged = next(r for r in rows if r[col["Nama Anak"]] == "Anak Tandai")
    assert flagged[col["Catatan"]] and flagged[col["Tanggal Pengukuran"]].day == 12
    assert [r[col["No"]] for r in rows] == list(range(1, 8))


def test_report_words_are_indonesian_and_percent_has_no_space(tree, month, login):
    """Issue 11: 'wasting', 'underweight' and the batch state 'paid' were shown untranslated; '84,7 %' spaced;
    the PDF said 'Kabupaten/Kota Kota D'."""
    import re

    from . import incentive_factories as inf

    batch = inf.batch_of(tree, "A1")  # last month's draft
    c = login("admin_d")
    html = c.get(f"/laporan/kelurahan/{tree.kelurahan['A'].id}?bulan={MONTH}").get_data(as_text=True)
    cards = re.sub(r"<[^>]+>", " ", re.search(r'<ul class="stats">.*?</ul>', html, re.S).group(0))  # the words
    for english in ("wasting", "underweight", "approved", "paid", "draft"):
        assert english not in cards.lower(), english
    assert "gizi kurang/buruk" in cards and "berat badan kurang" in cards
    last = f"{batch.month.year:04d}-{batch.month.month:02d}"
    cards = re.sub(r"<[^>]+>", " ", c.get(f"/laporan/kelurahan/{tree.kelurahan['A'].id}?bulan={last}")
                   .get_data(as_text=True))
    assert "insentif draf" in cards and "insentif draft" not in cards
    assert "Wasting" not in html and "Underweight" not in html  # table heads and ranking
    assert re.search(r"\d,\d%", html) and not re.search(r"\d,\d %", html)
    svg = c.get(f"/laporan/kabupaten/tren.svg?bulan={MONTH}").get_data(as_text=True)
    assert "Gizi kurang/buruk" in svg and "BB kurang" in svg and "Wasting" not in svg
    pdf = PdfReader(io.BytesIO(c.job_file(f"/laporan/kabupaten/laporan.pdf?bulan={MONTH}").data)).pages[0].extract_text()
    assert "Laporan bulanan Kota D" in pdf and "Kabupaten/Kota Kota" not in pdf
    pos_pdf = c.get(f"/laporan/posyandu/{tree.posyandu['A1'].id}/laporan.pdf?bulan={MONTH}").data
    assert "Posyandu Posyandu" not in PdfReader(io.BytesIO(pos_pdf)).pages[0].extract_text()
    xlsx = load_workbook(io.BytesIO(c.get(f"/laporan/kabupaten/laporan.xlsx?bulan={MONTH}").data))
    head = next(xlsx["Per Posyandu"].iter_rows(values_only=True))
    assert "Wasting %" not in head and "Gizi kurang/buruk %" in head


def test_every_figure_in_report_tables_carries_its_label_for_phones(tree, month, login):
    """At 360 px a table row becomes a stack of cells: a number without data-label is a bare count."""
    import re

    html = login("admin_d").get(f"/laporan/kabupaten?bulan={MONTH}").get_data(as_text=True)
    cells = re.findall(r'<td class="num"[^>]*>', html)
    assert cells and all("data-label=" in td for td in cells), [td for td in cells if "data-label=" not in td][:3]
    ranking = html[html.index('id="peringkat"'):]
    assert 'data-label="Peringkat"' in ranking


def test_list_of_new_stunting_names_the_indicator_of_its_figures(tree, month, login):
    c = login("admin_d")
    a1 = tree.posyandu["A1"].id
    html = c.get(f"/laporan/posyandu/{a1}/daftar/new_stunting?bulan={MONTH}").get_data(as_text=True)
    assert "<th>z-skor PB/U atau TB/U</th>" in html and "Anak Dua" in html and "-2,50" in html
    rows = list(csv.reader(io.StringIO(c.get(f"/laporan/posyandu/{a1}/daftar/new_stunting?bulan={MONTH}&format=csv")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][-1] == "z-skor PB/U atau TB/U" and rows[1][-1] == "-2,50"
    risk = c.get(f"/laporan/posyandu/{a1}/daftar/at_risk?bulan={MONTH}").get_data(as_text=True)
    assert "<th>Alasan</th>" in risk and risk.index("Anak Tiga") < risk.index("Anak Satu")  # most urgent first


def test_eppgbm_follows_the_posyandu_of_the_month_after_a_transfer(tree, month, login):
    """A child who moved from A1 to A2 after the month is exported for that month by A1 (where it belonged),
    once, and not by A2."""
    from posyandu.models import PersonTransfer

    c1 = month["c1"]
    after = dom.shift_month(M, 1).replace(day=5)
    db.session.add(PersonTransfer(person_id=c1.id, from_posyandu_id=tree.posyandu["A1"].id,
                                  to_posyandu_id=tree.posyandu["A2"].id, moved_on=after, status="approved"))
    c1.posyandu_id = tree.posyandu["A2"].id
    db.session.commit()
    c = login("admin_d")

    def names(url):
        wb = load_workbook(io.BytesIO(c.job_file(url).data), read_only=True)
        out = {}
        for sheet in ("Data Dasar", "Pertumbuhan"):
            rows = list(wb[sheet].iter_rows(values_only=True))
            col = {n: i for i, n in enumerate(rows[0])}
            out[sheet] = [(r[col["Nama Anak"]], r[col["Posyandu"]]) for r in rows[1:]]
        return out

    a1 = names(f"/laporan/posyandu/{tree.posyandu['A1'].id}/eppgbm.xlsx?bulan={MONTH}")
    a2 = names(f"/laporan/posyandu/{tree.posyandu['A2'].id}/eppgbm.xlsx?bulan={MONTH}")
    whole = names(f"/laporan/kabupaten/eppgbm.xlsx?bulan={MONTH}")
    for sheet in ("Data Dasar", "Pertumbuhan"):
        assert ("Anak Satu", "Posyandu A1") in a1[sheet]
        assert "Anak Satu" not in [n for n, _ in a2[sheet]]
        assert [n for n, _ in whole[sheet]].count("Anak Satu") == 1
