"""The person's card: visit history, growth charts, immunisation record and open flags."""
from datetime import date

from sqlalchemy import select

from ..domain import findings, immunisation, rules
from ..extensions import db
from ..models import HariBuka, Measurement, Person, ScreeningRecord, ServiceRecord, Visit
from .people import group_of
from .session_views import draw_charts

HISTORY = 24
# A measurement's values, without its bookkeeping (ids, uuid, who and when: on SQLite the two timestamps alone are
# parsed in Python for each of up to ~60 rows).
_VALUES = select(*[c for c in Measurement.__table__.columns
                   if c.key not in ("id", "person_id", "posyandu_id", "visit_id", "kbm_table_id", "check_note", "uuid",
                                    "created_at", "updated_at", "created_by_id", "updated_by_id")])


def card(person: Person, on: date) -> dict:
    """Everything the card shows, in a handful of queries. Rows, not ORM objects: the card only displays them
    (read on the session's connection, past the ORM's execute path, ~90 µs a statement).

    A child's measurements are read once, all of them (at most ~60 by five years): the newest 24 are the history,
    those up to `on` draw the charts."""
    child = rules.in_who_2006_tables((on - person.birth_date).days)
    q = _VALUES.where(Measurement.person_id == person.id).order_by(Measurement.measured_on.desc())
    read = db.session.connection()
    measured = read.execute(q if child else q.limit(HISTORY)).all()
    measurements = measured[:HISTORY]
    visits = read.execute(select(Visit.hari_buka_id, Visit.group, Visit.topics, HariBuka.held_on)
                          .join(HariBuka).where(Visit.person_id == person.id)
                          .order_by(HariBuka.held_on.desc()).limit(HISTORY)).all()
    services = read.execute(select(ServiceRecord.kind, ServiceRecord.code, ServiceRecord.given_on)
                            .where(ServiceRecord.person_id == person.id, ServiceRecord.deleted_at.is_(None))
                            .order_by(ServiceRecord.given_on.desc())).all()
    given = {s.code: s.given_on for s in services if s.kind == "imunisasi"}
    refer = read.scalars(select(ScreeningRecord.refer).where(ScreeningRecord.person_id == person.id)
                         .order_by(ScreeningRecord.id.desc()).limit(3)).all()
    schedule = immunisation.load_schedule()
    names = {d.code: d.name for d in schedule.doses}
    doses = immunisation.due_doses(schedule, person.birth_date, on, given) if child else []
    flags = []
    latest = measurements[0] if measurements else None
    if latest is not None:
        # the group at that measurement: a remaja's IMT is read by IMT/U, never with the adult categories
        group = group_of(person, latest.measured_on)
        flags += sorted(findings.finding_codes(dict(latest._mapping), group, person.sex) & findings.REFER)
        if latest.flagged:
            flags.append("flagged")
    if any(d.status == "overdue" for d in doses):
        flags.append("imunisasi_overdue")
    if any(refer):
        flags.append("screening_refer")
    return {
        "measurements": measurements, "visits": visits,
        "immunisations": sorted(((names.get(c, c), d) for c, d in given.items()), key=lambda x: x[1]),
        "doses_open": [d for d in doses if d.status in ("due", "overdue")],
        "charts": draw_charts(person, on, [m for m in reversed(measured) if m.measured_on <= on]) if child else [],
        "flags": flags, "vaccines": schedule.doses,
        "basic_complete": immunisation.complete_basic(given, schedule) if child else None,
    }
