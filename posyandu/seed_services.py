"""Demo data for what the meja record besides growth: visits, immunisation histories, vitamin A, and the ILP
services of ibu hamil, remaja, dewasa and lansia (measurements, TTD, screenings).

Doses follow the national schedule (domain/immunisation.py): each is given at the first monthly hari buka the child
came to once it was due (its age reached, the previous dose long enough ago), as the meja-5 form records it, so
only a few doses are late — a child who missed sessions, one whose family is slow or refuses — and doses fall due
today for the children whose age just reached them. Records on the seeded hari buka belong to a visit; older ones
(before the seeded months) and birth doses given at the birth facility have none, like a dose copied from the
Buku KIA. Nothing is recorded at today's hari buka: the day has only just begun.

Own random generators, so adding this left the people and growth histories of the demo unchanged.
"""
import random
from bisect import bisect_left
from datetime import date, datetime, timedelta

import numpy as np

from .domain import immunisation, screening
from .domain.lifecycle import age_in_months, group_for
from .domain.schedule import open_day
from .models.base import utcnow

# How likely someone of a group comes to a hari buka (and is served at the meja): a month's ILP coverage.
ATTEND = {"ibu_hamil": 0.78, "nifas": 0.6, "usia_sekolah_remaja": 0.32, "dewasa": 0.27, "lansia": 0.58}
# How likely a visitor of the group answers a questionnaire that applies to her on a visit.
SCREEN = {"tbc_anak": 0.5, "tbc_dewasa": 0.45, "puma": 0.3, "skilas": 0.6, "aks": 0.35}
BIRTH_FACILITY = 0.55  # BCG and polio 1 given where the baby was born (no visit); the rest at the Posyandu


