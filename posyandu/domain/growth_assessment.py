"""The meja-2 assessment of one measurement: z-scores, N/T/O/B, 2T, BGM, new stunting, and what to re-check.

A pure function of the person's sex and birth date, the date, the values typed and the recent history (plain
tuples, no database): a laptop's form, the district applying a pushed measurement and a test all compute the
same numbers from the same inputs. `services.session_day.assess` gathers the history and calls it.
"""
from dataclasses import dataclass, field
from datetime import date

from . import assessment, growth, kms, rules

ADULT_DAYS = 19 * 365.25  # from 19 years a measurement is checked as an adult's (no WHO growth standard)
INDICATORS = ("waz", "lhaz", "whz", "baz", "hcz", "acz")


@dataclass(frozen=True)
class PastWeighing:
    """A weighing kept before this one (another visit's), as the history sees it."""

    measured_on: date
    weight_kg: float
    length_cm: float | None = None
    position: str | None = None  # "h": standing height, anything else lying length
    ntob: str | None = None  # N/T/O/B as computed when it was kept


@dataclass(frozen=True)
class History:
    """What the assessment needs of the past, newest first.

    weighings: for a child the latest three weighings up to this date (this visit's own excluded); for an adult
    the latest weighing before this date. previous_lhaz: the latest unflagged length-for-age z before this date.
    """

    weighings: tuple[PastWeighing, ...] = ()
    previous_lhaz: float | None = None


@dataclass
class Assessment:
    """What meja 2 computed from the values: z-scores and codes, and what the kader must check."""

    values: dict
    computed: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def is_adult(birth_date: date, on: date) -> bool:
    return (on - birth_date).days >= ADULT_DAYS


def uses_kbm(birth_date: date, on: date, values: dict) -> bool:
    """Whether N/T/O/B is computed (a weighed child within the WHO 2006 ages), so the KBM table is needed."""
    age_days = (on - birth_date).days
    return not is_adult(birth_date, on) and age_days < rules.WHO_2006_LAST_DAY and values.get("weight_kg") is not None


def _as_lying(length, position):
    if length is None:
        return None
    return length + rules.LYING_STANDING_CM if position == "h" else length


def assess(sex: str, birth_date: date, on: date, values: dict, history: History = History(),
           kbm_grams: dict | None = None, kbm_table_id: int | None = None) -> Assessment:
    """Compute z-scores, N/T/O/B, 2T, BGM and new stunting for a child; list implausible values.

    kbm_grams: the district's KBM version in force (None: the KMS 2010 table), kbm_table_id its id, kept with
    the code so a report can say which table decided it."""
    result = Assessment(values=values)
    age_days = (on - birth_date).days
    earlier = [w for w in history.weighings if w.measured_on < on]
    prev = earlier[0] if earlier else None
    if is_adult(birth_date, on):
        result.computed = {"age_days": age_days}
        result.problems = assessment.implausible_adult(
            values.get("weight_kg"), values.get("length_cm"), prev.weight_kg if prev else None,
            (on - prev.measured_on).days if prev else None)
        return result
    z = growth.score(sex, age_days, values.get("weight_kg"), values.get("length_cm"), values.get("position"),
                     values.get("head_cm"), values.get("muac_cm"), values.get("oedema", False))
    comp = {"age_days": age_days, **{k: z.get(k) for k in INDICATORS}}
    result.problems += [f"{k}_flag" for k in INDICATORS if z.get(f"{k}_flag")]
    if prev is not None:
        result.problems += kms.implausible_change(
            prev.measured_on, prev.weight_kg, _as_lying(prev.length_cm, prev.position), on,
            values.get("weight_kg"), _as_lying(values.get("length_cm"), values.get("position")))
    if uses_kbm(birth_date, on, values):
        weighings = [kms.Weighing(w.measured_on, w.weight_kg, w.ntob) for w in history.weighings]
        months = rules.months_from_days(age_days)
        code = kms.ntob(weighings, on, values["weight_kg"], months,
                        kms.KBM_KMS_2010 if kbm_grams is None else kbm_grams)
        comp.update(ntob=code, two_t=kms.is_two_t(weighings, on, code), bgm=kms.is_bgm(comp["waz"]),
                    kbm_table_id=kbm_table_id)
    if comp.get("lhaz") is not None:
        comp["new_stunting"] = kms.is_new_stunting(history.previous_lhaz, comp["lhaz"])
    result.computed = comp
    return result
