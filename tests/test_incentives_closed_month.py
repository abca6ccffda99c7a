"""Pay from closed months (issue 13): a batch pays only from approved Posyandu-months and holds the others' kader
at zero with the reason; its inputs are the approved month's snapshot section, so raw changes to a closed month's
rows leave the batch and the slips byte-identical; "laporan tepat waktu" is a policy condition."""
from datetime import date, datetime

import pytest
from sqlalchemy import select, text

from posyandu.domain import incentives as dom
from posyandu.domain.incentives import KaderMonth, Policy, Reduction, RoleSpan, compute_line
from posyandu.extensions import db
from posyandu.models import Commitment, IncentivePolicy, PosyanduMonth
from posyandu.pdf.incentives import daftar_pdf, slips_pdf
from posyandu.services import incentives as svc
from posyandu.services import months

from .incentive_factories import approve_month, policy_data, reopen_month
from .test_incentives import NOV, hari_buka, kader, line_of, sign

EARLY = date(2024, 1, 1)
LATE = "Laporan bulan Posyandu terlambat"
ON_TIME = {"on_time_required": True, "on_time_cut_kind": "percent", "on_time_cut_value": 2000,
           "on_time_cut_reason": LATE}


# --- the rule, pure ----------------------------------------------------------------------------------------------

def _km(**kw) -> KaderMonth:
    base = dict(kader_id=1, name="Siti", roles=[RoleSpan("kader", EARLY, None, "Melati")], hari_buka_held=1,
                hari_buka_attended=1, commitment_signed=True, home_visits=3, report_on_time=True)
    base.update(kw)
    return KaderMonth(**base)


def test_a_kader_of_a_month_not_approved_is_held_at_zero_with_the_reason():
    policy = Policy(valid_from=NOV, amount=1_000_000, pph21_bp=250, bpjs_deduction=True,
                    require={"attendance": Reduction("percent", 5000, "Tidak hadir")})
    line = compute_line(policy, NOV, _km(unapproved=("Mawar",), hari_buka_attended=0, bpjs_enrolled=True))
    assert (line.prorated, line.gross, line.pph21, line.bpjs, line.net) == (1_000_000, 0, 0, 0, 0)
    assert [(c.code, c.amount, c.reason) for c in line.cuts] == [("month_open", 1_000_000, dom.MONTH_HOLD_REASON)]
    assert dom.MONTH_HOLD_REASON == "Laporan bulan belum disetujui"
    assert any("Mawar" in n and "belum disetujui" in n for n in line.notes)
    assert not any(n.startswith("BPJS") for n in line.notes)  # nothing paid, nothing due
    # a clerk may still pay her by hand, with a reason (an adjustment on the held line)
    paid = dom.adjust(line, 500_000, "Dibayar atas persetujuan lurah", 250, 0)
    assert paid.gross == 500_000 and paid.net == 487_500


def test_the_on_time_condition_cuts_a_late_report_and_is_not_applied_when_unknown():
    policy = Policy(valid_from=NOV, amount=1_000_000, require={"on_time": Reduction("percent", 2000, LATE)})
    assert compute_line(policy, NOV, _km()).gross == 1_000_000
    late = compute_line(policy, NOV, _km(report_on_time=False, late_posyandu=("Mawar",)))
    assert [(c.code, c.amount, c.reason) for c in late.cuts] == [("on_time", 200_000, LATE)]
    assert "Laporan terlambat: Mawar." in late.notes
    unknown = compute_line(policy, NOV, _km(report_on_time=None))
    assert unknown.gross == 1_000_000 and any("tepat waktu tidak diterapkan" in n for n in unknown.notes)
    with pytest.raises(ValueError):
        Policy(valid_from=NOV, amount=1, require={"on_time": Reduction("percent", 2000, "")})  # a reason is required


# --- on the database ---------------------------------------------------------------------------------------------

