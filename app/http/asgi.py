"""Granian's import target: ``app.http.asgi:app``. Each worker builds its gateway here."""

from app.http.app import app_from_environment

app = app_from_environment()
