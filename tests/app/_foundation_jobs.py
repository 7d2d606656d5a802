"""Importable job functions for queue tests."""

from app.portal import errors


def fail_with(name: str) -> None:
    raise getattr(errors, name)("X", "test failure")


def log_hello(member_id: str) -> str:
    import logging

    logging.getLogger("tests.foundation.job").info("hello from the job")
    return "ok"