@pytest.fixture
def crew(tree):
    """Kelurahan A in November 2025: Sari at A1, Tuti at A2, Dua at both; hari buka at both, all present and
    signed, except Absen, absent and unsigned."""
    t = tree
    crew = {"sari": kader(t, "Sari Satu", [("A1", "kader", EARLY, None)], bank_name="BPD", bank_account="0101",
                          bank_account_holder="Sari Satu"),
            "tuti": kader(t, "Tuti Dua", [("A2", "kader", EARLY, None)]),
            "dua": kader(t, "Dua Tempat", [("A1", "kader", EARLY, None), ("A2", "kader", date(2024, 6, 1), None)]),
            "absen": kader(t, "Absen Satu", [("A1", "kader", EARLY, None)])}
    hari_buka(t, "A1", date(2025, 11, 10), present=[crew["sari"], crew["dua"]], absent=[crew["absen"]])
    hari_buka(t, "A2", date(2025, 11, 12), present=[crew["tuti"], crew["dua"]])
    for key in ("sari", "tuti", "dua"):  # the absent kader has not signed either
        sign(crew[key], t, "A1")
    svc.save_policy(t.users["admin_d"], policy_data(
        date(2025, 11, 1), 1_000_000, attendance_required=True, commitment_required=True, **ON_TIME))
    return crew


def _at(monkeypatch, when: datetime):
    """The server's clock at `when` (UTC) for the month steps: on time is what the server measures."""
    monkeypatch.setattr(months, "utcnow", lambda: when)


def test_approved_and_not_approved_posyandu_in_one_kelurahan(app, tree, crew, login, monkeypatch):
    _at(monkeypatch, datetime(2025, 12, 2, 2))  # 2 December: within the 5 days
    approve_month(tree, "A1", NOV)
    batch = svc.compute(tree.users["clerk_a"], tree.kelurahan["A"], NOV)
    sari, tuti, dua = (line_of(batch, crew[k]) for k in ("sari", "tuti", "dua"))
    assert sari.gross == 1_000_000 and sari.reductions == []
    for held in (tuti, dua):  # listed, never missing: a zero line with the reason
        assert (held.gross, held.net) == (0, 0)
        assert [r["reason"] for r in held.reductions] == ["Laporan bulan belum disetujui"]
        assert any("Posyandu A2" in n for n in held.notes)
    # Dua serves A1 (approved) and A2 (not): held as a whole until both are approved.
    assert "Posyandu A1" in dua.roles_text and "Posyandu A2" in dua.roles_text
    # The review page names the Posyandu not approved, its state and the month review page; the held reason shows.
    html = login("clerk_a").get(f"/insentif/{batch.id}").get_data(as_text=True)
    assert 'id="bulan-belum-disetujui"' in html
    a2 = tree.posyandu["A2"]
    assert f'href="/bulan/{a2.id}/2025-11"' in html and "Posyandu A2</a> — belum dikirim" in html
    assert f'href="/bulan/{tree.posyandu["A1"].id}/2025-11"' not in html
    assert "2 kader ditahan" in html and "Laporan bulan belum disetujui" in html
    # Wait, then recompute: A2 is approved, everyone is paid.
    approve_month(tree, "A2", NOV)
    svc.recompute(tree.users["clerk_a"], batch)
    assert [line_of(batch, crew[k]).gross for k in ("sari", "tuti", "dua")] == [1_000_000] * 3
    html = login("clerk_a").get(f"/insentif/{batch.id}").get_data(as_text=True)
    assert 'id="bulan-belum-disetujui"' not in html


def test_pay_without_them_then_a_correction_pays_the_held_once_approved(app, tree, crew, monkeypatch):
    _at(monkeypatch, datetime(2025, 12, 2, 2))
    approve_month(tree, "A1", NOV)
    batch = svc.compute(tree.users["clerk_a"], tree.kelurahan["A"], NOV)
    svc.approve(tree.users["admin_d"], batch)
    svc.mark_paid(tree.users["clerk_a"], batch, date(2025, 12, 10), "SP2D 1")
    approve_month(tree, "A2", NOV)
    fix = svc.correct(tree.users["clerk_a"], batch)
    assert sorted((ln.kader_id, ln.gross) for ln in fix.lines) == sorted(
        [(crew["tuti"].id, 1_000_000), (crew["dua"].id, 1_000_000)])


