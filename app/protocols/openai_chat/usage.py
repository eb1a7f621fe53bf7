"""Usage of Chat Completions bodies and streams (PROTOCOLS.md 2.5, 2.7)."""

from typing import Any

from app.canonical.usage import Usage
from app.core import json
from app.core.sse import event_data, split_events
from app.protocols.sse_tap import LastUsageEventTap

_USAGE = b'"usage"'


def usage_from_dict(usage: dict[str, Any]) -> Usage:
    prompt = usage.get("prompt_tokens_details") or {}
    completion = usage.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=usage.get("prompt_tokens") or 0,
        output_tokens=usage.get("completion_tokens") or 0,
        cache_read_tokens=prompt.get("cached_tokens") or 0,
        cache_write_tokens=prompt.get("cache_write_tokens") or 0,
        reasoning_tokens=completion.get("reasoning_tokens") or 0,
    )


def usage_to_dict(usage: Usage) -> dict[str, Any]:
    prompt: dict[str, int] = {"cached_tokens": usage.cache_read_tokens}
    if usage.cache_write_tokens:
        prompt["cache_write_tokens"] = usage.cache_write_tokens
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": prompt,
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def read_body_usage(body: bytes) -> Usage | None:
    found, usage = json.tail_member(body, "usage")
    if not found:
        usage = json.loads(body).get("usage")
    return usage_from_dict(usage) if isinstance(usage, dict) else None


class ChatStreamTap(LastUsageEventTap):
    """Reads usage from a relayed chunk stream.

    The gateway always asks the upstream for usage (``include_usage``) so the
    ledger never misses a stream; when the client did not ask for it, the
    usage-only chunk (``choices: []``) is held back, because clients that
    index ``choices[0]`` crash on it (PROTOCOLS.md 9.4). Every other event is
    forwarded as received.
    """

    marker = _USAGE

    def __init__(self, *, hide_usage_chunk: bool) -> None:
        super().__init__()
        self._hide_usage_chunk = hide_usage_chunk

    def inspect(self, aligned: bytes) -> bytes:
        super().inspect(aligned)
        if not self._hide_usage_chunk:
            return aligned
        events = split_events(aligned)
        kept = [event for event in events if not _is_usage_only(event)]
        if len(kept) == len(events):
            return aligned
        return b"".join(event + b"\n\n" for event in kept)

    def usage(self) -> Usage | None:
        if self.last is None:
            return None
        return read_body_usage(event_data(self.last))


def _is_usage_only(event: bytes) -> bool:
    return _USAGE in event and (b'"choices":[]' in event or b'"choices": []' in event)
