"""Usage of Gemini bodies and streams (PROTOCOLS.md 5.6, 5.8).

``usageMetadata`` repeats on many chunks and is cumulative: the last one wins.
"""

from typing import Any

from app.canonical.usage import Usage
from app.core import json
from app.core.sse import event_data
from app.protocols.sse_tap import LastUsageEventTap

_USAGE = b'"usageMetadata"'
# Without ``alt=sse`` the stream is one JSON array; usage sits at the end of
# each element, so a window of the newest bytes is enough to find the last one.
_ARRAY_WINDOW = 64 * 1024


def usage_from_dict(usage: dict[str, Any]) -> Usage:
    thoughts = usage.get("thoughtsTokenCount") or 0
    return Usage(
        input_tokens=(usage.get("promptTokenCount") or 0)
        + (usage.get("toolUsePromptTokenCount") or 0),
        output_tokens=(usage.get("candidatesTokenCount") or 0) + thoughts,
        cache_read_tokens=usage.get("cachedContentTokenCount") or 0,
        reasoning_tokens=thoughts,
    )


def usage_to_dict(usage: Usage) -> dict[str, Any]:
    result: dict[str, Any] = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": usage.output_tokens - usage.reasoning_tokens,
        "totalTokenCount": usage.total_tokens,
    }
    if usage.cache_read_tokens:
        result["cachedContentTokenCount"] = usage.cache_read_tokens
    if usage.reasoning_tokens:
        result["thoughtsTokenCount"] = usage.reasoning_tokens
    return result


def read_body_usage(body: bytes) -> Usage | None:
    found, usage = json.tail_member(body, "usageMetadata")
    if not found:
        document = json.loads(body)
        if isinstance(document, list):  # a whole streamed array read at once
            document = document[-1] if document else {}
        usage = document.get("usageMetadata")
    return usage_from_dict(usage) if isinstance(usage, dict) else None


class GeminiSSETap(LastUsageEventTap):
    marker = _USAGE

    def usage(self) -> Usage | None:
        if self.last is None:
            return None
        return read_body_usage(event_data(self.last))


class GeminiArrayTap:
    """Usage from the streamed-JSON-array form (no ``alt=sse``)."""

    __slots__ = ("_window",)

    def __init__(self) -> None:
        self._window = b""

    def feed(self, chunk: bytes) -> bytes:
        self._window = (self._window + chunk)[-_ARRAY_WINDOW:]
        return chunk

    def finish(self) -> bytes:
        return b""

    @property
    def at_boundary(self) -> bool:
        return True

    def usage(self) -> Usage | None:
        at = self._window.rfind(_USAGE)
        if at == -1:
            return None
        start = self._window.find(b"{", at + len(_USAGE))
        end = _matching_brace(self._window, start)
        if start == -1 or end == -1:
            return None
        return usage_from_dict(json.loads(self._window[start : end + 1]))


def _matching_brace(data: bytes, start: int) -> int:
    """Index of the brace closing the object at ``start`` (usage holds no strings with braces)."""
    depth = 0
    for index in range(start, len(data)):
        byte = data[index]
        if byte == 0x7B:
            depth += 1
        elif byte == 0x7D:
            depth -= 1
            if depth == 0:
                return index
    return -1
