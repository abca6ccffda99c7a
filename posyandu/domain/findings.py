"""What a measurement means for the person: status lines for meja 3 and finding codes for meja 4 and 5."""
from dataclasses import dataclass

from . import assessment, growth, rules


@dataclass(frozen=True)
class Status:
    indicator: str  # bb_u, tb_u, bb_tb, imt_u, lk_u, lila_u, imt, td, lila, gula, lingkar_perut
    value: float | None  # z-score for children, the measure itself for adults
    category: str | None  # a stable code (PMK 2/2020 for children)
    alert: bool  # shown in red and counted as a finding


def _months(m: dict) -> float | None:
    return None if m.get("age_days") is None else m["age_days"] / rules.DAYS_PER_MONTH


def child_statuses(m: dict) -> list[Status]:
    """z-scores and PMK 2/2020 categories for each child indicator that was measured. PMK 2/2020 categorises
    BB/U, PB/U or TB/U and BB/PB or BB/TB for 0-60 months only; from 5 years only IMT/U, with its school-age
    categories (the z-scores of the others are still shown)."""
    out = []
    months = _months(m)
    school = months is not None and months >= rules.SCHOOL_AGE_MONTHS
    low, high = rules.Z_MODERATE, rules.Z_OVER
    rows = [("bb_u", "waz", None if school else growth.category_waz, lambda z: z < low),
            ("tb_u", "lhaz", None if school else growth.category_lhaz, lambda z: z < low),
            ("bb_tb", "whz", growth.category_whz, lambda z: z < low or z > high),
            ("imt_u", "baz", lambda z: growth.category_baz(z, months), lambda z: z < low or z > high),
            ("lk_u", "hcz", None, lambda z: abs(z) > -low),
            ("lila_u", "acz", None, lambda z: z < low)]
    for name, key, category, alert in rows:
        z = m.get(key)
        if z is not None:
            out.append(Status(name, z, category(z) if category else None, bool(alert(z))))
    return out


def adult_statuses(m: dict, group: str, sex: str) -> list[Status]:
    """IMT, blood pressure, KEK, waist and glucose for adolescents, adults, the elderly and mothers."""
    out = []
    w, h = m.get("weight_kg"), m.get("length_cm")
    # a remaja's IMT is read against age (IMT/U, child_statuses), never with the adult categories
    if w and h and group not in ("ibu_hamil", "usia_sekolah_remaja"):
        bmi = assessment.bmi(w, h)
        cat = assessment.bmi_category_adult(bmi)
        out.append(Status("imt", round(bmi, 1), cat, cat in ("sangat_kurus", "kurus", "obesitas")))
    if m.get("systolic") and m.get("diastolic"):
        cat = assessment.bp_category(m["systolic"], m["diastolic"])
        out.append(Status("td", None, cat, cat == "hipertensi"))
    if m.get("muac_cm") and group in ("ibu_hamil", "nifas", "usia_sekolah_remaja", "dewasa"):
        kek = assessment.kek(m["muac_cm"], group)
        out.append(Status("lila", m["muac_cm"], "kek" if kek else "normal", bool(kek)))
    if m.get("waist_cm"):
        risk = assessment.waist_risk(m["waist_cm"], sex)
        out.append(Status("lingkar_perut", m["waist_cm"], "obesitas_sentral" if risk else "normal", bool(risk)))
    if m.get("glucose_mg_dl"):
        cat = assessment.glucose_category(m["glucose_mg_dl"])
        out.append(Status("gula", m["glucose_mg_dl"], cat, cat == "tinggi"))
    return out


def finding_codes(m: dict, group: str, sex: str) -> set[str]:
    """Codes that drive counselling topics and referral suggestions (see domain.counselling)."""
    codes = set()
    if m.get("ntob") in ("T", "O"):
        codes.add(m["ntob"])
    for flag, code in (("two_t", "2T"), ("bgm", "BGM"), ("new_stunting", "new_stunting")):
        if m.get(flag):
            codes.add(code)
    if m.get("lhaz") is not None and m["lhaz"] < rules.Z_MODERATE:
        codes.add("stunted")
    if m.get("whz") is not None and m["whz"] < rules.Z_MODERATE:
        codes.add("wasted")
    if m.get("waz") is not None and m["waz"] < rules.Z_MODERATE:
        codes.add("underweight")
    if (m.get("whz") is not None and m["whz"] > rules.Z_OVER) or (m.get("baz") is not None and m["baz"] > rules.Z_OVER):
        codes.add("overweight")
    months = _months(m)
    if months is not None and months >= rules.SCHOOL_AGE_MONTHS and m.get("baz") is not None:
        if m["baz"] < rules.Z_MODERATE:  # IMT/U gizi kurang or gizi buruk (5-18 years)
            codes.add("wasted")
    if group == "balita" and m.get("muac_cm") and m.get("age_days", 0) >= 183:
        if assessment.balita_muac_category(m["muac_cm"], rules.months_from_days(m["age_days"])) == "gizi_buruk":
            codes.add("wasted")
    if group not in ("balita",):
        for s in adult_statuses(m, group, sex):
            if s.alert:
                codes.add({"imt": "obese" if s.category == "obesitas" else "underweight", "td": "high_bp",
                           "lila": "kek", "lingkar_perut": "obese", "gula": "high_glucose"}[s.indicator])
    return codes


# Findings a kader refers to the Puskesmas (DESIGN §3, "Refer when").
REFER = {"T", "2T", "BGM", "stunted", "wasted", "new_stunting", "kek", "high_bp", "high_glucose"}


def referral_reasons(codes: set[str]) -> list[str]:
    return sorted(codes & REFER)
