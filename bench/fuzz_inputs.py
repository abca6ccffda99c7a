"""The long hostile-input run (issue 10): every field of every route made hostile in turn with several values,
on SQLite and — when TEST_DATABASE_URL names one — PostgreSQL. The suite's tests/test_fuzz.py samples four
fields per route with one value each; this runs all of them (a few minutes per backend).

    .venv/bin/python bench/fuzz_inputs.py [--values 8] [--seed 10]

Prints the figures (requests, routes, field names, statuses) per backend; exits non-zero on any 5xx, listing them.
Not a `bench_*.py`: `make bench` measures speed, this looks for crashes.
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=8, help="hostile values tried on each field")
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()
    env = dict(os.environ, FUZZ_FIELDS="0", FUZZ_VALUES=str(args.values), FUZZ_SEED=str(args.seed))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/test_fuzz.py", "-q", "-s", "-p", "no:randomly"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("fuzz [") or "server errors" in line or line.startswith("E   "):
            print(line)
    print(f"{time.perf_counter() - start:.0f} s, {args.values} values per field, seed {args.seed}: "
          f"{'no 5xx' if proc.returncode == 0 else 'FAILED'}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
