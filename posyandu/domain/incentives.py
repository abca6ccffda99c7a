"""Incentive arithmetic for kader (DESIGN §3 Incentives): plain Python, integer Rupiah, no Flask.

Rules, chosen once and used everywhere:

* **Money** is an `int` of whole Rupiah. Rates are integer basis points (250 = 2,5 %). No floats anywhere.
* **Rounding:** every fraction of a Rupiah is dropped — `amount * numerator // denominator` (floor). This one rule
  serves PPh 21 (tax = floor(gross × rate)), percentage reductions and proration. Floor never withholds more tax than
  the stated rate, and all three results are reproducible by hand from the slip.
* **Policy in force** for a month is the district policy with the latest `valid_from` on or before the month's first
  day; `valid_from` is always a first of a month, so a policy change happens at a month boundary.
* **Proration** by calendar days: a person who served only part of the month (joined or left mid-month) receives
  floor(amount × days served ÷ days in the month). Days served are the days of the month covered by at least one of
  the person's roles (overlapping roles count once).
* **Several roles:** one line per person per month. By default the person is paid once, however many roles she
  holds (DESIGN §3: 360 of 514 Bontang kader hold more than one); a policy may pay per role (`pay_per_role`), then
  each role is prorated over its own days and the line says so.
* **Performance:** each condition of the policy that is not met reduces the prorated amount by a fixed amount or a
  percentage, with the reason the policy states; reductions never take the amount below zero. A condition that
  cannot be assessed (no hari buka held that month; home visits not recorded in the system) is not applied and the
  line notes why.
* **Verification:** a person whose kader record is not verified (new, or sent back) is paid only if the policy
  says so; otherwise her line is kept at zero with the reason "Menunggu verifikasi" (a hold, not a loss: the
  next batch or a correction pays her once verified).
* **Closed months only (issue 13):** a batch pays from approved Posyandu-months. A person who served a Posyandu
  whose month is not approved yet gets a line held at zero with the reason "Laporan bulan belum disetujui" —
  never silently missing. A person serving two Posyandu is held as a whole until *both* months are approved (her
  conditions — attendance, home visits, on-time reports — are judged over all her Posyandu, so half the data
  would judge her wrongly); she is paid by a recompute of the draft or, once the batch is paid, by a correction.
  No condition is assessed on a held line.
* **On-time report (`on_time`):** the Posyandu-month's report was first submitted within the district's
  `timely_days` after the month ended (measured by the server, services.months). With several Posyandu the
  condition is met only when every one of them reported on time.
* **Board-only roles:** sekretaris, bendahara and ketua bidang without kader duties (no kader or ketua role on a
  day) are paid the policy's board amount, and nothing when the policy sets none — never the kader amount by
  default.
* **Deductions:** PPh 21 on the gross; then BPJS Ketenagakerjaan (JKK + JKM) for an enrolled person when the policy
  deducts it, never more than what remains after tax.
* **Totals** are sums of the lines, nothing else.
"""
import calendar
from dataclasses import dataclass, field, replace
from datetime import date

BPJS_TK_BPU = 16_800  # JKK Rp10.000 + JKM Rp6.800 a month (Bukan Penerima Upah)
FUNDING_SOURCES = ("APBD", "APBDes", "Dana Desa")
CONDITIONS = ("attendance", "commitment", "home_visits", "on_time")
REDUCTION_KINDS = ("percent", "amount")
FULL_BP = 10_000
KADER_DUTY_ROLES = ("kader", "ketua")  # roles that work the hari buka; the other board positions do not
VERIFIED = ("terverifikasi", "tervalidasi")  # kader review states that count as verified
HOLD_REASON = "Menunggu verifikasi"
MONTH_HOLD_REASON = "Laporan bulan belum disetujui"  # a held line: her Posyandu-month is not approved yet
# A batch's state as the Indonesian documents (XLSX) name it; the screens use labels.BATCH_STATUS.
STATUS_NAMES = {"draft": "Draf", "approved": "Disetujui", "paid": "Dibayar"}


