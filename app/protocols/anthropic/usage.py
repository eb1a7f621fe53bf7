"""Usage of Messages bodies and streams (PROTOCOLS.md 4.6, 4.8).

Anthropic's ``input_tokens`` excludes cache reads and writes; the canonical
``input_tokens`` includes them (7.13).
"""

from typing import Any

from app.canonical.usage import Usage
from app.core import json
from app.core.sse import event_data, event_name, split_events
from app.protocols.sse_tap import SSETap

_MESSAGE_START = b"message_start"
_MESSAGE_DELTA = b"message_delta"


def usage_from_dict(usage: dict[str, Any]) -> Usage:
    cache_read = usage.get("cache_read_input_tokens") or 0
    cache_write = usage.get("cache_creation_input_tokens") or 0
    details = usage.get("output_tokens_details") or {}
    return Usage(
        input_tokens=(usage.get("input_tokens") or 0) + cache_read + cache_write,
        output_tokens=usage.get("output_tokens") or 0,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=details.get("thinking_tokens") or 0,
    )


def usage_to_dict(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": max(usage.uncached_input_tokens, 0),
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "output_tokens": usage.output_tokens,
    }


def read_body_usage(body: bytes) -> Usage | None:
    found, usage = json.tail_member(body, "usage")
    if not found:
        usage = json.loads(body).get("usage")
    return usage_from_dict(usage) if isinstance(usage, dict) else None


class MessagesStreamTap(SSETap):
    """Keeps ``message_start`` and the last ``message_delta``; forwards every byte as is.

    ``message_delta.usage`` is cumulative and newer API versions repeat the
    input counts there, so its present keys override those of the start.
    """

    marker = b"message_"

    def __init__(self) -> None:
        super().__init__()
        self._start: bytes | None = None
        self._delta: bytes | None = None

    def inspect(self, aligned: bytes) -> bytes:
        for event in split_events(aligned):
            name = event_name(event)
            if name == _MESSAGE_DELTA:
                self._delta = event
            elif name == _MESSAGE_START and self._start is None:
                self._start = event
        return aligned

    def usage(self) -> Usage | None:
        merged: dict[str, Any] = {}
        if self._start is not None:
            message = json.loads(event_data(self._start)).get("message") or {}
            merged.update(message.get("usage") or {})
        if self._delta is not None:
            delta_usage = json.loads(event_data(self._delta)).get("usage") or {}
            merged.update({key: value for key, value in delta_usage.items() if value is not None})
        return usage_from_dict(merged) if merged else None
