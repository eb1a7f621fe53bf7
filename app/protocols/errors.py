"""Gateway errors rendered in each error family's body shape (PROTOCOLS.md 2.8, 4.9, 5.9, 7.14)."""

from app.canonical.protocol import ErrorShape
from app.core import json
from app.core.errors import ErrorKind, GatewayError

_OPENAI_TYPE = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "invalid_request_error",
    ErrorKind.PERMISSION: "permission_error",
    ErrorKind.NOT_FOUND: "invalid_request_error",
    ErrorKind.METHOD_NOT_ALLOWED: "invalid_request_error",
    ErrorKind.REQUEST_TOO_LARGE: "invalid_request_error",
    ErrorKind.RATE_LIMIT: "rate_limit_error",
    ErrorKind.INTERNAL: "server_error",
    ErrorKind.UPSTREAM_UNAVAILABLE: "server_error",
    ErrorKind.OVERLOADED: "server_error",
    ErrorKind.TIMEOUT: "server_error",
}
_OPENAI_CODE = {
    ErrorKind.AUTHENTICATION: "invalid_api_key",
    ErrorKind.RATE_LIMIT: "rate_limit_exceeded",
    ErrorKind.REQUEST_TOO_LARGE: "request_too_large",
    ErrorKind.UPSTREAM_UNAVAILABLE: "upstream_unavailable",
    ErrorKind.OVERLOADED: "overloaded",
    ErrorKind.TIMEOUT: "timeout",
}
_ANTHROPIC_TYPE = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "authentication_error",
    ErrorKind.PERMISSION: "permission_error",
    ErrorKind.NOT_FOUND: "not_found_error",
    ErrorKind.METHOD_NOT_ALLOWED: "invalid_request_error",
    ErrorKind.REQUEST_TOO_LARGE: "request_too_large",
    ErrorKind.RATE_LIMIT: "rate_limit_error",
    ErrorKind.INTERNAL: "api_error",
    ErrorKind.UPSTREAM_UNAVAILABLE: "api_error",
    ErrorKind.OVERLOADED: "overloaded_error",
    ErrorKind.TIMEOUT: "timeout_error",
}
_GEMINI_STATUS = {
    ErrorKind.INVALID_REQUEST: "INVALID_ARGUMENT",
    ErrorKind.AUTHENTICATION: "UNAUTHENTICATED",
    ErrorKind.PERMISSION: "PERMISSION_DENIED",
    ErrorKind.NOT_FOUND: "NOT_FOUND",
    ErrorKind.METHOD_NOT_ALLOWED: "INVALID_ARGUMENT",
    ErrorKind.REQUEST_TOO_LARGE: "INVALID_ARGUMENT",
    ErrorKind.RATE_LIMIT: "RESOURCE_EXHAUSTED",
    ErrorKind.INTERNAL: "INTERNAL",
    ErrorKind.UPSTREAM_UNAVAILABLE: "UNAVAILABLE",
    ErrorKind.OVERLOADED: "UNAVAILABLE",
    ErrorKind.TIMEOUT: "DEADLINE_EXCEEDED",
}


def error_body(shape: ErrorShape, error: GatewayError) -> bytes:
    if shape is ErrorShape.ANTHROPIC:
        return json.dumps(anthropic_error(error))
    if shape is ErrorShape.GEMINI:
        return json.dumps(gemini_error(error))
    return json.dumps(openai_error(error))


def openai_error(error: GatewayError) -> dict[str, object]:
    return {
        "error": {
            "message": error.message,
            "type": _OPENAI_TYPE[error.kind],
            "param": error.param,
            "code": error.code or _OPENAI_CODE.get(error.kind),
        }
    }


def anthropic_error(error: GatewayError) -> dict[str, object]:
    return {
        "type": "error",
        "error": {"type": _ANTHROPIC_TYPE[error.kind], "message": error.message},
    }


def gemini_error(error: GatewayError) -> dict[str, object]:
    return {
        "error": {
            "code": error.status,
            "message": error.message,
            "status": _GEMINI_STATUS[error.kind],
        }
    }


def upstream_error_message(body: bytes) -> str | None:
    """The message inside any of the three error shapes (also Gemini's ``[{"error":...}]``)."""
    try:
        document = json.loads(body)
    except json.JSONDecodeError:
        return None
    if isinstance(document, list) and document:
        document = document[0]
    error = document.get("error") if isinstance(document, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    return None