def floor_part(amount: int, numerator: int, denominator: int) -> int:
    """amount × numerator ÷ denominator, fractions of a Rupiah dropped (the one rounding rule)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    if amount < 0:  # symmetric for corrections: -floor(|x|), so a reversal cancels exactly
        return -((-amount) * numerator // denominator)
    return amount * numerator // denominator


def tax(gross: int, rate_bp: int) -> int:
    """PPh 21: floor(gross × rate), in whole Rupiah."""
    return floor_part(gross, rate_bp, FULL_BP)


def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def days_in_month(d: date) -> int:
    return calendar.monthrange(d.year, d.month)[1]


@dataclass(frozen=True)
class Reduction:
    """What a missing condition costs: a percentage (basis points of the prorated amount) or a fixed amount."""

    kind: str  # percent | amount
    value: int
    reason: str

    def amount_of(self, base: int) -> int:
        return floor_part(base, self.value, FULL_BP) if self.kind == "percent" else self.value


@dataclass(frozen=True)
class Policy:
    """A district's incentive policy from `valid_from` (a first of the month) until the next one."""

    valid_from: date
    amount: int
    funding_source: str = "APBD"
    pph21_bp: int = 0
    bpjs_deduction: bool = False
    bpjs_amount: int = BPJS_TK_BPU
    pay_per_role: bool = False
    # condition → the reduction applied when it is required and not met
    require: dict = field(default_factory=dict)  # {"attendance": Reduction, …}
    min_home_visits: int = 0
    hold_unverified: bool = False  # True: an unverified person's line is held at zero ("Menunggu verifikasi")
    board_amount: int | None = None  # a month of a board-only role; None: board-only roles are not paid
    id: int | None = None

    def __post_init__(self):
        if self.valid_from.day != 1:
            raise ValueError("a policy starts on the first day of a month")
        if (self.board_amount or 0) < 0:
            raise ValueError("the board amount is whole non-negative Rupiah")
        if self.amount < 0 or not 0 <= self.pph21_bp <= FULL_BP or self.bpjs_amount < 0:
            raise ValueError("amounts are whole non-negative Rupiah; the rate is 0–10000 basis points")
        for cond, red in self.require.items():
            if cond not in CONDITIONS or red.kind not in REDUCTION_KINDS or red.value < 0 or not red.reason:
                raise ValueError(f"bad reduction for {cond}")
            if red.kind == "percent" and red.value > FULL_BP:
                raise ValueError("a percentage reduction is at most 100 %")


def policy_for(policies: list[Policy], month: date) -> Policy | None:
    """The policy in force in the month: the latest starting on or before its first day."""
    first = month_start(month)
    live = [p for p in policies if p.valid_from <= first]
    return max(live, key=lambda p: p.valid_from) if live else None


@dataclass(frozen=True)
class RoleSpan:
    role: str
    start: date
    end: date | None  # inclusive; None = still serving
    posyandu: str = ""


@dataclass
class KaderMonth:
    """What the rule needs to know about one person in one month."""

    kader_id: int
    name: str
    roles: list[RoleSpan]
    hari_buka_held: int = 0
    hari_buka_attended: int = 0
    commitment_signed: bool = False
    home_visits: int | None = None  # None: not recorded in the system (the condition is not applied)
    bpjs_enrolled: bool = False
    verified: bool = True  # the kader record is verified (or validated) by the kelurahan
    report_on_time: bool | None = None  # every Posyandu she served reported on time (None: not known)
    late_posyandu: tuple[str, ...] = ()  # the Posyandu whose report was late (printed in the reason's note)
    unapproved: tuple[str, ...] = ()  # the Posyandu she served whose month is not approved: the line is held


@dataclass(frozen=True)
class Cut:
    code: str
    amount: int
    reason: str


@dataclass
class Line:
    """One person's incentive for a month. gross = prorated − reductions + adjustment; net = gross − pph21 − bpjs."""

    kader_id: int
    name: str
    units: int
    days_served: int
    days_in_month: int
    base: int  # the full monthly amount × units
    prorated: int
    cuts: list[Cut]
    adjustment: int = 0
    adjustment_reason: str = ""
    gross: int = 0
    pph21: int = 0
    bpjs: int = 0
    net: int = 0
    notes: list[str] = field(default_factory=list)


