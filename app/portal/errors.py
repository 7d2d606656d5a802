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


def is_retryable(exc: BaseException) -> bool:
    """The single place that decides whether a failed job is worth retrying."""
    if isinstance(exc, PortalError):
        return exc.retryable
    return isinstance(exc, (ConnectionError, TimeoutError))
