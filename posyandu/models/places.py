"""The organisation tree: district → kecamatan → kelurahan/desa → Posyandu, and Puskesmas."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import FieldRecord


class District(FieldRecord, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10), default="kota")  # kota | kabupaten
    code: Mapped[str | None] = mapped_column(String(10))
    # Month close: a report is on time when submitted within `timely_days` after the month ends; whether a
    # Puskesmas nakes verifies the health numbers before the kelurahan/desa approves (DESIGN §6).
    timely_days: Mapped[int] = mapped_column(default=5, server_default="5")
    month_verify: Mapped[bool] = mapped_column(default=True, server_default=true())
    # What the district decides for itself (issue 12); None keeps the application's default.
    government_name: Mapped[str | None] = mapped_column(String(150))  # document header: "Pemerintah Kota Bontang"
    place_name: Mapped[str | None] = mapped_column(String(60))  # where documents are signed: "Tenggarong"
    trained_target_pct: Mapped[int | None]  # share of kader trained, in percent (national target 10)
    stratum_rule: Mapped[str | None] = mapped_column(Text)  # JSON, as competence.DEFAULT_STRATUM_RULE
    # JSON {type code: {title, heading, body, issuer_title, issuer_name}}: the district's own wording of each
    # certificate type, only what differs from data/certificate_types.json (services.certificates.types_of).
    certificate_texts: Mapped[str | None] = mapped_column(Text)
    # Posyandu registration (Permendagri 13/2024): the date by which every Posyandu should be registered.
    registration_target: Mapped[date | None]
    # BPJS Ketenagakerjaan for kader (Bukan Penerima Upah): declared income, JKK rate (basis points), JKM amount.
    bpjs_income: Mapped[int] = mapped_column(default=1_000_000, server_default="1000000")
    bpjs_jkk_bp: Mapped[int] = mapped_column(default=100, server_default="100")
    bpjs_jkm: Mapped[int] = mapped_column(default=6_800, server_default="6800")

    @property
    def header(self) -> str:
        """The government line of the district's documents."""
        return self.government_name or f"Pemerintah {self.name}"

    @property
    def place(self) -> str:
        """The place printed before the date of a signed document."""
        return self.place_name or self.name.removeprefix("Kota ").removeprefix("Kabupaten ")

    def document_header(self, funding: str | None = None) -> dict:
        """What heads every PDF of the district (pdf.common.letterhead): its government line and, on a money
        document, the funding source (APBD, APBDes)."""
        return {"government": self.header, "funding": funding}

    kecamatan: Mapped[list["Kecamatan"]] = relationship(back_populates="district", order_by="Kecamatan.name")


class Kecamatan(FieldRecord, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(10))

    district: Mapped[District] = relationship(back_populates="kecamatan")
    kelurahan: Mapped[list["Kelurahan"]] = relationship(back_populates="kecamatan", order_by="Kelurahan.name")


class Puskesmas(FieldRecord, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    kecamatan_id: Mapped[int] = mapped_column(ForeignKey("kecamatan.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))

    kecamatan: Mapped[Kecamatan] = relationship()
    kelurahan: Mapped[list["Kelurahan"]] = relationship(back_populates="puskesmas", order_by="Kelurahan.name")


class Kelurahan(FieldRecord, db.Model):
    """A kelurahan or desa; `code` is the village code (kode wilayah)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kecamatan_id: Mapped[int] = mapped_column(ForeignKey("kecamatan.id"), index=True)
    puskesmas_id: Mapped[int | None] = mapped_column(ForeignKey("puskesmas.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10), default="kelurahan")  # kelurahan | desa
    code: Mapped[str | None] = mapped_column(String(13))

    kecamatan: Mapped[Kecamatan] = relationship(back_populates="kelurahan")
    puskesmas: Mapped[Puskesmas | None] = relationship(back_populates="kelurahan")
    posyandu: Mapped[list["Posyandu"]] = relationship(back_populates="kelurahan", order_by="Posyandu.name")


class Posyandu(FieldRecord, db.Model):
    """A Posyandu as a community institution (Permendagri 13/2024)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kelurahan_id: Mapped[int] = mapped_column(ForeignKey("kelurahan.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    registration_number: Mapped[str | None] = mapped_column(String(50))
    sk_number: Mapped[str | None] = mapped_column(String(100))
    sk_date: Mapped[date | None]
    sk_update_number: Mapped[str | None] = mapped_column(String(100))
    sk_update_date: Mapped[date | None]
    company_run: Mapped[bool] = mapped_column(default=False)
    company_name: Mapped[str | None] = mapped_column(String(150))
    address: Mapped[str | None] = mapped_column(String(200))
    rw: Mapped[str | None] = mapped_column(String(3))
    # Hari buka: either a fixed day of the month, or the n-th weekday of the month.
    schedule_kind: Mapped[str] = mapped_column(String(12), default="day_of_month")
    schedule_day: Mapped[int | None]  # 1–28 for day_of_month
    schedule_week: Mapped[int | None]  # 1–4 for nth_weekday
    schedule_weekday: Mapped[int | None]  # 0 Monday … 6 Sunday
    schedule_time: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    # The order of the meja steps; some districts do pelayanan (5) before penyuluhan (4).
    step_order: Mapped[str] = mapped_column(String(20), default="1,2,3,4,5", server_default="1,2,3,4,5")
    # The SPM fields it serves (comma-separated codes of kader.SPM_FIELDS); each needs a ketua bidang.
    spm_fields: Mapped[str] = mapped_column(String(120), default="", server_default="")
    # The institution verified by the kelurahan/desa, then validated by the district (as a kader record):
    # baru → terverifikasi → tervalidasi, or dikembalikan with who, when and why.
    review_status: Mapped[str] = mapped_column(String(15), default="baru", server_default="baru")
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None]
    validated_at: Mapped[datetime | None]
    validated_by_id: Mapped[int | None]
    returned_at: Mapped[datetime | None]
    returned_by_id: Mapped[int | None]
    return_reason: Mapped[str | None] = mapped_column(String(300))

    kelurahan: Mapped[Kelurahan] = relationship(back_populates="posyandu")
