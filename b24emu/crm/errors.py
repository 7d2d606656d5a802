"""Errors raised by the CRM store; method modules turn them into the right envelope.

The store speaks camelCase field names (or UPPER ``UF_*`` names for user fields); the
legacy methods translate ``field`` back to UPPER_CASE for their messages.
"""

from __future__ import annotations


class CrmError(Exception):
    """A refused operation: ``code`` (e.g. ``NOT_FOUND``) and a portal-style message."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class FieldValueError(CrmError):
    """A value of the wrong type or an unknown reference (``Invalid value for field "X"``)."""

    def __init__(self, field: str) -> None:
        super().__init__(
            "CRM_FIELD_ERROR_VALUE_NOT_VALID", f'Invalid value for field "{field}"', field
        )


class FieldRequiredError(CrmError):
    def __init__(self, field: str) -> None:
        super().__init__("CRM_FIELD_ERROR_REQUIRED", f'Field "{field}" is required', field)


class MultipleExpectedError(CrmError):
    def __init__(self, field: str, got: object) -> None:
        kind = "string" if isinstance(got, str) else type(got).__name__
        super().__init__(
            "100", f"Expected iterable value for multiple field, but got {kind} instead", field
        )


class NotFoundError(CrmError):
    def __init__(self, message: str = "Item not found") -> None:
        super().__init__("NOT_FOUND", message)
