"""Indexes the reports need on tables owned by other areas (declared here so those models stay untouched).

A kecamatan or district report reads a month of measurements by date (services.reports: `wide`)."""
from sqlalchemy import Index

from .growth import Measurement

ix_measurement_measured_on = Index("ix_measurement_measured_on", Measurement.measured_on)
