"""The Posyandu as a community institution (Permendagri 13/2024): what its registration still lacks.

Plain Python: no Flask, no database. A Posyandu is registered when it has a registration number, an SK of the
kepala desa/lurah, a board (ketua, sekretaris, bendahara and a ketua bidang for every SPM field it serves), and
has been verified by the kelurahan/desa and validated by the district.
"""
from dataclasses import dataclass, field
from datetime import date

# The six SPM fields, in the order of Permendagri 13/2024; codes as models.kader.SPM_FIELDS.
SPM_ORDER = ("kesehatan", "pendidikan", "pekerjaan_umum", "perumahan_rakyat", "trantibumlinmas", "sosial")
CORE_BOARD = ("ketua", "sekretaris", "bendahara")
# What may be missing, in the order the report shows it.
GAPS = ("registration_number", "sk", "spm_fields", "board", "verification", "validation")


def parse_fields(text: str | None) -> list[str]:
    """The served SPM fields stored as 'kesehatan,sosial' → known codes in the regulation's order."""
    chosen = {f.strip() for f in (text or "").split(",")}
    return [f for f in SPM_ORDER if f in chosen]


def dump_fields(fields) -> str:
    """The stored form of a set of SPM fields; unknown codes are refused."""
    unknown = set(fields) - set(SPM_ORDER)
    if unknown:
        raise ValueError(f"unknown SPM field(s): {sorted(unknown)}")
    return ",".join(f for f in SPM_ORDER if f in set(fields))


def required_board(fields) -> list[str]:
    """The board positions a Posyandu serving these SPM fields must fill."""
    return list(CORE_BOARD) + [f"bidang_{f}" for f in SPM_ORDER if f in set(fields)]


@dataclass
class Registration:
    """One Posyandu's registration state and what it lacks."""

    gaps: list[str] = field(default_factory=list)
    board_missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.gaps


def registration(registration_number: str | None, sk_number: str | None, fields, held: set[str],
                 review_status: str) -> Registration:
    """What a Posyandu's registration lacks: number, SK, SPM fields, board positions (which), verification by the
    kelurahan/desa, validation by the district."""
    r = Registration()
    if not (registration_number or "").strip():
        r.gaps.append("registration_number")
    if not (sk_number or "").strip():
        r.gaps.append("sk")
    fields = list(fields)
    if not fields:
        r.gaps.append("spm_fields")
    r.board_missing = [p for p in required_board(fields) if p not in held]
    if r.board_missing:
        r.gaps.append("board")
    if review_status in ("baru", "dikembalikan"):
        r.gaps.append("verification")
    if review_status != "tervalidasi":
        r.gaps.append("validation")
    return r


@dataclass
class Tally:
    """Counts of one area (kecamatan or desa): Posyandu, complete, and per gap."""

    name: str
    total: int = 0
    complete: int = 0
    gaps: dict = field(default_factory=lambda: {g: 0 for g in GAPS})

    def add(self, reg: Registration) -> None:
        self.total += 1
        self.complete += reg.complete
        for g in reg.gaps:
            self.gaps[g] += 1

    @property
    def share(self) -> float:
        """Share registered (0–1); 0 with no Posyandu."""
        return self.complete / self.total if self.total else 0.0


def target_state(target: date | None, today: date, share: float) -> str:
    """Where the district stands against its 'every Posyandu registered by' date: none (no date set), met,
    on_track (the date is ahead), overdue (passed, not everything registered)."""
    if target is None:
        return "none"
    if share >= 1.0:
        return "met"
    return "on_track" if today <= target else "overdue"