class ServiceSeeder:
    """Collects the rows for one seeding run; `posyandu(...)` adds one Posyandu's, the caller flushes them."""

    def __init__(self, seed: int, today: date, visit_ids):
        self.rng = random.Random(seed * 7919 + 11)
        self.nrng = np.random.default_rng(seed + 101)
        self.today = today
        self.visit_ids = visit_ids
        self.schedule = immunisation.load_schedule()
        self.doses = [d for d in self.schedule.doses if not d.regional]
        self.questionnaires = screening.load_questionnaires()
        self.healthy = {code: _healthy_answers(q) for code, q in self.questionnaires.items()}
        self.visits, self.services, self.screenings, self.adult_measurements = [], [], [], []
        self.now = utcnow()
        self._months = {}

    def _stamp(self) -> dict:
        return {"uuid": fast_uuid4(), "created_at": self.now, "updated_at": self.now}

    def _monthly(self, day: int) -> list[date]:
        """The Posyandu's hari buka dates of the last five years and a month, before today."""
        if day not in self._months:
            out = []
            for back in range(62, -1, -1):
                y, m = divmod(self.today.year * 12 + self.today.month - 1 - back, 12)
                d = open_day(y, m + 1, "day_of_month", day, None, None)
                if d < self.today:
                    out.append(d)
            self._months[day] = out
        return self._months[day]

    def posyandu(self, posyandu_id: int, day: int, kids: list[dict], adults: list[dict], pregnancies: dict,
                 delivered: dict, hb_of: dict[date, int], measured: list[dict]) -> None:
        """Visits for the children weighed on past hari buka (the measurement rows get their visit), their
        immunisations and vitamin A, and the adults' visits with their services."""
        queue = dict.fromkeys(hb_of.values(), 0)
        came: dict[int, set[date]] = {}
        visit_of: dict[tuple[int, date], int] = {}
        for m in measured:
            hb_id = hb_of.get(m["measured_on"])
            if hb_id is None or m["measured_on"] >= self.today:
                continue
            vid = self._visit(hb_id, queue, m["person_id"], "balita", m["measured_on"])
            m["visit_id"] = vid
            visit_of[(m["person_id"], m["measured_on"])] = vid
            came.setdefault(m["person_id"], set()).add(m["measured_on"])
        months = self._monthly(day)
        first_seeded = min(hb_of) if hb_of else self.today
        for kid in kids:
            self._immunise(kid, months, first_seeded, came.get(kid["id"], set()), visit_of)
            self._vitamin_a(kid, came.get(kid["id"], set()), visit_of)
        past = sorted(d for d in hb_of if d < self.today)
        for person in adults:
            preg = pregnancies.get(person["id"])
            for held_on in past:
                pregnant = preg is not None and preg <= held_on <= preg + timedelta(days=280)
                born = delivered.get(person["id"])
                group = group_for(person["birth_date"], held_on, pregnant, born if born and born <= held_on else None)
                if group not in ATTEND or self.rng.random() >= ATTEND[group]:
                    continue
                vid = self._visit(hb_of[held_on], queue, person["id"], group, held_on)
                self._adult_services(person, group, held_on, vid, posyandu_id)

    def _visit(self, hb_id, queue, person_id, group, held_on) -> int:
        queue[hb_id] += 1
        vid = self.visit_ids.take()
        # queued from 08.00 WITA, a few minutes apart; done within the hour (stored in UTC)
        start = datetime(held_on.year, held_on.month, held_on.day, 0) + timedelta(minutes=3 * queue[hb_id])
        self.visits.append({**self._stamp(), "id": vid, "hari_buka_id": hb_id, "person_id": person_id,
                            "queue_number": queue[hb_id], "group": group, "step": 0,
                            "finished_at": start + timedelta(minutes=35)})
        return vid

    def _service(self, person_id, kind, code, given_on, visit_id=None) -> None:
        self.services.append({**self._stamp(), "person_id": person_id, "visit_id": visit_id, "kind": kind,
                              "code": code, "given_on": given_on, "note": None, "deleted_at": None})

    def _immunise(self, kid, months, first_seeded, came, visit_of) -> None:
        """The child's doses as the schedule has them given: at the first hari buka she came to once due."""
        birth, rng = kid["birth_date"], self.rng
        kind = rng.random()
        # most families bring every dose when due; some let one slip now and then; a few stop after birth
        p_give = 0.0 if kind < 0.04 else 0.45 if kind < 0.2 else 0.95
        start = bisect_left(months, birth)
        dates = months[start:]
        before = self.nrng.random(len(dates)) < 0.85  # came to the hari buka before the seeded months

        def present(j: int) -> bool:
            d = dates[j]
            return d in came if d >= first_seeded else bool(before[j])

        given: dict[str, date] = {}
        if rng.random() < 0.85:
            given["HB0"] = birth + timedelta(days=rng.randint(0, 1))
            self._service(kid["id"], "imunisasi", "HB0", min(given["HB0"], self.today - timedelta(days=1)))
        if rng.random() < BIRTH_FACILITY:
            on = birth + timedelta(days=rng.randint(0, 3))
            if on < self.today:
                for code in ("BCG", "POLIO1"):
                    given[code] = on
                    self._service(kid["id"], "imunisasi", code, on)
        for dose in self.doses:
            if dose.code in given:
                continue
            earliest = immunisation.add_months(birth, dose.due_month)
            if dose.after is not None:
                prev = given.get(dose.after)
                if prev is None:
                    continue
                earliest = max(earliest, prev + timedelta(days=dose.min_interval_days or 0))
            limit = birth + timedelta(days=dose.max_age_days) if dose.max_age_days is not None else None
            for j in range(bisect_left(dates, earliest), len(dates)):
                d = dates[j]
                if limit is not None and d > limit:
                    break
                if present(j) and rng.random() < p_give:
                    given[dose.code] = d
                    self._service(kid["id"], "imunisasi", dose.code, d, visit_of.get((kid["id"], d)))
                    break

    def _vitamin_a(self, kid, came, visit_of) -> None:
        """Vitamin A in February and August: blue at 6–11 months (once), red at 12–59 months."""
        blue = False
        for d in sorted(came):
            if d.month not in (2, 8) or d >= self.today or self.rng.random() > 0.92:
                continue
            age = age_in_months(kid["birth_date"], d)
            code = "biru" if 6 <= age <= 11 and not blue else "merah" if 12 <= age <= 59 else None
            if code:
                blue = blue or age >= 6
                self._service(kid["id"], "vitamin_a", code, d, visit_of.get((kid["id"], d)))

    def _adult_services(self, person, group, held_on, vid, posyandu_id) -> None:
        """What meja 2 measures and meja 5 gives an adult, and the questionnaires answered on the visit."""
        rng = self.rng
        m = {"weight_kg": None, "muac_cm": None, "systolic": None, "diastolic": None, "waist_cm": None}
        if group == "ibu_hamil":
            m["weight_kg"] = round(rng.gauss(56, 8), 1)
            m["muac_cm"] = round(rng.gauss(26.0, 2.4), 1)  # about one in eight under 23.5 cm: KEK
            if rng.random() < 0.85:
                self._service(person["id"], "ttd", "", held_on, vid)
        elif group == "usia_sekolah_remaja":
            m["weight_kg"] = round(rng.gauss(42, 9), 1)
        else:
            m["weight_kg"] = round(rng.gauss(60 if group == "dewasa" else 55, 9), 1)
            if group != "nifas":
                m["waist_cm"] = round(rng.gauss(84, 9), 1)
        if group != "usia_sekolah_remaja":
            top = int(rng.gauss(118 if group != "lansia" else 132, 12))
            m["systolic"], m["diastolic"] = top, int(top * rng.uniform(0.6, 0.7))
        self.adult_measurements.append({**self._stamp(), "person_id": person["id"], "posyandu_id": posyandu_id,
                                        "visit_id": vid, "measured_on": held_on, "oedema": False, "flagged": False,
                                        "age_days": (held_on - person["birth_date"]).days, **m})
        age = age_in_months(person["birth_date"], held_on)
        for q in screening.applicable(self.questionnaires, group, age):
            if rng.random() < SCREEN.get(q.code, 0.3):
                answers = {qid: (other if rng.random() < 0.02 else ok)
                           for qid, (ok, other) in self.healthy[q.code].items()}
                result = screening.score(q, answers)
                self.screenings.append({**self._stamp(), "visit_id": vid, "person_id": person["id"],
                                        "questionnaire": q.code, "version": q.version, "answers": answers,
                                        "score": result.score, "band": result.band, "refer": result.refer})


_UUID_RNG = random.Random()  # seeded from the OS: demo laptops do not share record UUIDs


def fast_uuid4() -> str:
    """A random (version 4) UUID as text, several times faster than str(uuid.uuid4()) for bulk rows."""
    n = _UUID_RNG.getrandbits(128) & ~(0xF << 76) & ~(0x3 << 62) | (0x4 << 76) | (0x2 << 62)
    h = "%032x" % n
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _healthy_answers(q) -> dict[str, tuple[str, str]]:
    """Per question the answer of someone well (the end of the scale whose band is not referred) and another."""
    low, _high = q.score_range()
    low_ok = not next(b for b in q.bands if b.min <= low <= b.max).refer
    out = {}
    for question in q.questions:
        ranked = sorted(question.options, key=lambda o: o.points, reverse=not low_ok)
        out[question.id] = (ranked[0].value, ranked[-1].value)
    return out

