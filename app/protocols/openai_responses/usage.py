"""Usage of Responses bodies and streams (PROTOCOLS.md 3.5, 3.6).

In a stream, usage arrives once, in the terminal ``response.completed`` /
``.incomplete`` / ``.failed`` event; earlier events carry ``"usage": null``.
"""

import re
from typing import Any

from app.canonical.usage import Usage
from app.core import json
from app.core.sse import event_data
from app.protocols.sse_tap import LastUsageEventTap

_USAGE = b'"usage"'
_SEQUENCE = b'"sequence_number"'
# JSON allows spaces around ':' and Python-based compatible servers write them
# ('"response": {"id": ...'), so a fixed byte pattern would miss the id.
_RESPONSE_ID = re.compile(rb'"response"\s*:\s*\{\s*"id"\s*:\s*"([^"]*)"')


def usage_from_dict(usage: dict[str, Any]) -> Usage:
    inputs = usage.get("input_tokens_details") or {}
    outputs = usage.get("output_tokens_details") or {}
    return Usage(
        input_tokens=usage.get("input_tokens") or 0,
        output_tokens=usage.get("output_tokens") or 0,
        cache_read_tokens=inputs.get("cached_tokens") or 0,
        cache_write_tokens=inputs.get("cache_write_tokens") or 0,
        reasoning_tokens=outputs.get("reasoning_tokens") or 0,
    )


def usage_to_dict(usage: Usage) -> dict[str, Any]:
    # The SDK's ResponseUsage requires cache_write_tokens, zero included.
    inputs = {
        "cache_write_tokens": usage.cache_write_tokens,
        "cached_tokens": usage.cache_read_tokens,
    }
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": inputs,
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


def read_body_usage(body: bytes) -> Usage | None:
    found, usage = json.tail_member(body, "usage")
    if not found:
        document = json.loads(body)
        response = document.get("response", document)  # a stream event or a Response object
        usage = response.get("usage") if isinstance(response, dict) else None
    return usage_from_dict(usage) if isinstance(usage, dict) else None


class ResponsesStreamTap(LastUsageEventTap):
    """Also remembers the response id and the last ``sequence_number`` relayed, so
    that a failure after the first byte can end the stream with a
    ``response.failed`` that continues the upstream's numbering."""

    marker = _USAGE

    def __init__(self) -> None:
        super().__init__()
        self.response_id: str | None = None
        self.last_sequence = -1

    def feed(self, chunk: bytes) -> bytes:
        aligned = super().feed(chunk)
        if aligned:
            self._track(aligned)
        return aligned

    def _track(self, aligned: bytes) -> None:
        at = aligned.rfind(_SEQUENCE)
        if at != -1:
            digits = aligned[at + len(_SEQUENCE) : at + len(_SEQUENCE) + 12].lstrip(b": ")
            number = digits[: len(digits) - len(digits.lstrip(b"0123456789"))]
            if number:
                self.last_sequence = int(number)
        if self.response_id is None:
            found = _RESPONSE_ID.search(aligned)
            if found is not None:
                self.response_id = found[1].decode()

    def usage(self) -> Usage | None:
        if self.last is None:
            return None
        return read_body_usage(event_data(self.last))
