"""Errors the gateway raises on its own behalf.

Hierarchy (each class knows its HTTP status; the caller's protocol renders it
at the edge, see ``app.protocols.*.errors``):

    GatewayError
    ├── InvalidRequest          400  malformed JSON, missing or wrong fields
    ├── AuthenticationFailed    401  missing or unknown key
    ├── NotFound                404  unknown path or model
    ├── MethodNotAllowed        405
    ├── RequestTooLarge         413  body over the configured limit
    ├── RateLimited             429  (carries retry-after seconds)
    ├── InternalError           500  a bug of ours, never with details
    ├── UpstreamUnavailable     502  upstream unreachable, reset, or unreadable
    ├── ServiceOverloaded       503  nothing can take the request now
    └── UpstreamTimeout         504  connect, first byte, idle or total deadline

Upstream error *responses* of the caller's own protocol are not GatewayErrors:
they pass through unchanged. Failure classes that drive retries and breakers
live apart from these (``app.upstream.failures``).
"""

from enum import StrEnum


class ErrorKind(StrEnum):
    INVALID_REQUEST = "invalid_request"
    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    REQUEST_TOO_LARGE = "request_too_large"
    RATE_LIMIT = "rate_limit"
    INTERNAL = "internal"
    UPSTREAM_UNAVAILABLE = "upstream_unavailable"
    OVERLOADED = "overloaded"
    TIMEOUT = "timeout"


class GatewayError(Exception):
    status: int = 500
    kind: ErrorKind = ErrorKind.INTERNAL

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


class InvalidRequest(GatewayError):
    status = 400
    kind = ErrorKind.INVALID_REQUEST


class AuthenticationFailed(GatewayError):
    status = 401
    kind = ErrorKind.AUTHENTICATION


class NotFound(GatewayError):
    status = 404
    kind = ErrorKind.NOT_FOUND


class MethodNotAllowed(GatewayError):
    status = 405
    kind = ErrorKind.METHOD_NOT_ALLOWED

    def __init__(self, message: str, *, allowed: tuple[str, ...]):
        super().__init__(message)
        self.allowed = allowed


class RequestTooLarge(GatewayError):
    status = 413
    kind = ErrorKind.REQUEST_TOO_LARGE


class RateLimited(GatewayError):
    status = 429
    kind = ErrorKind.RATE_LIMIT

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class InternalError(GatewayError):
    status = 500
    kind = ErrorKind.INTERNAL


class UpstreamUnavailable(GatewayError):
    status = 502
    kind = ErrorKind.UPSTREAM_UNAVAILABLE


class ServiceOverloaded(GatewayError):
    status = 503
    kind = ErrorKind.OVERLOADED


class UpstreamTimeout(GatewayError):
    status = 504
    kind = ErrorKind.TIMEOUT
