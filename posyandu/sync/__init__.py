"""Laptop ↔ district sync, protocol v1 (docs/sync.md).

protocol: versions, codes and the errors every side speaks; devices: registration, enrolment, authentication;
records: a synced record as JSON and back; server: applying pushed changes, serving pulls; laptop: the outbox
and the client that pushes and pulls.
"""
