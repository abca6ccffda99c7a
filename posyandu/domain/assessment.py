"""Simple measurement classifications used at meja 3: IMT, blood pressure, LiLA, waist, blood glucose, Hb."""

from . import rules

WUS_GROUPS = ("ibu_hamil", "nifas", "usia_sekolah_remaja", "dewasa", "wus")  # where a woman may be of child-bearing age


def _positive(**values: float) -> None:
    for name, v in values.items():
        if v is None or v <= 0:
            raise ValueError(f"{name} must be a positive number")


def bmi(weight_kg: float, height_cm: float) -> float:
    """Indeks massa tubuh, kg/m², rounded to one decimal."""
    # Rounded because the category is read from the printed value: a kader who sees 25.0 must see 'normal'.
    _positive(weight_kg=weight_kg, height_cm=height_cm)
    return round(weight_kg / (height_cm / 100) ** 2, 1)


def bmi_category_adult(value: float) -> str:
    """Kemenkes adult IMT category: sangat_kurus, kurus, normal, gemuk or obesitas."""
    # Indonesian cut-offs (P2PTM), lower than WHO's 25/30 for Asian body build.
    if value < 17.0:
        return "sangat_kurus"
    if value < 18.5:
        return "kurus"
    if value <= 25.0:
        return "normal"
    if value <= 27.0:
        return "gemuk"
    return "obesitas"


def bp_category(systolic: int, diastolic: int) -> str:
    """Blood pressure: normal (< 120/80), prehipertensi (120–139 or 80–89), hipertensi (≥ 140 or ≥ 90).

    Either number alone decides the higher class. 'hipertensi' is also the refer threshold for ibu hamil
    (≥ 140/90, risk of preeclampsia).
    """
    _positive(systolic=systolic, diastolic=diastolic)
    if systolic >= rules.HIGH_SYSTOLIC or diastolic >= rules.HIGH_DIASTOLIC:
        return "hipertensi"
    if systolic >= 120 or diastolic >= 80:
        return "prehipertensi"
    return "normal"


def kek(muac_cm: float, group: str) -> bool:
    """Kurang energi kronis: LiLA < 23.5 cm in an ibu hamil or a woman of child-bearing age (WUS)."""
    if group not in WUS_GROUPS:
        raise ValueError(f"KEK is not assessed for group {group!r}")
    _positive(muac_cm=muac_cm)
    return muac_cm < rules.KEK_MUAC_CM


def balita_muac_category(muac_cm: float, age_months: int) -> str | None:
    """LiLA of a child 6–59 months: gizi_buruk (< 11.5 cm), gizi_kurang (11.5–< 12.5) or normal; None outside 6–59."""
    if not 6 <= age_months <= 59:
        return None  # the LiLA cut-offs are only validated for 6–59 months
    _positive(muac_cm=muac_cm)
    if muac_cm < 11.5:
        return "gizi_buruk"
    if muac_cm < 12.5:
        return "gizi_kurang"
    return "normal"


def waist_risk(waist_cm: float, sex: str) -> bool:
    """Obesitas sentral: lingkar perut > 90 cm for men (L), > 80 cm for women (P)."""
    _positive(waist_cm=waist_cm)
    if sex == "L":
        return waist_cm > 90
    if sex == "P":
        return waist_cm > 80
    raise ValueError(f"sex must be 'L' or 'P', not {sex!r}")


def glucose_category(gds_mg_dl: float) -> str:
    """Gula darah sewaktu: 'tinggi' from 200 mg/dL (Posbindu refers for diagnosis), else 'normal'."""
    # Posbindu PTM uses the diabetes criterion for a random sample (GDS ≥ 200). The 140–199 'prediabetes'
    # band belongs to the 2-hour glucose tolerance test, not to a random finger-prick, so it is not used here.
    _positive(gds_mg_dl=gds_mg_dl)
    return "tinggi" if gds_mg_dl >= rules.HIGH_GLUCOSE_MG_DL else "normal"


def anaemia_hb(hb_g_dl: float, group: str, sex: str | None = None, age_months: int | None = None) -> bool:
    """Anaemia by WHO Hb cut-offs (g/dL) used by Kemenkes; sex and age are needed where the cut-off depends on them.

    ibu_hamil < 11.0; balita (6–59 months) < 11.0; 5–11 years < 11.5; 12–14 years < 12.0; from 15 years
    women (and nifas) < 12.0, men < 13.0.
    """
    _positive(hb_g_dl=hb_g_dl)
    if group in ("ibu_hamil", "balita"):
        return hb_g_dl < 11.0
    if group == "nifas":
        return hb_g_dl < 12.0
    if group == "usia_sekolah_remaja":
        if age_months is None:
            raise ValueError("age_months is needed for usia_sekolah_remaja")
        if age_months < 144:
            return hb_g_dl < 11.5
        if age_months < 180:
            return hb_g_dl < 12.0
    elif group not in ("dewasa", "lansia"):
        raise ValueError(f"unknown group {group!r}")
    if sex == "L":
        return hb_g_dl < 13.0
    if sex == "P":
        return hb_g_dl < 12.0
    raise ValueError("sex 'L' or 'P' is needed from 15 years")


def implausible_adult(weight_kg: float | None, height_cm: float | None, prev_weight_kg: float | None,
                      days_since: int | None) -> list[str]:
    """Adult values a kader should re-check before they are kept (typing slips like 94 for 49)."""
    problems = []
    if weight_kg is not None and height_cm:
        value = weight_kg / (height_cm / 100) ** 2
        if not 12 <= value <= 60:
            problems.append("bmi_implausible")
    if height_cm is not None and not 120 <= height_cm <= 210:
        problems.append("height_implausible")
    if weight_kg is not None and prev_weight_kg and days_since is not None:
        # A person can gain or lose a few kg a month; ten or more is almost always a slip.
        if abs(weight_kg - prev_weight_kg) > max(10.0, 10.0 * days_since / rules.DAYS_PER_MONTH):
            problems.append("weight_change_adult")
    if weight_kg is not None and not 25 <= weight_kg <= 200:
        problems.append("weight_implausible")
    return problems
