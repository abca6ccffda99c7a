"""The demo district looks like a Posyandu's register (issue 11)."""
from datetime import date, timedelta

from sqlalchemy import select

from posyandu.extensions import db
from posyandu.models import HariBuka, User
from posyandu.seed import seed_demo

TODAY = date(2026, 11, 30)  # after the 28th: the demo Posyandu's stored schedule day cannot be today's


def test_demo_posyandu_held_its_previous_hari_buka_a_month_ago(app):
    seed_demo(children=160, months=4, today=TODAY)
    kader = db.session.scalar(select(User).where(User.username == "kader"))
    days = db.session.scalars(select(HariBuka.held_on).where(HariBuka.posyandu_id == kader.posyandu_id)
                              .order_by(HariBuka.held_on.desc()).limit(2)).all()
    assert days[0] == TODAY and days[1] <= TODAY - timedelta(days=28), days  # it was 28 Nov before 30 Nov
