"""Month close, the pages: the review page of a Posyandu-month (what is missing, the timeline, the steps), the
steps posted by each level, refusals (scope, role, reason, previous month), double posts, the overview's rates,
the district settings, the frozen-month notice on the session pages, and `flask month status`."""
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from posyandu.domain.reports import month_start, shift_month
from posyandu.extensions import db
from posyandu.models import AuditLog, HariBuka, Measurement, MonthEvent, PosyanduMonth, Visit
from posyandu.services import months

from .factories import person
from .test_replay import COPIES, no_5xx, replay


def _m(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _month(tree) -> date:
    """The month of the tree's hari buka (a week ago): the first month the Posyandu reported in."""
    return month_start(tree.sessions["A1"].held_on)


def _url(tree, key="A1", month=None) -> str:
    return f"/bulan/{tree.posyandu[key].id}/{_m(month or _month(tree))}"


def _post(client, url, action, state, **extra):
    return client.post(url, {"action": action, "state": state, **extra})


def _events(tree, key="A1", month=None) -> list[MonthEvent]:
    return list(db.session.scalars(select(MonthEvent).join(PosyanduMonth).where(
        PosyanduMonth.posyandu_id == tree.posyandu[key].id, PosyanduMonth.month == (month or _month(tree)))
        .order_by(MonthEvent.id)))


def test_the_walk_ketua_submits_nakes_verifies_clerk_approves_and_reopens_with_a_reason(app, tree, login):
    url = _url(tree)
    ketua, nakes, clerk = login("ketua_a1"), login("nakes_a"), login("clerk_a")
    page = ketua.get(url).get_data(as_text=True)
    assert "Kirim laporan" in page and "belum dikirim" in page
    resp = _post(ketua, url, "submit", "open")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(url)
    assert "Laporan dikirim." in ketua.get(url).get_data(as_text=True)
    assert months.state_of(tree.posyandu["A1"].id, _month(tree)) == "submitted"

    assert "Verifikasi" in nakes.get(url).get_data(as_text=True)
    assert _post(nakes, url, "verify", "submitted").status_code == 303
    assert "Setujui" in clerk.get(url).get_data(as_text=True)
    assert _post(clerk, url, "approve", "verified").status_code == 303
    assert months.state_of(tree.posyandu["A1"].id, _month(tree)) == "approved"

    refused = _post(clerk, url, "reopen", "approved", reason="   ")
    assert refused.status_code == 422 and "Tuliskan alasan" in refused.get_data(as_text=True)
    assert months.state_of(tree.posyandu["A1"].id, _month(tree)) == "approved"
    assert _post(clerk, url, "reopen", "approved", reason="Berat Anak A1 salah ketik").status_code == 303
    assert months.state_of(tree.posyandu["A1"].id, _month(tree)) == "open"

    steps = [(e.action, e.actor_id, e.reason) for e in _events(tree)]
    u = tree.users
    assert steps == [("submit", u["ketua_a1"].id, None), ("verify", u["nakes_a"].id, None),
                     ("approve", u["clerk_a"].id, None), ("reopen", u["clerk_a"].id, "Berat Anak A1 salah ketik")]
    page = ketua.get(url).get_data(as_text=True)  # the timeline names the people and the reason
    for name in ("Ketua A1", "Nakes A", "Clerk A", "Berat Anak A1 salah ketik"):
        assert name in page
    assert "tepat waktu" in page  # the first submission was within the deadline and stays counted


def test_steps_outside_scope_or_role_are_refused(app, tree, login):
    url = _url(tree)
    assert login("ketua_a1").get(_url(tree, "A2")).status_code == 404  # another Posyandu
    assert login("admin_e").get(url).status_code == 404  # another district
    assert login("kader_a2").get(url).status_code == 404
    assert _post(login("admin_e"), url, "submit", "open").status_code == 404
    kader = login("kader_a1")
    page = kader.get(url).get_data(as_text=True)
    assert "Kirim laporan" not in page  # the kader sees the month, the ketua sends it
    assert _post(kader, url, "submit", "open").status_code == 403
    assert _post(login("nakes_a"), url, "submit", "open").status_code == 403
    assert _post(login("clerk_a"), url, "approve", "open").status_code == 403
    assert months.month_of(tree.posyandu["A1"].id, _month(tree)) is None
    ketua = login("ketua_a1")
    future = shift_month(date.today(), 1)
    assert ketua.get(_url(tree, month=future)).status_code == 404
    assert ketua.get(f"/bulan/{tree.posyandu['A1'].id}/2026-13").status_code == 404
    assert ketua.get(f"/bulan/{tree.posyandu['A1'].id}/x").status_code == 404
    assert _post(ketua, url, "explode", "open").status_code == 400


def test_a_month_is_refused_while_the_previous_one_is_open(app, tree, login):
    prev = shift_month(_month(tree), -1)
    db.session.add(HariBuka(posyandu_id=tree.posyandu["A1"].id, held_on=prev.replace(day=10)))
    db.session.commit()
    ketua = login("ketua_a1")
    url = _url(tree)
    resp = _post(ketua, url, "submit", "open")
    assert resp.status_code == 422
    text = resp.get_data(as_text=True)
    assert "belum dikirim; kirim dulu bulan itu." in text and f"/bulan/{tree.posyandu['A1'].id}/{_m(prev)}" in text
    assert months.state_of(tree.posyandu["A1"].id, _month(tree)) == "open"
    assert _post(ketua, _url(tree, month=prev), "submit", "open").status_code == 303
    assert _post(ketua, url, "submit", "open").status_code == 303


def test_a_repeated_post_finds_the_month_moved_on_and_adds_nothing(app, tree, login):
    url = _url(tree)
    ketua = login("ketua_a1")
    assert _post(ketua, url, "submit", "open").status_code == 303
    again = _post(ketua, url, "submit", "open")
    assert again.status_code == 303 and again.headers["Location"].endswith(url)
    assert "sudah berubah" in ketua.get(url).get_data(as_text=True)
    assert len(_events(tree)) == 1


def test_fifty_concurrent_submits_make_one_step_and_one_audit_row(app, tree, login):
    ketua = login("ketua_a1")
    mark = db.session.scalar(select(func.coalesce(func.max(AuditLog.id), 0)))
    statuses = replay(app, ketua, _url(tree), {"action": "submit", "state": "open"})
    no_5xx(statuses)
    assert statuses[303] == COPIES, statuses
    assert len(_events(tree)) == 1
    audited = db.session.scalars(select(AuditLog.action).where(AuditLog.id > mark,
                                                               AuditLog.entity == "posyandu_month")).all()
    # As for one post: the month's row created (open), and one audited step to submitted.
    assert sorted(audited) == ["create", "update"], audited


def test_the_review_lists_what_is_missing_with_links_to_fix_it(app, tree, login):
    pos, hb = tree.posyandu["A1"], tree.sessions["A1"]
    month = _month(tree)
    weighed = person(pos, "Anak Ditimbang", "P", hb.held_on - timedelta(days=300))
    odd = person(pos, "Anak Aneh", "L", hb.held_on - timedelta(days=500))
    visit = Visit(hari_buka_id=hb.id, person_id=odd.id, queue_number=2, group="balita", step=3)
    db.session.add(visit)
    db.session.flush()
    db.session.add_all([
        Measurement(person_id=weighed.id, posyandu_id=pos.id, measured_on=hb.held_on, weight_kg=8.0),
        Measurement(person_id=odd.id, posyandu_id=pos.id, visit_id=visit.id, measured_on=hb.held_on,
                    weight_kg=30.0, flagged=True, check_note="BB/U tidak wajar"),
        Measurement(person_id=tree.people["child_A2"].id, posyandu_id=tree.posyandu["A2"].id, measured_on=hb.held_on,
                    weight_kg=30.0, flagged=True, check_note="lain Posyandu")])
    db.session.commit()
    page = login("ketua_a1").get(_url(tree)).get_data(as_text=True)
    missing = page.split("Yang masih kurang")[1].split("Langkah berikutnya")[0]
    # Not weighed this month: the tree's child (queued, never measured); the weighed child is not listed. A child
    # whose only weighing is implausible counts as weighed (D) — its value is listed to be checked.
    assert "Anak A1" in missing and "Anak Ditimbang" not in missing
    assert "Balita belum ditimbang bulan ini</h3>" not in missing or "(1)" in missing
    assert f"/sasaran/{tree.people['child_A1'].id}" in missing
    assert "Anak Aneh" in missing and "BB/U tidak wajar" in missing and "lain Posyandu" not in missing
    assert f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja/2" in missing or f"/{hb.id}/kunjungan/{visit.id}/meja/2" in missing
    assert f"/{hb.id}\"" in missing  # the hari buka still open, linked to its page (to close it)
    assert "Masih ada" in page  # the submit button warns, and still submits
    hb.closed_at = hb.opened_at
    db.session.commit()
    page = login("ketua_a1").get(_url(tree)).get_data(as_text=True)
    assert "Hari buka belum ditutup" not in page
    assert month == _month(tree)


def test_overview_rates_per_level_and_who_has_not_reported(app, tree, login):
    month = _month(tree)
    u, p = tree.users, tree.posyandu
    db.session.add(HariBuka(posyandu_id=p["B1"].id, held_on=month.replace(day=2)))
    today = months.local_date(months.utcnow())
    months.submit(u["ketua_a1"], p["A1"], month, today=today)
    months.submit(u["admin_d"], p["B1"], month, today=today)
    pm = months.month_of(p["B1"].id, month)
    pm.on_time = False  # sent after the deadline
    p["B2"].active = False  # not expected
    db.session.commit()
    from posyandu.services import month_views, scope

    r = month_views.rates(scope.posyandu_ids(u["admin_d"]), month)
    assert (r.whole.expected, r.whole.reported, r.whole.on_time) == (3, 2, 1)
    kel = {name: (x.expected, x.reported, x.on_time) for _id, name, x in r.kelurahan}
    assert kel == {"Kelurahan A": (2, 1, 1), "Kelurahan B": (1, 1, 0)}
    assert {name: x.expected for _id, name, x in r.puskesmas} == {"Puskesmas A": 2, "Puskesmas B": 1}
    assert [x.reported for _id, _n, x in r.kecamatan] == [1, 1]
    assert [row[1] for row in month_views.not_reported(scope.posyandu_ids(u["admin_d"]), month)] == ["Posyandu A2"]

    page = login("admin_d").get(f"/bulan/?bulan={_m(month)}").get_data(as_text=True)
    assert "67%" in page and "33%" in page  # 2 of 3 reported, 1 of 3 on time
    assert f"/bulan/{p['A2'].id}/{_m(month)}" in page and "Per kecamatan" in page
    clerk = login("clerk_a").get(f"/bulan/?bulan={_m(month)}").get_data(as_text=True)
    assert "Posyandu A2" in clerk and "Kelurahan B" not in clerk  # the clerk's kelurahan only
    nakes = login("nakes_a").get(f"/bulan/?bulan={_m(month)}").get_data(as_text=True)
    assert "Menunggu tindakan Anda" in nakes and f"/bulan/{p['A1'].id}/{_m(month)}" in nakes  # A1 awaits her
    own = login("ketua_a1").get("/bulan/").get_data(as_text=True)
    assert f"/bulan/{p['A1'].id}/{_m(month)}" in own and "Posyandu A2" not in own


def test_session_pages_of_an_approved_month_say_so_and_offer_no_forms(app, tree, login):
    hb, pos, u = tree.sessions["A1"], tree.posyandu["A1"], tree.users
    visit = hb.visits[0]
    ketua = login("ketua_a1")
    before = ketua.get(f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja/2").get_data(as_text=True)
    assert 'id="meja2-form"' in before and "dikunci" not in before
    today = months.local_date(months.utcnow())
    months.submit(u["ketua_a1"], pos, hb.held_on, today=today)
    months.verify(u["nakes_a"], pos, hb.held_on, today=today)
    months.approve(u["clerk_a"], pos, hb.held_on, today=today)
    db.session.commit()
    for path in ("", "/meja/1", f"/kunjungan/{visit.id}/meja/2"):
        page = ketua.get(f"/hari-buka/{hb.id}{path}").get_data(as_text=True)
        assert "Bulan ini sudah disetujui dan dikunci" in page, path
        assert 'id="meja2-form"' not in page and "Tutup hari buka" not in page and "Simpan petugas" not in page
    refused = ketua.post(f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja/2", {"weight_kg": "9,5"})
    assert refused.status_code == 409 and "sudah disetujui" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Measurement)) == 0


def test_home_pages_link_to_the_month_due(app, tree, login):
    from posyandu.services import month_views

    due = month_views.due_month(months.local_date(months.utcnow()))
    home = login("ketua_a1").get("/").get_data(as_text=True)
    assert f'/bulan/{tree.posyandu["A1"].id}/{_m(due)}' in home and "belum dikirim" in home
    clerk = login("clerk_a").get("/").get_data(as_text=True)
    assert f"/bulan/?bulan={_m(due)}" in clerk and "0 dari 2 Posyandu sudah mengirim" in clerk
    assert 'href="/bulan/"' in clerk  # the main navigation
    assert 'href="/bulan/"' not in login("kader_a1").get("/").get_data(as_text=True)
    report = login("nakes_a").get("/laporan/").get_data(as_text=True)
    assert "Status pengiriman laporan" in report


def test_month_status_cli_prints_one_tab_separated_line_per_active_posyandu(app, tree):
    month, u, p = _month(tree), tree.users, tree.posyandu
    months.submit(u["ketua_a1"], p["A1"], month, today=months.local_date(months.utcnow()))
    pm = months.month_of(p["A1"].id, month)
    pm.submitted_at = pm.first_submitted_at = datetime(2026, 11, 30, 17, 30)  # 1 December 01:30 WITA
    p["C2"].active = False
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["month", "status", "--month", _m(month)])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines()]
    assert [line[0] for line in lines] == [str(p[k].id) for k in ("A1", "A2", "B1", "B2", "C1")]
    assert lines[0] == [str(p["A1"].id), "Posyandu A1", "submitted", "2026-12-01T01:30:00+08:00", "yes"]
    assert lines[1] == [str(p["A2"].id), "Posyandu A2", "open", "", ""]
    district = runner.invoke(args=["month", "status", "--month", _m(month), "--district", str(tree.districts["E"].id)])
    assert [line.split("\t")[1] for line in district.output.splitlines()] == ["Posyandu C1"]
    assert runner.invoke(args=["month", "status", "--month", "2026-13"]).exit_code != 0
    assert runner.invoke(args=["month", "status"]).exit_code != 0


