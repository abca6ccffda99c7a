"""The person's card: visit history, growth charts, immunisation record and open flags."""
from datetime import date

from sqlalchemy import select

from ..domain import findings, immunisation, rules
from ..extensions import db
from ..models import HariBuka, Measurement, Person, ScreeningRecord, ServiceRecord, Visit
from .people import group_of
from .session_views import charts

HISTORY = 24


def card(person: Person, on: date) -> dict:
    """Everything the card shows, in a handful of queries."""
    measurements = list(db.session.scalars(select(Measurement).where(Measurement.person_id == person.id)
                                           .order_by(Measurement.measured_on.desc()).limit(HISTORY)))
    visits = db.session.execute(select(Visit, HariBuka.held_on).join(HariBuka)
                                .where(Visit.person_id == person.id)
                                .order_by(HariBuka.held_on.desc()).limit(HISTORY)).all()
    services = list(db.session.scalars(select(ServiceRecord).where(ServiceRecord.person_id == person.id,
                                                                   ServiceRecord.deleted_at.is_(None))
                                       .order_by(ServiceRecord.given_on.desc())))
    screenings = list(db.session.scalars(select(ScreeningRecord).where(ScreeningRecord.person_id == person.id)
                                         .order_by(ScreeningRecord.id.desc()).limit(10)))
    given = {s.code: s.given_on for s in services if s.kind == "imunisasi"}
    schedule = immunisation.load_schedule()
    names = {d.code: d.name for d in schedule.doses}
    child = rules.in_who_2006_tables((on - person.birth_date).days)
    doses = immunisation.due_doses(schedule, person.birth_date, on, given) if child else []
    flags = []
    latest = measurements[0] if measurements else None
    if latest is not None:
        m = {c.key: getattr(latest, c.key) for c in Measurement.__table__.columns}
        # the group at that measurement: a remaja's IMT is read by IMT/U, never with the adult categories
        group = group_of(person, latest.measured_on)
        flags += sorted(findings.finding_codes(m, group, person.sex) & findings.REFER)
        if latest.flagged:
            flags.append("flagged")
    if any(d.status == "overdue" for d in doses):
        flags.append("imunisasi_overdue")
    if any(s.refer for s in screenings[:3]):
        flags.append("screening_refer")
    return {
        "measurements": measurements, "visits": visits, "services": services, "screenings": screenings,
        "immunisations": sorted(((names.get(c, c), d) for c, d in given.items()), key=lambda x: x[1]),
        "doses_open": [d for d in doses if d.status in ("due", "overdue")],
        "charts": charts(person, on) if child else [], "flags": flags, "vaccines": schedule.doses,
        "basic_complete": immunisation.complete_basic(given, schedule) if child else None,
    }
