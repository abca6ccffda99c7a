"""WSGI entry point: `flask --app app ...` and waitress load this."""
from posyandu import create_app

app = create_app()