def test_the_on_time_condition_cuts_the_kader_of_a_late_posyandu(app, tree, crew, monkeypatch):
    _at(monkeypatch, datetime(2025, 12, 3, 1))  # 3 December WITA: on time (deadline 5 December)
    approve_month(tree, "A1", NOV)
    _at(monkeypatch, datetime(2025, 12, 20, 1))  # 20 December: late
    approve_month(tree, "A2", NOV)
    pms = {pm.posyandu_id: pm.on_time for pm in db.session.scalars(select(PosyanduMonth))}
    assert pms == {tree.posyandu["A1"].id: True, tree.posyandu["A2"].id: False}
    batch = svc.compute(tree.users["clerk_a"], tree.kelurahan["A"], NOV)
    assert line_of(batch, crew["sari"]).gross == 1_000_000
    tuti = line_of(batch, crew["tuti"])
    assert tuti.reductions == [{"code": "on_time", "amount": 200_000, "reason": LATE}]
    assert tuti.gross == 800_000 and "Laporan terlambat: Posyandu A2." in tuti.notes
    # Dua served both: one late report is enough to miss the condition.
    assert line_of(batch, crew["dua"]).reductions[0]["code"] == "on_time"
    # the absent kader of the on-time Posyandu loses her own shares, not the report's
    assert [r["code"] for r in line_of(batch, crew["absen"]).reductions] == ["attendance", "commitment"]
    # the reason is printed on her slip
    from .test_incentives_pdf import read

    doc = svc.document_data(batch, on=date(2025, 12, 21))
    doc["lines"] = [ln for ln in doc["lines"] if ln["name"] == "Tuti Dua"]
    _, words = read(slips_pdf(doc, 1))
    assert LATE in words


def _documents(batch) -> tuple[list, bytes, bytes]:
    db.session.expire_all()
    doc = svc.document_data(batch, on=date(2025, 12, 5), preparer="Petugas")
    lines = [{k: v for k, v in ln.items()} for ln in doc["lines"]]
    return lines, slips_pdf(doc, 3), daftar_pdf(doc)


def _without_freeze(app):
    """The database triggers of the month freeze, off for a raw change (as a careless script would need)."""
    class Off:
        def __enter__(self):
            with db.engine.begin() as conn:
                if app.backend == "sqlite":
                    for (name,) in conn.execute(text(
                            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%month_closed%'"
                    )).all():
                        conn.execute(text(f"DROP TRIGGER {name}"))
                else:
                    conn.execute(text("ALTER TABLE duty DISABLE TRIGGER USER"))

        def __exit__(self, *exc):
            if app.backend != "sqlite":  # the schema is shared by the next tests: put the triggers back
                with db.engine.begin() as conn:
                    conn.execute(text("ALTER TABLE duty ENABLE TRIGGER USER"))
    return Off()


def test_raw_changes_to_a_closed_month_leave_the_batch_and_slips_byte_identical(app, tree, crew, monkeypatch):
    _at(monkeypatch, datetime(2025, 12, 2, 2))
    approve_month(tree, "A1", NOV)
    approve_month(tree, "A2", NOV)
    clerk = tree.users["clerk_a"]
    batch = svc.compute(clerk, tree.kelurahan["A"], NOV)
    lines, slips, daftar = _documents(batch)
    assert slips_pdf(svc.document_data(batch, on=date(2025, 12, 5), preparer="Petugas"), 3) == slips  # stable
    sari, tuti, absen = crew["sari"].id, crew["tuti"].id, crew["absen"].id
    a1 = tree.posyandu["A1"].id
    db.session.commit()
    with _without_freeze(app):
        with db.engine.begin() as conn:
            # Sari's attendance struck out, the absent kader marked present and given a signed commitment, Tuti's
            # role ended on the 5th, A1's report marked late: each would change the figures if read live.
            conn.execute(text(f"UPDATE duty SET present = {'false' if app.backend != 'sqlite' else '0'} "
                              f"WHERE kader_id = {sari}"))
            conn.execute(text(f"UPDATE duty SET present = {'true' if app.backend != 'sqlite' else '1'} "
                              f"WHERE kader_id = {absen}"))
            conn.execute(text(f"UPDATE kader_role SET end_date = '2025-11-05' WHERE kader_id = {tuti}"))
            cols = [c.name for c in Commitment.__table__.columns if c.name not in ("id", "uuid", "kader_id")]
            conn.execute(text(f"INSERT INTO commitment (uuid, kader_id, {', '.join(cols)}) SELECT 'raw-1', {absen}, "
                              f"{', '.join(cols)} FROM commitment WHERE kader_id = {sari}"))
            conn.execute(text(f"UPDATE posyandu_month SET on_time = {'false' if app.backend != 'sqlite' else '0'}"
                              f" WHERE posyandu_id = {a1}"))
    db.session.expire_all()
    svc.recompute(clerk, batch)
    after = _documents(batch)
    assert after == (lines, slips, daftar)
    # The control: the same changes, taken into a new snapshot by reopening and approving again, do change it.
    reopen_month(tree, "A1", NOV, "Data kehadiran diperbaiki")
    reopen_month(tree, "A2", NOV, "Peran Tuti berakhir")
    approve_month(tree, "A1", NOV)
    approve_month(tree, "A2", NOV)
    svc.recompute(clerk, batch)
    changed, new_slips, _ = _documents(batch)
    assert new_slips != slips
    by_name = {ln["name"]: ln for ln in changed}
    assert by_name["Tuti Dua"]["days_served"] == 5
    assert [r["code"] for r in by_name["Sari Satu"]["reductions"]] == ["attendance", "on_time"]
    assert [r["code"] for r in by_name["Absen Satu"]["reductions"]] == ["on_time"]  # present and signed now


