"""What OpenAI's Chat Completions and Responses APIs share: error bodies and the model list."""

from __future__ import annotations

from .common import CREATED, Reply, json_reply

# (type, code) per status, as OpenAI sends them (PROTOCOLS.md 2.8).
_ERRORS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_denied", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}

MODEL_IDS = ("gpt-4.1", "gpt-4.1-mini", "gpt-5")


def render_error(status: int, message: str) -> Reply:
    error_type, code = _ERRORS.get(status, ("server_error", None))
    body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    return json_reply(body, status=status)


def render_models() -> Reply:
    data = [
        {"id": model_id, "object": "model", "created": CREATED, "owned_by": "fake-upstream"}
        for model_id in MODEL_IDS
    ]
    return json_reply({"object": "list", "data": data})
