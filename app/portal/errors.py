"""Our own exception types for everything a portal can answer, with the Bitrix code kept.

Every portal failure surfaces as a :class:`PortalError` subclass; callers catch the class,
never parse descriptions. Whether RQ retries a job is decided in one place:
:func:`is_retryable`.
"""

from __future__ import annotations


class PortalError(Exception):
    """A failed portal call. ``code`` is Bitrix's ``error`` value (may be ``""``)."""

    retryable = False

    def __init__(
        self,
        code: str = "",
        description: str = "",
        *,
        status: int | None = None,
        method: str | None = None,
    ) -> None:
        self.code = code
        self.description = description
        self.status = status
        self.method = method
        where = f" in {method}" if method else ""
        super().__init__(f"{code or 'ERROR'}{where}: {description}".strip())


class RateLimited(PortalError):
    """503 QUERY_LIMIT_EXCEEDED / OVERLOAD_LIMIT: the leaky bucket overflowed."""

    retryable = True


class OperatingLimit(PortalError):
    """429 OPERATION_TIME_LIMIT: the method's 10-minute time budget is spent."""

    retryable = True

    def __init__(self, *args, reset_at: float | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reset_at = reset_at


class TokenExpired(PortalError):
    """401 expired_token that survived one refresh attempt."""

    retryable = True


class TokenInvalid(PortalError):
    """401 invalid_token / NO_AUTH_FOUND / INVALID_CREDENTIALS, or refresh → invalid_grant.

    The installation needs re-install; retrying cannot help."""


class PaymentRequired(PortalError):
    """The OAuth server answered PAYMENT_REQUIRED: stop calling until the app is paid."""


class AccessDenied(PortalError):
    """403 ACCESS_DENIED / WRONG_AUTH_TYPE / insufficient_scope / user_access_error."""


class NotFound(PortalError):
    """The record/type/stage does not exist (NOT_FOUND, legacy "Not found", ...)."""


class InvalidField(PortalError):
    """Validation failed (CRM_FIELD_ERROR_VALUE_NOT_VALID, INVALID_ARG_VALUE, ERROR_ARGUMENT,
    required field missing, ...)."""


class AlreadyExists(PortalError):
    """The thing we tried to add is already there (robot, handler, status id)."""


class MethodNotFound(PortalError):
    """404 ERROR_METHOD_NOT_FOUND."""


class PortalGone(PortalError):
    """PORTAL_DELETED, or the installation was uninstalled."""


class ServerError(PortalError):
    """5xx other than rate limiting (INTERNAL_SERVER_ERROR, ERROR_CORE 500, ...)."""

    retryable = True


class TransportError(PortalError):
    """Connection refused/reset, timeout, TLS, non-JSON body."""

    retryable = True


class HostNotAllowed(AccessDenied):
    """The portal or OAuth host is not on the allow-list: we refuse to call it at all."""


# Bitrix code → class. Codes not listed fall back on the HTTP status (see error_for).
_BY_CODE: dict[str, type[PortalError]] = {
    "QUERY_LIMIT_EXCEEDED": RateLimited,
    "OVERLOAD_LIMIT": RateLimited,
    "OPERATION_TIME_LIMIT": OperatingLimit,
    "expired_token": TokenExpired,
    "invalid_token": TokenInvalid,
    "NO_AUTH_FOUND": TokenInvalid,
    "INVALID_CREDENTIALS": TokenInvalid,
    "ERROR_OAUTH": TokenInvalid,
    "invalid_grant": TokenInvalid,
    "invalid_client": TokenInvalid,
    "invalid_request": TokenInvalid,
    "invalid_scope": TokenInvalid,
    "PAYMENT_REQUIRED": PaymentRequired,
    "insufficient_scope": AccessDenied,
    "ACCESS_DENIED": AccessDenied,
    "WRONG_AUTH_TYPE": AccessDenied,
    "user_access_error": AccessDenied,
    "METHOD_CONFIRM_WAITING": AccessDenied,
    "METHOD_CONFIRM_DENIED": AccessDenied,
    "PORTAL_DELETED": PortalGone,
    "ERROR_METHOD_NOT_FOUND": MethodNotFound,
    "NOT_FOUND": NotFound,
    "ERROR_ARGUMENT": InvalidField,
    "INVALID_ARG_VALUE": InvalidField,
    "CRM_FIELD_ERROR_VALUE_NOT_VALID": InvalidField,
    "ERROR_BATCH_LENGTH_EXCEEDED": InvalidField,
    "ERROR_BATCH_METHOD_NOT_ALLOWED": InvalidField,
    "INVALID_REQUEST": InvalidField,
    "WRONG_ENCODING": InvalidField,
    "INTERNAL_SERVER_ERROR": ServerError,
    "ERROR_UNEXPECTED_ANSWER": ServerError,
    "INTERNAL_WRONG_TRANSPORT": ServerError,
}

_BY_STATUS: dict[int, type[PortalError]] = {
    401: TokenInvalid,
    402: PaymentRequired,
    403: AccessDenied,
    404: MethodNotFound,
    429: OperatingLimit,
    503: RateLimited,
}


def _legacy_class(description: str) -> type[PortalError]:
    """Legacy CRM methods answer ``error: ""``: the description is all there is."""
    text = description.lower()
    if "not found" in text or "is not defined or invalid" in text:
        return NotFound
    if "access denied" in text:
        return AccessDenied
    return InvalidField


def error_class(code: str, description: str = "", status: int | None = None) -> type[PortalError]:
    """The one mapping from (Bitrix ``error`` code, description, HTTP status) to our class.

    Order: exact code (§1.5 of the protocol digest) → code families (``*_NOT_FOUND``,
    ``*ALREADY*``) → legacy empty code by description → HTTP status → InvalidField for
    other 4xx, ServerError for 5xx, plain PortalError otherwise. ``ERROR_CORE`` depends on
    the status: 500 is an SQL failure on the portal (retryable), 400 a business refusal.
    """
    code = "" if code is None else str(code)
    if status is not None and status < 400:
        status = None  # an error envelope with 200: judge by the code alone, like in a batch
    if code in _BY_CODE:
        return _BY_CODE[code]
    upper = code.upper()
    if upper.endswith("NOT_FOUND"):
        return NotFound
    if "ALREADY" in upper:
        return AlreadyExists
    if code == "" and status in (None, 400):
        return _legacy_class(description or "")
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status is not None and status >= 500:
        return ServerError
    if status is None or 400 <= status < 500:
        return InvalidField
    return PortalError


def error_for(
    code: str,
    description: str = "",
    *,
    status: int | None = None,
    method: str | None = None,
    reset_at: float | None = None,
) -> PortalError:
    """Build the typed exception for a portal error envelope (or a batch ``result_error``)."""
    cls = error_class(code, description, status)
    code = "" if code is None else str(code)
    if cls is OperatingLimit:
        return OperatingLimit(code, description, status=status, method=method, reset_at=reset_at)
    return cls(code, description or "", status=status, method=method)


def is_retryable(exc: BaseException) -> bool:
    """The single place that decides whether a failed job is worth retrying."""
    if isinstance(exc, PortalError):
        return exc.retryable
    return isinstance(exc, (ConnectionError, TimeoutError))
