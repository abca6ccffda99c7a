"""Home visits that guide a visit (issue 11 item 7): urgent tasks first, where to go and whom to call, and a
bidan's whole area on one list."""
from datetime import date, timedelta

from sqlalchemy import event

from posyandu.extensions import db
from posyandu.models import Measurement
from posyandu.services import home_visits as svc


def _two_t(child, on):
    db.session.add(Measurement(person_id=child.id, posyandu_id=child.posyandu_id, measured_on=on, weight_kg=9.0,
                               ntob="T", two_t=True))


def test_urgent_tasks_come_before_absences(tree):
    today = date.today()
    child, mother = tree.people["child_A1"], tree.people["mother_A1"]
    _two_t(child, today - timedelta(days=20))  # weighed before last week's session: the absence is more recent
    db.session.commit()
    codes = [(t.person_id, t.code) for t in svc.open_tasks(tree.posyandu["A1"].id, today)]
    assert codes.index((child.id, "2T")) < codes.index((mother.id, "absent"))
    ranks = [svc.URGENCY[code] for _pid, code in codes]
    assert ranks == sorted(ranks)


def test_task_list_and_visit_page_say_where_to_go_and_whom_to_call(tree, login):
    child, mother = tree.people["child_A1"], tree.people["mother_A1"]
    child.address, child.rt, child.rw = "Jl. Mawar 5", "003", "011"
    mother.phone = "081234567890"
    _two_t(child, date.today() - timedelta(days=20))
    db.session.commit()
    c = login("kader_a1")
    page = c.get("/kunjungan-rumah/").get_data(as_text=True)
    card = page.split(f'href="/sasaran/{child.id}"')[1].split("</li>")[0]
    assert "Jl. Mawar 5, RT 003/RW 011" in card and "Ibu: Ibu A1" in card and 'href="tel:081234567890"' in card
    listed = page.split('<ol class="tasks">')[1]
    assert listed.index("2T") < listed.index("Tidak hadir di hari buka terakhir")
    key = f"2T:{date.today() - timedelta(days=20)}"
    visit = c.get(f"/kunjungan-rumah/catat/{child.id}?tugas={key}").get_data(as_text=True)
    assert "Jl. Mawar 5, RT 003/RW 011" in visit and "Ibu: Ibu A1" in visit and "tel:081234567890" in visit


def test_bidan_sees_her_whole_area_without_choosing(tree, login):
    c = login("nakes_a")
    page = c.get("/kunjungan-rumah/").get_data(as_text=True)
    assert "semua Posyandu" in page
    assert "Ibu A1" in page and "Ibu A2" in page  # both Posyandu of Puskesmas A, each absent last week
    assert "Posyandu A1" in page and "Posyandu A2" in page
    assert "Ibu B1" not in page  # another Puskesmas
    one = c.get(f"/kunjungan-rumah/?posyandu={tree.posyandu['A2'].id}").get_data(as_text=True)
    assert "Ibu A2" in one and "Ibu A1" not in one
    assert c.get(f"/kunjungan-rumah/?posyandu={tree.posyandu['B1'].id}").status_code == 404


def test_area_tasks_take_the_same_queries_for_one_posyandu_or_many(tree):
    today = date.today()
    counts = []
    for ids in ([tree.posyandu["A1"].id], [p.id for p in tree.posyandu.values()]):
        n = [0]

        def count(*_args, **_kw):
            n[0] += 1
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            got = svc.open_tasks(ids, today)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        counts.append(n[0])
    assert counts[0] == counts[1], counts
    assert {t.code for t in got} >= {"absent"} and len({t.person_id for t in got}) >= 6


def test_a_mother_registered_elsewhere_shows_only_her_initial(tree, login):
    child, mother = tree.people["child_A1"], tree.people["mother_A1"]
    mother.posyandu_id, mother.phone = tree.posyandu["B1"].id, "081200000001"
    _two_t(child, date.today() - timedelta(days=20))
    db.session.commit()
    page = login("kader_a1").get("/kunjungan-rumah/").get_data(as_text=True)
    card = page.split(f'href="/sasaran/{child.id}"')[1].split("</li>")[0]
    assert "Ibu A1" not in card and "081200000001" not in card and "terdaftar di Posyandu lain" in card


def test_csv_export_says_where_to_go_and_whom_to_call(tree, login):
    """The CSV a kader prints for her round has the task list's address, RT/RW, phone and mother columns."""
    import csv
    import io

    child, mother = tree.people["child_A1"], tree.people["mother_A1"]
    child.address, child.rt, child.rw, child.phone = "Jl. Mawar 5", "003", "011", "081100000001"
    mother.phone = "081234567890"
    _two_t(child, date.today() - timedelta(days=20))
    db.session.commit()
    resp = login("kader_a1").get("/kunjungan-rumah/?format=csv")
    assert resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    head = rows[0]
    assert head[:10] == ["No", "Nama", "NIK", "Posyandu", "Alamat", "RT", "RW", "No. HP", "Ibu", "No. HP ibu"]
    row = next(dict(zip(head, r)) for r in rows[1:] if r[1] == child.name and r[head.index("Tugas")] == "2T")
    assert (row["Alamat"], row["RT"], row["RW"], row["No. HP"]) == ("Jl. Mawar 5", "003", "011", "081100000001")
    assert (row["Ibu"], row["No. HP ibu"], row["Posyandu"]) == ("Ibu A1", "081234567890", "Posyandu A1")
    assert all(len(r) == len(head) for r in rows)
