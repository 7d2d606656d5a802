"""WSGI entry: ``gunicorn wsgi:app`` and ``flask --app wsgi b24 ...``."""

from app.web import create_app

app = create_app()
