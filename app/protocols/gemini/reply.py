"""What a Gemini reply means, read the same way from a body or from a stream.

Shared by ``decode_response`` and ``StreamDecoder`` so that folding a stream
gives the body's translation (PROTOCOLS.md 5.5-5.8, 7.12).
"""

import hashlib
import secrets
import time
from datetime import datetime
from typing import Any

from app.canonical.response import FinishReason, StreamError
from app.core.errors import ErrorKind

# Gemini says STOP after function calls too; a call seen anywhere makes it
# tool_calls instead (E9), whatever the raw value.
_FINISH = {
    "STOP": FinishReason.STOP,
    "MAX_TOKENS": FinishReason.LENGTH,
    "SAFETY": FinishReason.CONTENT_FILTER,
    "RECITATION": FinishReason.CONTENT_FILTER,
    "BLOCKLIST": FinishReason.CONTENT_FILTER,
    "PROHIBITED_CONTENT": FinishReason.CONTENT_FILTER,
    "SPII": FinishReason.CONTENT_FILTER,
    "IMAGE_SAFETY": FinishReason.CONTENT_FILTER,
    "IMAGE_PROHIBITED_CONTENT": FinishReason.CONTENT_FILTER,
    "IMAGE_RECITATION": FinishReason.CONTENT_FILTER,
    "IMAGE_OTHER": FinishReason.CONTENT_FILTER,
    "MODEL_ARMOR": FinishReason.CONTENT_FILTER,
    "MALFORMED_FUNCTION_CALL": FinishReason.ERROR,
    "UNEXPECTED_TOOL_CALL": FinishReason.ERROR,
    "TOO_MANY_TOOL_CALLS": FinishReason.ERROR,
    "MISSING_THOUGHT_SIGNATURE": FinishReason.ERROR,
    "MALFORMED_RESPONSE": FinishReason.ERROR,
    "NO_IMAGE": FinishReason.ERROR,
    "OTHER": FinishReason.ERROR,
    "LANGUAGE": FinishReason.ERROR,
    "FINISH_REASON_UNSPECIFIED": FinishReason.ERROR,
}

# google.rpc status of an in-band error → the gateway's error kind.
_ERROR_KIND = {
    "INVALID_ARGUMENT": ErrorKind.INVALID_REQUEST,
    "FAILED_PRECONDITION": ErrorKind.INVALID_REQUEST,
    "OUT_OF_RANGE": ErrorKind.INVALID_REQUEST,
    "UNAUTHENTICATED": ErrorKind.AUTHENTICATION,
    "PERMISSION_DENIED": ErrorKind.PERMISSION,
    "NOT_FOUND": ErrorKind.NOT_FOUND,
    "RESOURCE_EXHAUSTED": ErrorKind.RATE_LIMIT,
    "UNAVAILABLE": ErrorKind.OVERLOADED,
    "DEADLINE_EXCEEDED": ErrorKind.TIMEOUT,
}


def candidate(payload: dict[str, Any]) -> dict[str, Any]:
    """The first candidate (the gateway never asks for more), or an empty one."""
    candidates = payload.get("candidates")
    first = candidates[0] if isinstance(candidates, list) and candidates else None
    return first if isinstance(first, dict) else {}


def candidate_parts(first: dict[str, Any]) -> list[dict[str, Any]]:
    content = first.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    return [part for part in parts if isinstance(part, dict)] if isinstance(parts, list) else []


def prompt_blocked(payload: dict[str, Any]) -> bool:
    """``promptFeedback.blockReason`` with no candidates: the prompt itself was refused."""
    feedback = payload.get("promptFeedback")
    return (
        not payload.get("candidates")
        and isinstance(feedback, dict)
        and bool(feedback.get("blockReason"))
    )


def finish_reason(raw: str, *, saw_call: bool) -> FinishReason:
    if saw_call:
        return FinishReason.TOOL_CALLS
    return _FINISH.get(raw, FinishReason.STOP)  # a newer value: the reply itself is fine


def created_at(payload: dict[str, Any], given: int | None) -> int:
    """Epoch seconds: the caller's, else Vertex's ``createTime``, else now (the
    Developer API sends no timestamp)."""
    if given is not None:
        return given
    stamp = payload.get("createTime")
    if isinstance(stamp, str):
        try:
            return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
        except ValueError:
            pass
    return int(time.time())


def mint_response_id() -> str:
    return f"gemini-{secrets.token_hex(12)}"


def call_id(response_id: str, ordinal: int) -> str:
    """A stable ``call_<24 hex>`` id for the reply's n-th call (Gemini sends none, 7.7)."""
    digest = hashlib.sha256(f"{response_id}:{ordinal}".encode()).hexdigest()
    return f"call_{digest[:24]}"


def stream_error(payload: dict[str, Any]) -> StreamError:
    """An ``{"error": {"code", "message", "status"}}`` element as a stream error."""
    error = payload.get("error")
    details = error if isinstance(error, dict) else {"message": str(error)}
    code = details.get("code")
    status = code if isinstance(code, int) and 400 <= code <= 599 else 500
    kind = _ERROR_KIND.get(str(details.get("status")), ErrorKind.UPSTREAM_UNAVAILABLE)
    message = details.get("message")
    return StreamError(
        status, kind.value, message if isinstance(message, str) else "upstream error"
    )


def truncated() -> StreamError:
    """The stream ended without a finishReason: never let it look like a clean end."""
    return StreamError(
        502, ErrorKind.UPSTREAM_UNAVAILABLE.value, "The Gemini stream ended before it finished."
    )
