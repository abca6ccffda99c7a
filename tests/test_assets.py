"""The Posyandu's kit: the check rule, the register (add/edit/retire, audited, scoped), the hari buka warning for a
scale past its check, and the district totals."""
from datetime import date, timedelta

import pytest

from posyandu.domain import assets as dom
from posyandu.extensions import db
from posyandu.models import Asset, AuditLog
from posyandu.services import assets


# --- the rule -----------------------------------------------------------------------------------------------------

def test_next_check_adds_the_interval_and_clamps_the_day():
    assert dom.next_check(date(2025, 3, 15)) == date(2026, 3, 15)
    assert dom.next_check(date(2025, 3, 15), 6) == date(2025, 9, 15)
    assert dom.next_check(date(2024, 8, 31), 6) == date(2025, 2, 28)
    assert dom.next_check(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert dom.next_check(None) is None


@pytest.mark.parametrize("kind, checked, months, expected", [
    ("baby_scale", date(2025, 6, 1), None, "ok"),
    ("baby_scale", date(2025, 6, 1), 6, "overdue"),
    ("standing_scale", date(2025, 3, 20), None, "due_soon"),
    ("dacin", date(2025, 3, 1), None, "overdue"),
    ("tensimeter", None, None, "never"),
    ("laptop", None, None, None),
    ("lila_tape", date(2020, 1, 1), None, None),
])
def test_check_state(kind, checked, months, expected):
    assert dom.check_state(kind, checked, months, date(2026, 3, 2)) == expected


def test_only_usable_scales_warn():
    on = date(2026, 3, 2)
    assert dom.needs_warning("baby_scale", "baik", date(2024, 1, 1), None, on)
    assert dom.needs_warning("standing_scale", "rusak_ringan", None, None, on)
    assert not dom.needs_warning("baby_scale", "rusak_berat", date(2024, 1, 1), None, on)
    assert not dom.needs_warning("baby_scale", "hilang", None, None, on)
    assert not dom.needs_warning("tensimeter", "baik", None, None, on)  # listed for the district, not meja 2
    assert not dom.needs_warning("baby_scale", "baik", on - timedelta(days=30), None, on)


# --- the register -------------------------------------------------------------------------------------------------

def _item(t, key, kind, checked=None, **kw):
    a = Asset(posyandu_id=t.posyandu[key].id, kind=kind, checked_on=checked, condition=kw.pop("condition", "baik"),
              **kw)
    db.session.add(a)
    db.session.commit()
    return a


def test_add_edit_retire_audited_and_posted_twice_once(tree, login):
    pos = tree.posyandu["A1"]
    ketua = login("ketua_a1")
    form = {"kind": "baby_scale", "label": "TB-BTG-0012", "received_on": "2025-02-10",
            "source": "APBD Kota Bontang 2025", "condition": "baik", "checked_on": "2025-02-10", "check_months": "",
            "idempotency_key": "k" * 32}
    assert ketua.post(f"/posyandu/{pos.id}/inventaris/baru", form).status_code == 303
    assert ketua.post(f"/posyandu/{pos.id}/inventaris/baru", form).status_code == 303
    items = db.session.scalars(db.select(Asset).where(Asset.posyandu_id == pos.id)).all()
    assert len(items) == 1 and items[0].source == "APBD Kota Bontang 2025" and items[0].check_months is None
    a = items[0]
    # A check date on a laptop is refused; a tape gets none.
    bad = dict(form, kind="laptop", idempotency_key="z" * 32)
    assert ketua.post(f"/posyandu/{pos.id}/inventaris/baru", bad).status_code == 422
    resp = ketua.post(f"/inventaris/{a.id}/ubah", {"kind": "baby_scale", "label": "TB-BTG-0012",
                                                    "condition": "rusak_ringan", "checked_on": "2025-12-01",
                                                    "source": "APBD Kota Bontang 2025"})
    assert resp.status_code == 303
    a = db.session.get(Asset, a.id)
    assert (a.condition, a.checked_on) == ("rusak_ringan", date(2025, 12, 1))
    assert ketua.post(f"/inventaris/{a.id}/keluarkan", {"retired_on": date.today().isoformat(),
                                                       "retired_reason": ""}).status_code == 422
    assert ketua.post(f"/inventaris/{a.id}/keluarkan", {"retired_on": date.today().isoformat(),
                                                       "retired_reason": "Rusak berat, diganti"}).status_code == 303
    a = db.session.get(Asset, a.id)
    assert a.retired_reason == "Rusak berat, diganti" and assets.register(pos.id) == []
    html = ketua.get(f"/posyandu/{pos.id}/inventaris").get_data(as_text=True)
    assert "Rusak berat, diganti" in html
    actions = db.session.scalars(db.select(AuditLog.action).where(AuditLog.entity == "asset",
                                                                  AuditLog.entity_id == a.id)).all()
    assert actions.count("create") == 1 and actions.count("update") == 2


def test_register_is_scoped_and_gated(tree, login):
    a = _item(tree, "A2", "laptop", label="LPT-7")
    assert login("ketua_a1").get(f"/inventaris/{a.id}/ubah").status_code == 404
    assert login("ketua_a1").get(f"/posyandu/{tree.posyandu['A2'].id}/inventaris").status_code == 404
    assert login("clerk_a").get(f"/inventaris/{a.id}/ubah").status_code == 200
    assert login("admin_e").get(f"/inventaris/{a.id}/ubah").status_code == 404
    assert login("nakes_a").post(f"/inventaris/{a.id}/keluarkan", {"retired_on": "2025-01-01",
                                                                   "retired_reason": "x"}).status_code == 403
    assert login("kader_a1").get("/inventaris/").status_code == 403


def test_hari_buka_warns_when_a_scale_is_past_its_check(tree, login):
    hb = tree.sessions["A1"]
    ketua = login("ketua_a1")
    assert "scale-check-" not in ketua.get(f"/hari-buka/{hb.id}").get_data(as_text=True)
    _item(tree, "A1", "baby_scale", date.today() - timedelta(days=200), label="TB-1")  # within its check
    _item(tree, "A1", "tensimeter", None)
    assert "scale-check-" not in ketua.get(f"/hari-buka/{hb.id}").get_data(as_text=True)
    _item(tree, "A1", "standing_scale", date.today() - timedelta(days=400), label="TBD-9")
    _item(tree, "A1", "baby_scale", None, label="TB-LOST", condition="hilang")
    for url in (f"/hari-buka/{hb.id}", f"/hari-buka/{hb.id}/meja/2"):
        html = ketua.get(url).get_data(as_text=True)
        assert "scale-check-" in html and "TBD-9" in html and "TB-LOST" not in html and "TB-1 " not in html, url
    visit = hb.visits[0]
    html = ketua.get(f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja/2").get_data(as_text=True)
    assert "TBD-9" in html
    # Another Posyandu's session says nothing of A1's scale.
    assert "scale-check-" not in login("admin_d").get(f"/hari-buka/{tree.sessions['A2'].id}").get_data(as_text=True)


def test_district_totals_by_kind_and_due_checks(tree, login):
    for _ in range(3):
        _item(tree, "A1", "laptop")
    _item(tree, "B1", "laptop", condition="rusak_berat")
    _item(tree, "B2", "baby_scale", date.today() - timedelta(days=500))
    _item(tree, "A2", "tensimeter", None)
    gone = _item(tree, "A2", "head_tape")
    gone.retired_on, gone.retired_reason = date.today(), "hilang"
    _item(tree, "C1", "laptop")
    db.session.commit()
    t = assets.totals(tree.users["admin_d"], date.today())
    assert t.by_kind["laptop"]["total"] == 4 and t.by_kind["laptop"]["rusak_berat"] == 1
    assert t.by_kind["head_tape"]["total"] == 0
    assert {a.kind for a, _, _ in t.overdue} == {"baby_scale", "tensimeter"}
    assert (t.posyandu_count, t.with_kit) == (4, 4)
    assert assets.totals(tree.users["clerk_a"], date.today()).by_kind["laptop"]["total"] == 3
    admin = login("admin_d")
    html = admin.get("/inventaris/").get_data(as_text=True)
    assert "Laptop" in html and "Posyandu B2" in html
    resp = admin.get("/inventaris/?format=csv")
    text = resp.get_data().decode("utf-8-sig")
    assert "attachment" in resp.headers["Content-Disposition"] and text.count("\r\n") == 7  # header + 6 live items
