"""Importable job functions for queue tests."""

from app.portal import errors


def fail_with(name: str) -> None:
    raise getattr(errors, name)("X", "test failure")
