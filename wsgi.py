"""Expose the application for gunicorn: `gunicorn -c gunicorn.conf.py wsgi:app` (docs/deploy.md)."""
from petitions import create_app

app = create_app()