def test_the_snapshot_keeps_the_incentive_inputs_of_the_month(app, tree, crew, monkeypatch):
    _at(monkeypatch, datetime(2025, 12, 2, 2))
    approve_month(tree, "A1", NOV)
    section = months.snapshots([tree.posyandu["A1"].id], NOV)[tree.posyandu["A1"].id]["incentive"]
    assert section["hari_buka_held"] == 1 and section["on_time"] is True
    entries = {e["id"]: e for e in section["kader"]}
    assert set(entries) >= {crew["sari"].id, crew["dua"].id, crew["absen"].id}
    assert crew["tuti"].id not in entries  # she serves A2 only
    assert entries[crew["sari"].id]["present"] == 1 and entries[crew["absen"].id]["present"] == 0
    assert entries[crew["sari"].id]["commitment_signed"] is True
    assert [r[1:] for r in entries[crew["dua"].id]["roles"]] == [["kader", "2024-01-01", None]]


def test_policy_form_saves_the_on_time_condition(app, tree, login):
    from .test_incentives_routes import POLICY

    c = login("admin_d")
    page = c.get("/insentif/kebijakan").get_data(as_text=True)
    assert 'name="on_time_required"' in page and 'name="on_time_cut_reason"' in page
    bad = c.post("/insentif/kebijakan", dict(POLICY, on_time_required="y", on_time_cut_kind="percent",
                                             on_time_cut_value="20", on_time_cut_reason="", idempotency_key="o1"))
    assert bad.status_code == 422 and "alasan dicetak pada slip" in bad.get_data(as_text=True)
    ok = c.post("/insentif/kebijakan", dict(POLICY, on_time_required="y", on_time_cut_kind="amount",
                                            on_time_cut_value="100.000", on_time_cut_reason=LATE,
                                            idempotency_key="o2"))
    assert ok.status_code == 303
    p = db.session.scalar(select(IncentivePolicy))
    assert (p.on_time_required, p.on_time_cut_kind, p.on_time_cut_value, p.on_time_cut_reason) == (
        True, "amount", 100_000, LATE)
    assert "laporan tepat waktu" in c.get("/insentif/kebijakan").get_data(as_text=True)
    edit = c.get(f"/insentif/kebijakan/{p.id}").get_data(as_text=True)
    assert 'name="on_time_required"' in edit and LATE in edit


def test_the_batch_list_says_which_kelurahan_are_not_all_approved_before_computing(app, tree, login):
    from .incentive_factories import last_month

    approve_month(tree, "A1", last_month())
    html = login("clerk_a").get("/insentif/").get_data(as_text=True)
    assert 'id="belum-disetujui"' in html and "Kelurahan A — 1 dari 2 Posyandu disetujui" in html
    approve_month(tree, "A2", last_month())
    html = login("clerk_a").get("/insentif/").get_data(as_text=True)
    assert 'id="belum-disetujui"' not in html and "sudah disetujui" in html
    assert svc.approval_counts([tree.kelurahan["A"].id, tree.kelurahan["B"].id], last_month()) == {
        tree.kelurahan["A"].id: (2, 2), tree.kelurahan["B"].id: (0, 2)}


def test_a_month_approved_before_the_incentive_section_existed_still_pays(app, tree, crew, monkeypatch):
    _at(monkeypatch, datetime(2025, 12, 2, 2))
    approve_month(tree, "A1", NOV)
    pm = db.session.scalar(select(PosyanduMonth).where(PosyanduMonth.posyandu_id == tree.posyandu["A1"].id))
    pm.snapshot = {k: v for k, v in pm.snapshot.items() if k != "incentive"}  # as approved by the core alone
    db.session.commit()
    assert "incentive" not in {s.name for s in pm.sections}
    batch = svc.compute(tree.users["clerk_a"], tree.kelurahan["A"], NOV)
    assert line_of(batch, crew["sari"]).gross == 1_000_000  # built from the frozen rows, not left out
    assert [r["code"] for r in line_of(batch, crew["absen"]).reductions] == ["attendance", "commitment"]