def _days(spans: list[RoleSpan], month: date) -> set[int]:
    first, last = month_start(month), month_end(month)
    out: set[int] = set()
    for s in spans:
        a, b = max(s.start, first), min(s.end or last, last)
        if a <= b:
            out.update(range(a.day, b.day + 1))
    return out


def _condition_met(policy: Policy, code: str, km: KaderMonth) -> bool | None:
    """True/False, or None when it cannot be assessed this month."""
    if code == "attendance":
        return None if km.hari_buka_held == 0 else km.hari_buka_attended > 0
    if code == "commitment":
        return km.commitment_signed
    if code == "home_visits":
        return None if km.home_visits is None else km.home_visits >= policy.min_home_visits
    if code == "on_time":
        return km.report_on_time
    raise ValueError(code)


NOT_ASSESSED = {
    "attendance": "Tidak ada hari buka di Posyandunya bulan ini: syarat kehadiran tidak diterapkan.",
    "home_visits": "Kunjungan rumah belum tercatat di sistem: syarat kunjungan rumah tidak diterapkan.",
    "on_time": "Ketepatan waktu laporan tidak tercatat: syarat laporan tepat waktu tidak diterapkan.",
}


def compute_line(policy: Policy, month: date, km: KaderMonth, pph21_bp: int | None = None) -> Line | None:
    """The person's line for the month under the policy, or None when she held no role in the month."""
    dim = days_in_month(month)
    served = _days(km.roles, month)
    if not served:
        return None
    notes = []
    board = policy.board_amount or 0
    duty_days = _days([s for s in km.roles if s.role in KADER_DUTY_ROLES], month)
    board_only_days = served - duty_days
    if policy.pay_per_role:
        per_role = [(s.role in KADER_DUTY_ROLES, len(_days([s], month))) for s in km.roles]
        per_role = [(duty, d) for duty, d in per_role if d]
        units = len(per_role)
        prorated = sum(floor_part(policy.amount if duty else board, d, dim) for duty, d in per_role)
        base = sum(policy.amount if duty else board for duty, _ in per_role)
        if units > 1:
            notes.append(f"Dibayar per peran: {units} peran.")
    else:
        units = 1
        prorated = floor_part(policy.amount, len(duty_days), dim) + floor_part(board, len(board_only_days), dim)
        base = policy.amount if duty_days else board
        active = sum(1 for s in km.roles if _days([s], month))
        if active > 1:
            notes.append(f"Memegang {active} peran; dibayar satu kali.")
    board_paid_per_role = policy.pay_per_role and any(
        s.role not in KADER_DUTY_ROLES and _days([s], month) for s in km.roles)
    if board_only_days or board_paid_per_role:
        notes.append("Pengurus tanpa tugas kader: tidak menerima insentif menurut kebijakan." if policy.board_amount
                     is None else f"Pengurus tanpa tugas kader: {rupiah(board)} per bulan menurut kebijakan.")
    if len(served) < dim:
        notes.append(f"Prorata {len(served)}/{dim} hari.")
    cuts, left = [], prorated
    if km.unapproved:  # held whole: no condition is judged on a month that is not closed
        notes.append(f"Ditahan: laporan bulan {', '.join(km.unapproved)} belum disetujui; dibayar setelah "
                     "disetujui (hitung ulang atau batch koreksi).")
        line = Line(kader_id=km.kader_id, name=km.name, units=units, days_served=len(served), days_in_month=dim,
                    base=base, prorated=prorated, cuts=[Cut("month_open", prorated, MONTH_HOLD_REASON)], notes=notes)
        return settle(line, policy.pph21_bp if pph21_bp is None else pph21_bp, 0)  # nothing paid: no BPJS due
    for code in CONDITIONS:
        red = policy.require.get(code)
        if red is None:
            continue
        met = _condition_met(policy, code, km)
        if met is None:
            notes.append(NOT_ASSESSED[code])
        elif not met:
            amount = min(red.amount_of(prorated), left)
            left -= amount
            cuts.append(Cut(code, amount, red.reason))
            if code == "on_time" and km.late_posyandu:
                notes.append(f"Laporan terlambat: {', '.join(km.late_posyandu)}.")
    if not km.verified:
        if policy.hold_unverified:
            cuts.append(Cut("verification", left, HOLD_REASON))
            left = 0
        else:
            notes.append("Data kader belum terverifikasi; dibayar menurut kebijakan.")
    line = Line(kader_id=km.kader_id, name=km.name, units=units, days_served=len(served), days_in_month=dim,
                base=base, prorated=prorated, cuts=cuts, notes=notes)
    return settle(line, policy.pph21_bp if pph21_bp is None else pph21_bp,
                  policy.bpjs_amount if policy.bpjs_deduction and km.bpjs_enrolled else 0)


