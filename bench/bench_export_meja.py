"""Benchmark: meja-2 saves while the district e-PPGBM workbook is made as a background job, over HTTP.

    .venv/bin/python bench/bench_export_meja.py --sqlite PATH [--month 2026-11] [--saves 10] [--port 5079]

PATH is a seeded SQLite database (`flask seed-demo --children 150000 --months 24`); it is copied first (SQLite
backup API) and the copy migrated. The copy is served by `flask serve` (waitress, and the job consumer's threads
in the same process, as `make run` does). Logged in as the demo `kader`, children aged 25–30 months of her
Posyandu are queued at today's hari buka and weighed at meja 2 (last weight + 0.2 kg, length + 0.4 cm, so no
plausibility check stops them), one at a time: first with nothing else running, then — as the demo `admin`
starts the district's e-PPGBM workbook for the month — one a second until the job is done. Prints the save times
(each a POST and its redirect) and the job's duration, with the job's progress at each save.
"""
import argparse
import http.cookiejar
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "posyandu-demo"


class Browser:
    def __init__(self, base: str, user: str):
        self.base = base
        self.op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = self._token("/masuk")
        self.post("/masuk", {"username": user, "password": PASSWORD})
        self.token = self._token("/")

    def _token(self, path: str) -> str:
        html = self.op.open(self.base + path).read().decode()
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)

    def post(self, path: str, data: dict) -> tuple[float, int]:
        t = time.perf_counter()
        resp = self.op.open(self.base + path, urllib.parse.urlencode({**data, "csrf_token": self.token}).encode())
        resp.read()
        return time.perf_counter() - t, resp.status


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sqlite", required=True)
    ap.add_argument("--month", default=None, help="YYYY-MM (default: last month)")
    ap.add_argument("--saves", type=int, default=10, help="saves with nothing else running")
    ap.add_argument("--port", type=int, default=5079)
    args = ap.parse_args()
    month = args.month or (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    tmp = Path(tempfile.mkdtemp(prefix="bench-export-meja-"))
    db = tmp / "db.sqlite"
    src, dst = sqlite3.connect(args.sqlite), sqlite3.connect(db)
    src.backup(dst)
    src.close()
    dst.close()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}"}
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    con = sqlite3.connect(db)
    pos, hb = con.execute("SELECT u.posyandu_id, h.id FROM user_account u JOIN hari_buka h ON h.posyandu_id = "
                          "u.posyandu_id AND h.held_on = date('now') WHERE u.username = 'kader'").fetchone()
    kids = [r[0] for r in con.execute(
        "SELECT id FROM person WHERE posyandu_id = ? AND deleted_at IS NULL AND birth_date BETWEEN "
        "date('now', '-30 months') AND date('now', '-25 months') AND id NOT IN (SELECT person_id FROM visit WHERE "
        "hari_buka_id = ?) LIMIT ?", (pos, hb, args.saves + 60))]
    server = subprocess.Popen(flask + ["serve", "--port", str(args.port)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{args.port}"
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/healthz").read()
                break
            except OSError:
                time.sleep(0.5)
        kader = Browser(base, "kader")

        def save(pid: int) -> tuple[float, int]:
            kader.post(f"/hari-buka/{hb}/antri", {"person_id": pid})
            c = sqlite3.connect(db)
            vid = c.execute("SELECT id FROM visit WHERE hari_buka_id = ? AND person_id = ?", (hb, pid)).fetchone()[0]
            w, length = c.execute("SELECT weight_kg, length_cm FROM measurement WHERE person_id = ? AND weight_kg IS "
                                  "NOT NULL AND length_cm IS NOT NULL ORDER BY measured_on DESC LIMIT 1",
                                  (pid,)).fetchone() or (12.4, 89.0)
            c.close()
            return kader.post(f"/hari-buka/{hb}/kunjungan/{vid}/meja/2",
                              {"weight_kg": f"{w + 0.2:.1f}", "length_cm": f"{length + 0.4:.1f}", "position": "h"})

        idle = [save(p) for p in kids[:args.saves]]
        print(f"meja-2 saves, nothing else running: n={len(idle)}, median {1000 * statistics.median(t for t, _ in idle):.0f} ms, "
              f"max {1000 * max(t for t, _ in idle):.0f} ms, statuses {sorted({s for _, s in idle})}")
        admin = Browser(base, "admin")
        t0 = time.perf_counter()
        took, _ = admin.post(f"/laporan/kabupaten/eppgbm.xlsx?bulan={month}", {})
        job = con.execute("SELECT id FROM job ORDER BY id DESC LIMIT 1").fetchone()[0]
        print(f"district e-PPGBM {month}: job started, its page answered in {1000 * took:.0f} ms")
        busy, rest = [], iter(kids[args.saves:])
        while True:
            c = sqlite3.connect(db)
            state, done, total = c.execute("SELECT status, done, total FROM job WHERE id = ?", (job,)).fetchone()
            c.close()
            if state in ("done", "failed"):
                break
            pid = next(rest, None)
            if pid is not None:
                busy.append((f"{done}/{total}",) + save(pid))
            time.sleep(1)
        whole = time.perf_counter() - t0
        print(f"job {state} in {whole:.1f} s; meja-2 saves meanwhile: n={len(busy)}, median "
              f"{1000 * statistics.median(t for _, t, _ in busy):.0f} ms, max {1000 * max(t for _, t, _ in busy):.0f} ms, "
              f"statuses {sorted({s for _, _, s in busy})}")
        print("job progress at each save:", " ".join(p for p, _, _ in busy))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
