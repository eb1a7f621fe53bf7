"""What a load-test client checks, kept apart from locust so tests can import it without gevent.

- ``loopback_url``: load is only ever sent to 127.0.0.1.
- ``reply_problem``: whether a gateway reply is what the protocol's client needs: status 200,
  a complete body or a stream that reaches its final event (Anthropic ``message_stop``, Chat
  ``[DONE]`` after a usage chunk when it was asked for, Responses ``response.completed``, Gemini
  a chunk with a ``finishReason``) and carries no in-stream error (PROTOCOLS.md 1.3).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"


class Client(Enum):
    ANTHROPIC = "anthropic"
    CHAT = "chat"
    RESPONSES = "responses"
    GEMINI = "gemini"


def loopback_url(url: str) -> str:
    """``url`` without a trailing slash, or ValueError unless it targets 127.0.0.1."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname != LOOPBACK:
        raise ValueError(f"refusing to send load to {url!r}: only http://{LOOPBACK}:<port>")
    return url.rstrip("/")


def reply_problem(client: Client, stream: bool, status: int, body: bytes) -> str | None:
    """None when the reply is complete and clean, else a short description for the report."""
    if status != 200:
        return f"HTTP {status}: {_snippet(body)}"
    if not stream:
        return _BODY_CHECKS[client](_json(body))
    events = sse_events(body)
    if not events:
        return f"empty stream: {_snippet(body)}"
    return _STREAM_CHECKS[client](events)


def sse_events(body: bytes) -> list[tuple[str, str]]:
    """``(event name, data)`` per event; WHATWG framing (any line ending, joined data lines)."""
    events = []
    text = body.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    for block in text.split("\n\n"):
        name, data = "", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if name or data:
            events.append((name, "\n".join(data)))
    return events


def _json(text: bytes | str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _snippet(body: bytes | str, size: int = 160) -> str:
    text = body if isinstance(body, str) else body.decode("utf-8", "replace")
    return " ".join(text[:size].split())


# --- complete bodies ---------------------------------------------------------------------


def _anthropic_body(value: Any) -> str | None:
    if not isinstance(value, dict) or value.get("type") != "message":
        return f"not a message: {_snippet(json.dumps(value))}"
    return None if value.get("content") is not None else "message without content"


def _chat_body(value: Any) -> str | None:
    if not isinstance(value, dict) or value.get("object") != "chat.completion":
        return f"not a chat.completion: {_snippet(json.dumps(value))}"
    return None if value.get("choices") else "chat.completion without choices"


def _responses_body(value: Any) -> str | None:
    if not isinstance(value, dict) or value.get("object") != "response":
        return f"not a response: {_snippet(json.dumps(value))}"
    return None if value.get("status") == "completed" else f"status {value.get('status')!r}"


def _gemini_body(value: Any) -> str | None:
    if not isinstance(value, dict) or not value.get("candidates"):
        return f"no candidates: {_snippet(json.dumps(value))}"
    return None


_BODY_CHECKS: dict[Client, Callable[[Any], str | None]] = {
    Client.ANTHROPIC: _anthropic_body,
    Client.CHAT: _chat_body,
    Client.RESPONSES: _responses_body,
    Client.GEMINI: _gemini_body,
}


# --- streams -----------------------------------------------------------------------------

Events = list[tuple[str, str]]


def _named_stream(final: str, errors: tuple[str, ...]) -> Callable[[Events], str | None]:
    """Anthropic and Responses name their events; the JSON repeats the name in ``type``."""

    def check(events: Events) -> str | None:
        for name, data in events:
            if name in errors:
                return f"in-stream {name}: {_snippet(data)}"
        last = events[-1][0]
        return None if last == final else f"stream ended on {last!r}, not {final!r}"

    return check


def _data_error(data: str) -> str | None:
    """An ``{"error": ...}`` data payload (Chat and Gemini mid-stream errors)."""
    if '"error"' not in data:
        return None  # the cheap test first: most chunks are text deltas
    value = _json(data)
    if isinstance(value, dict) and value.get("error"):
        return f"in-stream error: {_snippet(data)}"
    return None


def _chat_stream(events: Events) -> str | None:
    usage = False
    for _, data in events:
        problem = _data_error(data)
        if problem:
            return problem
        usage = usage or ('"usage"' in data and _has_usage(data))
    if events[-1][1] != "[DONE]":
        return f"stream ended without [DONE]: {_snippet(events[-1][1])}"
    # The locust Chat user always asks for usage (stream_options.include_usage).
    return None if usage else "no usage chunk although include_usage was asked for"


def _has_usage(data: str) -> bool:
    value = _json(data)
    return isinstance(value, dict) and isinstance(value.get("usage"), dict)


def _gemini_stream(events: Events) -> str | None:
    """Gemini streams have no terminator: complete means some chunk gave a finishReason."""
    finished = False
    for _, data in events:
        problem = _data_error(data)
        if problem:
            return problem
        finished = finished or ('"finishReason"' in data and _finishes(data))
    return None if finished else f"stream ended without a finishReason: {_snippet(data)}"


def _finishes(data: str) -> bool:
    value = _json(data)
    candidates = value.get("candidates") if isinstance(value, dict) else None
    return bool(candidates) and any(
        isinstance(candidate, dict) and candidate.get("finishReason") for candidate in candidates
    )


_STREAM_CHECKS: dict[Client, Callable[[Events], str | None]] = {
    Client.ANTHROPIC: _named_stream("message_stop", ("error",)),
    Client.CHAT: _chat_stream,
    Client.RESPONSES: _named_stream("response.completed", ("error", "response.failed")),
    Client.GEMINI: _gemini_stream,
}