def settle(line: Line, pph21_bp: int, bpjs_due: int) -> Line:
    """Gross, PPh 21, BPJS and net from the prorated amount, the reductions and any manual adjustment."""
    gross = line.prorated - sum(c.amount for c in line.cuts) + line.adjustment
    if gross < 0:
        raise ValueError("an adjustment cannot make the gross negative")
    pph = tax(gross, pph21_bp)
    bpjs = min(bpjs_due, gross - pph)
    notes = [n for n in line.notes if not n.startswith("BPJS")]
    if bpjs < bpjs_due:
        notes.append(f"BPJS dipotong Rp{bpjs:,} dari Rp{bpjs_due:,}: jumlah bersih tidak cukup.".replace(",", "."))
    return replace(line, gross=gross, pph21=pph, bpjs=bpjs, net=gross - pph - bpjs, notes=notes)


def adjust(line: Line, amount: int, reason: str, pph21_bp: int, bpjs_due: int) -> Line:
    """A clerk's adjustment (signed Rupiah) with its reason; replaces any earlier adjustment of the line."""
    if amount and not (reason or "").strip():
        raise ValueError("an adjustment needs a reason")
    return settle(replace(line, adjustment=amount, adjustment_reason=reason.strip() if amount else ""),
                  pph21_bp, bpjs_due)


TOTAL_KEYS = ("prorated", "reductions", "adjustment", "gross", "pph21", "bpjs", "net")


def totals(lines) -> dict[str, int]:
    """Column totals: the sums of the lines. Works on Line objects and on anything with the same attributes."""
    out = dict.fromkeys(TOTAL_KEYS, 0)
    for ln in lines:
        out["prorated"] += ln.prorated
        out["reductions"] += sum(c.amount for c in ln.cuts) if hasattr(ln, "cuts") else ln.reductions_total
        out["adjustment"] += ln.adjustment
        out["gross"] += ln.gross
        out["pph21"] += ln.pph21
        out["bpjs"] += ln.bpjs
        out["net"] += ln.net
    return out


@dataclass(frozen=True)
class Delta:
    """What a correction pays (or recovers, when negative) for one person: new figures minus those already paid."""

    kader_id: int
    gross: int
    pph21: int
    bpjs: int
    net: int


def deltas(paid: dict[int, tuple[int, int, int]], now: dict[int, tuple[int, int, int]]) -> list[Delta]:
    """paid/now: kader_id → (gross, pph21, bpjs). Tax and BPJS of the correction are the differences, so the
    original plus its corrections always carry exactly the tax on the final gross."""
    out = []
    for kid in sorted(set(paid) | set(now)):
        g0, t0, b0 = paid.get(kid, (0, 0, 0))
        g1, t1, b1 = now.get(kid, (0, 0, 0))
        if (g0, t0, b0) != (g1, t1, b1):
            out.append(Delta(kid, g1 - g0, t1 - t0, b1 - b0, (g1 - t1 - b1) - (g0 - t0 - b0)))
    return out


def rupiah(amount: int) -> str:
    """Rp1.000.000 — dots between thousands, no decimals; a negative amount as -Rp50.000."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")


def terbilang(amount: int) -> str:
    """The amount in words in Bahasa Indonesia (num2words, lang='id'): 1000000 → 'satu juta rupiah'."""
    from num2words import num2words

    words = num2words(abs(amount), lang="id")
    return ("minus " if amount < 0 else "") + words + " rupiah"


def month_name(d: date) -> str:
    return ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
            "November", "Desember")[d.month - 1] + f" {d.year}"
