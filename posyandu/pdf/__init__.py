"""PDF documents with reportlab: pure functions from plain data to bytes (no database, no request)."""
