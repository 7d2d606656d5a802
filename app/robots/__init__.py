"""Robots: one module per robot exposing ``SPEC`` (and, later, its pure run function)."""
