"""The blueprints, one package per workflow area, registered in this order."""
BLUEPRINTS = ["auth", "main", "people", "places", "accounts", "sessions", "kader", "verify", "reference", "incentives", "reports", "home_visits", "districts", "months", "institution", "bpjs", "kit", "me", "devices", "sync_api", "sync_pages", "jobs"]
