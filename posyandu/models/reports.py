"""Indexes the reports need on tables owned by other areas (declared here so those models stay untouched).

A kecamatan or district report reads a month of measurements by date (services.reports: `wide`). The district
report and the home page read every person of the district: `ix_person_roll` holds all they read of a person (the
area, S's birth-date range, the roll, sex and K), so SQLite answers from the index alone. Vitamin A, pregnancies
and new stunting are read from their own small side (by kind and date, by HPHT, by the few marked rows) instead
of probing every person. On SQLite child_month finds each child's newest weighing of the month by a backward
step on `ix_measurement_weighed` (services.reports._weighed_by_probe)."""
from sqlalchemy import Index, text

from .growth import Measurement
from .people import Person, Pregnancy
from .session import ServiceRecord, Visit

# On PostgreSQL the date index carries what a month's reading needs, so a district's month is read from the
# index alone (a month's rows lie scattered over the table's pages: one random page read per row otherwise).
MONTH_COLUMNS = ("id", "person_id", "weight_kg", "flagged", "ntob", "bgm", "two_t", "waz", "lhaz", "whz",
                 "new_stunting", "age_days")
ix_measurement_measured_on = Index("ix_measurement_measured_on", Measurement.measured_on,
                                   postgresql_include=list(MONTH_COLUMNS))
# On PostgreSQL it also carries the id (SQLite's indexes carry the rowid): the ILP lists' pregnancy tests need it.
ix_person_roll = Index("ix_person_roll", Person.posyandu_id, Person.birth_date, Person.left_on, Person.deleted_at,
                       Person.sex, Person.has_kia_book, postgresql_include=["id"])
ix_service_record_kind_date = Index("ix_service_record_kind_date", ServiceRecord.kind, ServiceRecord.given_on)
ix_pregnancy_hpht = Index("ix_pregnancy_hpht", Pregnancy.hpht)
ix_measurement_weighed = Index("ix_measurement_weighed", Measurement.person_id, Measurement.measured_on,
                               sqlite_where=text("weight_kg IS NOT NULL"),
                               postgresql_where=text("weight_kg IS NOT NULL"))
# The rows marking new stunting (few): the queries say `new_stunting = 1 AND flagged = 0` on SQLite, which must
# match the index's condition word for word there.
ix_measurement_new_stunting = Index("ix_measurement_new_stunting", Measurement.person_id, Measurement.measured_on,
                                    sqlite_where=text("weight_kg IS NOT NULL AND new_stunting = 1 AND flagged = 0"),
                                    postgresql_where=text("weight_kg IS NOT NULL AND new_stunting AND NOT flagged"))
# A month's ILP visits are read from its hari buka: the visit's person and group from the index alone.
ix_visit_hari_buka_person = Index("ix_visit_hari_buka_person", Visit.hari_buka_id, Visit.person_id, Visit.group)
