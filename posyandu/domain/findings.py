"""What a measurement means for the person: status lines for meja 3 and finding codes for meja 4 and 5."""
from dataclasses import dataclass

from . import assessment, growth


@dataclass(frozen=True)
class Status:
    indicator: str  # bb_u, tb_u, bb_tb, imt_u, lk_u, lila_u, imt, td, lila, gula, lingkar_perut
    value: float | None  # z-score for children, the measure itself for adults
    category: str | None  # a stable code (PMK 2/2020 for children)
    alert: bool  # shown in red and counted as a finding


def child_statuses(m: dict) -> list[Status]:
    """z-scores and PMK 2/2020 categories for each child indicator that was measured."""
    out = []
    rows = [("bb_u", "waz", growth.category_waz, lambda z: z < -2),
            ("tb_u", "lhaz", growth.category_lhaz, lambda z: z < -2),
            ("bb_tb", "whz", growth.category_whz, lambda z: z < -2 or z > 2),
            ("imt_u", "baz", growth.category_baz, lambda z: z < -2 or z > 2),
            ("lk_u", "hcz", None, lambda z: abs(z) > 2),
            ("lila_u", "acz", None, lambda z: z < -2)]
    for name, key, category, alert in rows:
        z = m.get(key)
        if z is not None:
            out.append(Status(name, z, category(z) if category else None, bool(alert(z))))
    return out


def adult_statuses(m: dict, group: str, sex: str) -> list[Status]:
    """IMT, blood pressure, KEK, waist and glucose for adolescents, adults, the elderly and mothers."""
    out = []
    w, h = m.get("weight_kg"), m.get("length_cm")
    if w and h and group != "ibu_hamil":
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
    if m.get("lhaz") is not None and m["lhaz"] < -2:
        codes.add("stunted")
    if m.get("whz") is not None and m["whz"] < -2:
        codes.add("wasted")
    if m.get("waz") is not None and m["waz"] < -2:
        codes.add("underweight")
    if (m.get("whz") is not None and m["whz"] > 2) or (m.get("baz") is not None and m["baz"] > 2):
        codes.add("overweight")
    if group == "balita" and m.get("muac_cm") and m.get("age_days", 0) >= 183:
        if assessment.balita_muac_category(m["muac_cm"], int(m["age_days"] / 30.4375)) == "gizi_buruk":
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
