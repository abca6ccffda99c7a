"""Thresholds and what applies to whom, each defined once (DESIGN §6 "Rules live once").

SQL builders, services, templates and the other domain modules read these names; none of them writes the
number again. Plain Python, no Flask.
"""

# --- time ------------------------------------------------------------------------------------------------------
DAYS_PER_MONTH = 30.4375  # WHO: months = days / 30.4375
WHO_2006_LAST_DAY = 1856  # the last age in days of the WHO 2006 tables (anthro's upper age limit)
LYING_STANDING_DAY = 731  # from this age (days) a child is measured standing; before it lying
LYING_STANDING_CM = 0.7  # lying length is this much longer than standing height
UNDER_FIVE_DAYS = 1826  # age in days from which a child counts as five in day-based cut-offs (60 × 30.4375)


def months_from_days(age_days: float) -> int:
    """Whole months of age from days, as WHO counts them (KBM, MUAC bands, e-PPGBM's "Umur (bulan)")."""
    return int(age_days // DAYS_PER_MONTH)


def in_who_2006_tables(age_days: int) -> bool:
    """Whether the age still has rows in the WHO 2006 tables (KMS charts, N/T/O/B, the balita card)."""
    return 0 <= age_days <= WHO_2006_LAST_DAY


# --- PMK 2/2020 z-score cut-offs (Standar Antropometri Anak) ---------------------------------------------------
Z_SEVERE = -3.0  # below: sangat kurang / sangat pendek / gizi buruk
Z_MODERATE = -2.0  # below (and not severe): kurang / pendek / gizi kurang
Z_RISK_OVER = 1.0  # above: risiko BB lebih (BB/U), berisiko gizi lebih (BB/TB, IMT/U 0-60 mo), gizi lebih (5-18 y)
Z_OVER = 2.0  # above: gizi lebih (0-60 mo), obesitas (5-18 y)
Z_OBESE = 3.0  # above: obesitas (0-60 mo), tinggi (TB/U)
SCHOOL_AGE_MONTHS = 60  # IMT/U from 5 years uses the school-age categories (PMK 2/2020, 5-18 tahun)

# --- mothers and adults ----------------------------------------------------------------------------------------
KEK_MUAC_CM = 23.5  # LILA below this: kurang energi kronis (ibu hamil, WUS)
HIGH_SYSTOLIC, HIGH_DIASTOLIC = 140, 90  # hipertensi (and the refer threshold for ibu hamil): either number
HIGH_GLUCOSE_MG_DL = 200  # gula darah sewaktu from which Posbindu refers

# --- which measurements apply to which group (meja 2) ------------------------------------------------------------
MEASURES = ("weight_kg", "length_cm", "position", "head_cm", "muac_cm", "oedema", "waist_cm", "systolic",
            "diastolic", "glucose_mg_dl")
BALITA_MUAC_FROM_MONTHS = 6  # LILA of a balita from 6 months (DESIGN §3)
REMAJA_BP_FROM_MONTHS = 15 * 12  # remaja: TD and gula darah from 15 years


def measures_for(group: str, age_months: int) -> frozenset[str]:
    """The meja-2 fields that apply to a person of this life-cycle group and age (DESIGN §3 table)."""
    out = {"weight_kg"}
    if group in ("balita", "usia_sekolah_remaja", "dewasa", "lansia"):
        out.add("length_cm")
    if group == "balita":
        out |= {"position", "head_cm", "oedema"}
    if (group == "balita" and age_months >= BALITA_MUAC_FROM_MONTHS) or group in (
            "ibu_hamil", "nifas", "usia_sekolah_remaja", "dewasa"):
        out.add("muac_cm")
    if group in ("usia_sekolah_remaja", "dewasa", "lansia"):
        out.add("waist_cm")
    adult_checks = group in ("dewasa", "lansia") or (group == "usia_sekolah_remaja"
                                                      and age_months >= REMAJA_BP_FROM_MONTHS)
    if adult_checks or group in ("ibu_hamil", "nifas"):
        out |= {"systolic", "diastolic"}
    if adult_checks:
        out.add("glucose_mg_dl")
    return frozenset(out)


def _given(value) -> bool:
    return value not in (None, "", False)


def not_applicable(group: str, age_months: int, values: dict) -> list[str]:
    """The fields given a value that do not apply to this group and age (the server refuses them)."""
    allowed = measures_for(group, age_months)
    return [k for k in MEASURES if k not in allowed and _given(values.get(k))]


# --- family planning (meja 5) ------------------------------------------------------------------------------------
KB_GROUPS = ("nifas", "dewasa")  # contraception is offered after delivery and to women of child-bearing age


def kb_offered(sex: str, group: str) -> bool:
    """Whether meja 5 offers a KB method: to a woman in nifas or of productive age, never during pregnancy."""
    return sex == "P" and group in KB_GROUPS