def test_district_admin_sets_the_on_time_window_and_the_verify_level(app, tree, login):
    admin, d = login("admin_d"), tree.districts["D"]
    assert "5 hari setelah akhir bulan" in admin.get("/wilayah/").get_data(as_text=True)
    form = admin.get("/pengaturan/").get_data(as_text=True)
    assert 'name="timely_days"' in form and 'name="month_verify"' in form
    bad = admin.post("/pengaturan/", {"timely_days": "61", "month_verify": "y"})
    assert bad.status_code == 422 and "Harus antara 0 dan 60" in bad.get_data(as_text=True)
    mark = db.session.scalar(select(func.coalesce(func.max(AuditLog.id), 0)))
    assert admin.post("/pengaturan/", {"timely_days": "10"}).status_code == 303
    db.session.refresh(d)
    assert (d.timely_days, d.month_verify) == (10, False)
    changes = db.session.scalars(select(AuditLog.changes).where(
        AuditLog.id > mark, AuditLog.entity == "district", AuditLog.entity_id == d.id)).all()
    assert len(changes) == 1 and "timely_days" in str(changes[0]) and "month_verify" in str(changes[0])
    assert tree.districts["E"].timely_days == 5  # only the admin's own district
    for user in ("clerk_a", "nakes_a", "ketua_a1"):
        assert login(user).post("/pengaturan/", {"timely_days": "1"}).status_code == 403
    # Without the verify level, the clerk approves a submitted month directly.
    url = _url(tree)
    assert _post(login("ketua_a1"), url, "submit", "open").status_code == 303
    clerk = login("clerk_a")
    assert "Setujui" in clerk.get(url).get_data(as_text=True)
    assert _post(clerk, url, "approve", "submitted").status_code == 303
    assert months.state_of(tree.posyandu["A1"].id, _month(tree)) == "approved"
