"""Benchmark: score N random plausible children with score_arrays and through score_csv; prints rows/second."""
import argparse
import csv
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
try:
    import posyandu  # noqa: F401
except ImportError:  # the app package needs Flask; the growth modules do not
    sys.modules["posyandu"] = types.ModuleType("posyandu")
    sys.modules["posyandu"].__path__ = [str(ROOT / "posyandu")]

from posyandu.domain.growth import score_arrays, value_for_z  # noqa: E402
from posyandu.domain.growth_csv import score_csv  # noqa: E402


def make_rows(n: int, seed: int = 1) -> dict:
    """Random but plausible Posyandu visits (0-59 months, some errors, missing values and oedema)."""
    rng = np.random.default_rng(seed)
    sex = rng.integers(1, 3, n).astype(float)
    age = rng.integers(0, 1827, n).astype(float)
    measure = np.where(age < 731, "l", "h")
    measure[rng.random(n) < 0.05] = "h"  # some standing measurements of infants
    data = {"sex": sex, "age_days": age, "measure": measure}
    for col, ind, mu in (("length_cm", "lhfa", -0.9), ("weight_kg", "wfa", -0.6), ("head_cm", "hcfa", 0.0),
                         ("muac_cm", "acfa", 0.0)):
        y = np.full(n, np.nan)
        for s in (1, 2):
            idx = sex == s
            y[idx] = value_for_z(ind, s, age[idx], rng.normal(mu, 1.2, idx.sum()), measure=None)
        data[col] = np.round(y, 1)
    data["length_cm"] += np.where((age < 731) & (measure == "h"), -0.7, 0.0)
    data["head_cm"][rng.random(n) < 0.5] = np.nan
    data["oedema"] = np.where(rng.random(n) < 0.001, "y", "n")
    return data


def main() -> None:
    """Run the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", "--rows", type=int, default=1_000_000)
    n = ap.parse_args().rows
    data = make_rows(n)

    t = time.perf_counter()
    res = score_arrays(data["sex"], data["age_days"], data["weight_kg"], data["length_cm"], data["measure"],
                       data["head_cm"], data["muac_cm"], data["oedema"])
    dt = time.perf_counter() - t
    print(f"score_arrays: {n:,} rows in {dt:.2f} s = {n / dt:,.0f} rows/s "
          f"(waz missing {np.isnan(res['waz']).mean():.1%}, flagged {np.nansum(res['waz_flag']):,.0f})")

    cols = ["sex", "age_days", "weight_kg", "length_cm", "measure", "head_cm", "muac_cm", "oedema"]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        with open(src, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            text = [[("" if v != v else f"{v:g}") if isinstance(v, float) else v for v in data[c].tolist()]
                    for c in cols]
            w.writerows(zip(*text))
        t = time.perf_counter()
        score_csv(src, dst)
        dt = time.perf_counter() - t
        print(f"score_csv:    {n:,} rows in {dt:.2f} s = {n / dt:,.0f} rows/s "
              f"({src.stat().st_size / 1e6:.0f} MB in, {dst.stat().st_size / 1e6:.0f} MB out)")


if __name__ == "__main__":
    main()
