"""Issue 9 item 6: the district policy decides whether an unverified kader record is held or paid, and what
board-only roles (sekretaris, bendahara, ketua bidang without kader duties) are paid — never the kader amount
by default."""
from datetime import date

import pytest
from sqlalchemy import select

from posyandu.domain.incentives import HOLD_REASON, KaderMonth, Policy, RoleSpan, compute_line
from posyandu.extensions import db
from posyandu.models import IncentivePolicy
from posyandu.services import incentives as svc

from .incentive_factories import close_months, policy_data
from .test_incentives import NOV, kader, line_of

START = date(2024, 1, 1)


def _line(policy, roles, **kw):
    return compute_line(policy, NOV, KaderMonth(kader_id=1, name="X", roles=roles, **kw), 0)


@pytest.mark.parametrize("hold, gross", [(True, 0), (False, 1_000_000)])
def test_unverified_record_is_held_or_paid_as_the_policy_says(hold, gross):
    policy = Policy(valid_from=NOV, amount=1_000_000, hold_unverified=hold)
    line = _line(policy, [RoleSpan("kader", START, None)], verified=False)
    assert line.gross == gross and line.prorated == 1_000_000
    if hold:
        assert [(c.code, c.amount, c.reason) for c in line.cuts] == [("verification", 1_000_000, HOLD_REASON)]
    else:
        assert "belum terverifikasi" in " ".join(line.notes)
    assert _line(policy, [RoleSpan("kader", START, None)], verified=True).gross == 1_000_000


def test_board_only_roles_are_paid_as_the_policy_says():
    none = Policy(valid_from=NOV, amount=1_000_000)
    own = Policy(valid_from=NOV, amount=1_000_000, board_amount=250_000)
    for role in ("sekretaris", "bendahara", "bidang_kesehatan"):
        assert _line(none, [RoleSpan(role, START, None)]).gross == 0
        assert "tidak menerima insentif" in " ".join(_line(none, [RoleSpan(role, START, None)]).notes)
        assert _line(own, [RoleSpan(role, START, None)]).gross == 250_000
    # a board member who is also kader (or the ketua, who runs the hari buka) is paid as kader, once
    assert _line(none, [RoleSpan("kader", START, None), RoleSpan("sekretaris", START, None)]).gross == 1_000_000
    assert _line(none, [RoleSpan("ketua", START, None)]).gross == 1_000_000
    # kader until 15 November, then bendahara only: 15 days at each amount (November has 30)
    split = [RoleSpan("kader", START, date(2025, 11, 15)), RoleSpan("bendahara", date(2025, 11, 16), None)]
    assert _line(own, split).gross == 500_000 + 125_000
    # paid per role: the board role at the board amount
    per_role = Policy(valid_from=NOV, amount=1_000_000, board_amount=250_000, pay_per_role=True)
    assert _line(per_role, [RoleSpan("kader", START, None), RoleSpan("sekretaris", START, None)]).gross == 1_250_000


def test_batch_holds_unverified_and_returned_records_and_pays_board_as_policy(app, tree):
    admin, clerk = tree.users["admin_d"], tree.users["clerk_a"]
    svc.save_policy(admin, policy_data(NOV, 1_000_000, hold_unverified=True, board_amount=None))
    new = kader(tree, "Baru Belum", [("A1", "kader", START, None)])
    back = kader(tree, "Kembali Data", [("A1", "kader", START, None)], review_status="dikembalikan",
                 return_reason="NIK salah")
    ok = kader(tree, "Sudah Verif", [("A1", "kader", START, None)], review_status="terverifikasi")
    valid = kader(tree, "Sudah Valid", [("A1", "kader", START, None)], review_status="tervalidasi")
    board = kader(tree, "Sekretaris Saja", [("A1", "sekretaris", START, None)], review_status="tervalidasi")
    close_months(tree, NOV, "A1", "A2")  # a batch pays from approved months only (issue 13)
    batch = svc.compute(clerk, tree.kelurahan["A"], NOV)
    for k in (new, back):
        ln = line_of(batch, k)
        assert ln.gross == 0 and ln.net == 0
        assert [r["reason"] for r in ln.reductions] == [HOLD_REASON]
    assert line_of(batch, ok).gross == line_of(batch, valid).gross == 1_000_000
    assert line_of(batch, board).gross == 0
    # the policy page keeps both settings
    policy = db.session.scalar(select(IncentivePolicy).where(IncentivePolicy.valid_from == NOV))
    assert policy.hold_unverified is True and policy.board_amount is None


def test_policy_form_saves_the_hold_and_the_board_amount(app, tree, login):
    from .test_incentives_routes import POLICY

    c = login("admin_d")
    page = c.get("/insentif/kebijakan").get_data(as_text=True)
    assert 'name="hold_unverified"' in page and 'name="board_amount"' in page
    assert c.post("/insentif/kebijakan", dict(POLICY, hold_unverified="y", board_amount="Rp250.000",
                                              idempotency_key="pb1")).status_code == 303
    p = db.session.scalar(select(IncentivePolicy))
    assert (p.hold_unverified, p.board_amount) == (True, 250_000)
    bad = c.post("/insentif/kebijakan", dict(POLICY, valid_from="2025-12", board_amount="dua ratus",
                                             idempotency_key="pb2"))
    assert bad.status_code == 422
    html = c.get("/insentif/kebijakan").get_data(as_text=True)
    assert "tahan yang belum diverifikasi" in html and "pengurus Rp250.000" in html
