"""All models, imported so SQLAlchemy and Alembic see every table."""
from .accounts import DISTRICT_ROLES, ROLES, AuthSession, Invitation, Throttle, User
from .assets import Asset
from .audit import AuditLog, IdempotencyKey
from .growth import Measurement
from .home_visits import HomeVisit
from .jobs import Job
from . import reports as _report_indexes  # noqa: F401  (indexes the reports need)
from .incentives import BATCH_STATES, IncentiveBatch, IncentiveLine, IncentivePolicy, IncentivePreparer, LockedBatch
from .kader import BOARD_POSITIONS, KADER_ROLES, SPM_FIELDS, Kader, KaderRole, KaderSigner
from .months import MonthEvent, PosyanduChange, PosyanduMonth, PosyanduMonthSection, SiteChange
from .people import Person, PersonTransfer, Pregnancy
from .places import District, Kecamatan, Kelurahan, Posyandu, Puskesmas
from .roster import Certificate, Commitment, CommitmentTemplate, ImmutableRecord, KaderAssessment
from .sync import Device, SyncCase, SyncCounter, SyncMeta, SyncReceipt, SyncRow, SyncState
from .session import Duty, HariBuka, KbmTable, ScreeningRecord, ServiceRecord, Visit

__all__ = [
    "Asset", "DISTRICT_ROLES", "ROLES", "AuthSession", "Invitation", "Throttle", "User", "AuditLog", "IdempotencyKey", "Measurement", "HomeVisit", "Job", "MonthEvent", "PosyanduChange", "PosyanduMonth", "PosyanduMonthSection", "SiteChange",
    "BOARD_POSITIONS", "KADER_ROLES", "SPM_FIELDS", "Kader", "KaderRole", "KaderSigner", "Person", "PersonTransfer", "Pregnancy",
    "District", "Kecamatan", "Kelurahan", "Posyandu", "Puskesmas",
    "Certificate", "Commitment", "CommitmentTemplate", "ImmutableRecord", "KaderAssessment",
    "Device", "SyncCase", "SyncCounter", "SyncMeta", "SyncReceipt", "SyncRow", "SyncState", "Duty", "HariBuka", "KbmTable", "ScreeningRecord", "ServiceRecord", "Visit",
    "BATCH_STATES", "IncentiveBatch", "IncentiveLine", "IncentivePolicy", "IncentivePreparer", "LockedBatch",
]
