"""Expose the application for gunicorn: `gunicorn wsgi:app`."""
from petitions import create_app

app = create_app()
