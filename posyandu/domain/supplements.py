"""Vitamin A capsules and deworming (obat cacing) for children, given in the Posyandu's February and August rounds."""
from datetime import date

from posyandu.domain.lifecycle import age_in_months

# Bulan vitamin A. Districts that run a catch-up (sweeping) in March and September pass months=(2, 3, 8, 9).
ROUND_MONTHS = (2, 8)


def _given_this_month(on_date: date, given_dates: list[date]) -> bool:
    return any(d.year == on_date.year and d.month == on_date.month for d in given_dates)


def vitamin_a_due(birth_date: date, on_date: date, given_dates: list[date],
                  months: tuple[int, ...] = ROUND_MONTHS) -> str | None:
    """'biru' (100.000 IU, 6–11 months) or 'merah' (200.000 IU, 12–59 months) when due this round, else None.

    Kemenkes: a baby gets one blue capsule between 6 and 11 months, then a red capsule every February and
    August up to 59 months. So a blue capsule is not due again once any capsule was given at 6 months or
    older; no child gets two capsules in one month. Mothers in nifas (2 red capsules) are not handled here.
    """
    if on_date.month not in months or _given_this_month(on_date, given_dates):
        return None
    age = age_in_months(birth_date, on_date)
    if 6 <= age <= 11:
        already = any(age_in_months(birth_date, d) >= 6 for d in given_dates if d <= on_date)
        return None if already else "biru"
    if 12 <= age <= 59:
        return "merah"
    return None


def deworming_due(birth_date: date, on_date: date, given_dates: list[date],
                  months: tuple[int, ...] = ROUND_MONTHS) -> str | None:
    """'albendazol_200' (12–23 months) or 'albendazol_400' (24–59 months) when due this round, else None.

    Permenkes 15/2017 (Penanggulangan Cacingan): balita 12–59 months get albendazol, 200 mg (half a tablet)
    under two years and 400 mg from two years, twice a year where prevalence is ≥ 50 % and once a year where it
    is 20–50 %. Posyandu give it with vitamin A in February and August; a district that deworms once a year
    passes months=(2,) or (8,). At most one dose a month.
    """
    if on_date.month not in months or _given_this_month(on_date, given_dates):
        return None
    age = age_in_months(birth_date, on_date)
    if 12 <= age <= 23:
        return "albendazol_200"
    if 24 <= age <= 59:
        return "albendazol_400"
    return None
