"""Anthropic upstream SSE into canonical stream events (PROTOCOLS.md 4.8, 8.1 "AN upstream").

Anthropic already streams one content block at a time with indices in
emission order, so blocks map straight onto parts. Tool input fragments are
buffered to the block's stop and emitted as one compact JSON text: clients of
other protocols then see the same arguments as a non-streamed reply gives
(the fold invariant), and a truncated fragment list never reaches them.
"""

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from app.canonical.content import Provider, read_signature
from app.canonical.names import ToolNames
from app.canonical.response import (
    Finish,
    PartKind,
    PartStart,
    PartStop,
    ReasoningDelta,
    SignatureDelta,
    StreamEnd,
    StreamError,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolArgsDelta,
    UsageReport,
)
from app.core import json
from app.core.errors import ErrorKind
from app.core.sse import SSEAligner, event_data, event_name, split_events
from app.protocols.anthropic.response_decode import finish_reason, tool_arguments
from app.protocols.anthropic.signatures import redacted_signature
from app.protocols.anthropic.usage import usage_from_dict

log = logging.getLogger("switchyard.translate")

# error.type of an `event: error` -> the HTTP status it stands for (4.9).
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


@dataclass(slots=True)
class _Block:
    """The open upstream content block; ``index`` is the canonical part index."""

    index: int | None  # None: a block with no canonical form, skipped
    kind: PartKind = PartKind.TEXT
    fragments: list[str] = field(default_factory=list)
    start_input: Any = None


class StreamDecoder:
    __slots__ = (
        "_aligner",
        "_block",
        "_created",
        "_done",
        "_names",
        "_next_index",
        "_started",
        "_stop_reason",
        "_stop_sequence",
        "_tool_called",
        "_usage",
    )

    def __init__(self, *, names: ToolNames, created: int | None = None) -> None:
        self._names = names
        self._created = int(time.time()) if created is None else created
        self._aligner = SSEAligner()
        self._started = False
        self._done = False
        self._next_index = 0
        self._block: _Block | None = None
        self._usage: dict[str, Any] = {}
        self._stop_reason: Any = None
        self._stop_sequence: Any = None
        self._tool_called = False

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        return [] if self._done else self._decode(self._aligner.feed(chunk))

    def finish(self) -> list[StreamEvent]:
        """End of upstream bytes: a stream cut before ``message_stop`` ends in an error."""
        events = [] if self._done else self._decode(self._aligner.flush())
        if self._done:
            return events
        return events + self._fail(
            StreamError(502, ErrorKind.UPSTREAM_UNAVAILABLE.value, "upstream stream ended early")
        )

    def _decode(self, data: bytes) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for raw in split_events(data):
            if self._done:
                break
            events += self._event(raw)
        return events

    def _event(self, raw: bytes) -> list[StreamEvent]:
        data = event_data(raw)
        if not data:
            return []
        try:
            payload = json.loads(data)
        except json.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict):
            message = "unreadable upstream stream event"
            return self._fail(StreamError(502, ErrorKind.UPSTREAM_UNAVAILABLE.value, message))
        kind = payload.get("type") or event_name(raw).decode("utf-8", "replace")
        if kind == "content_block_delta":  # most events
            return self._block_delta(payload.get("delta") or {})
        if kind == "error":
            return self._fail(_error(payload.get("error")))
        if kind == "message_start":
            return self._start(payload.get("message") or {})
        if kind == "message_delta":
            self._message_delta(payload)
            return []
        if kind == "message_stop":
            return self._stop()
        if kind == "content_block_start":
            return self._block_start(payload.get("content_block") or {})
        if kind == "content_block_stop":
            return self._block_stop()
        return []  # ping, and event types newer than this decoder (4.8: ignore them)

    def _start(self, message: dict[str, Any]) -> list[StreamEvent]:
        if self._started:
            return []
        self._started = True
        self._usage = dict(message.get("usage") or {})
        return [
            StreamStart(
                id=str(message.get("id") or ""),
                model=str(message.get("model") or ""),
                created=self._created,
                usage=usage_from_dict(self._usage),
            )
        ]

    def _block_start(self, block: dict[str, Any]) -> list[StreamEvent]:
        events = self._start({}) + self._block_stop()
        kind = block.get("type")
        if kind not in ("text", "thinking", "redacted_thinking", "tool_use"):
            self._block = _Block(None)
            return events
        index = self._next_index
        self._next_index += 1
        if kind == "tool_use":
            self._tool_called = True
            self._block = _Block(index, PartKind.TOOL_CALL, start_input=block.get("input"))
            name = self._names.inbound(str(block.get("name") or ""))
            return [*events, PartStart(index, PartKind.TOOL_CALL, str(block.get("id") or ""), name)]
        if kind == "text":
            self._block = _Block(index, PartKind.TEXT)
            events.append(PartStart(index, PartKind.TEXT))
            return events + self._block_delta({"type": "text_delta", "text": block.get("text")})
        self._block = _Block(index, PartKind.REASONING)
        events.append(PartStart(index, PartKind.REASONING))
        if kind == "redacted_thinking":
            # Arrives whole, with no deltas (4.8); see signatures.py for the prefix.
            return [
                *events,
                SignatureDelta(index, redacted_signature(str(block.get("data") or ""))),
            ]
        delta = {"type": "thinking_delta", "thinking": block.get("thinking")}
        return (
            events
            + self._block_delta(delta)
            + self._block_delta(block | {"type": "signature_delta"})
        )

    def _block_delta(self, delta: dict[str, Any]) -> list[StreamEvent]:
        block = self._block
        if block is None or block.index is None:
            return []
        kind = delta.get("type")
        if kind == "text_delta" and delta.get("text"):
            return [TextDelta(block.index, str(delta["text"]))]
        if kind == "thinking_delta" and delta.get("thinking"):
            return [ReasoningDelta(block.index, str(delta["thinking"]))]
        if kind == "signature_delta" and delta.get("signature"):
            signature = read_signature(str(delta["signature"]), Provider.ANTHROPIC)
            return [SignatureDelta(block.index, signature)]
        if kind == "input_json_delta" and delta.get("partial_json"):
            block.fragments.append(str(delta["partial_json"]))
        return []  # citations_delta and empty fragments carry nothing canonical

    def _block_stop(self) -> list[StreamEvent]:
        block, self._block = self._block, None
        if block is None or block.index is None:
            return []
        if block.kind is not PartKind.TOOL_CALL:
            return [PartStop(block.index)]
        return [ToolArgsDelta(block.index, _arguments(block)), PartStop(block.index)]

    def _message_delta(self, payload: dict[str, Any]) -> None:
        delta = payload.get("delta") or {}
        if "stop_reason" in delta:
            self._stop_reason = delta["stop_reason"]
            self._stop_sequence = delta.get("stop_sequence")
        # Cumulative counts: the newest present value replaces, never adds (4.8).
        usage = payload.get("usage") or {}
        self._usage.update({key: value for key, value in usage.items() if value is not None})

    def _stop(self) -> list[StreamEvent]:
        events = self._start({}) + self._block_stop()
        reason, sequence = finish_reason(self._stop_reason, self._stop_sequence, self._tool_called)
        self._done = True
        return [
            *events,
            Finish(reason, sequence),
            UsageReport(usage_from_dict(self._usage)),
            StreamEnd(),
        ]

    def _fail(self, error: StreamError) -> list[StreamEvent]:
        self._done = True
        return [error]


def _arguments(block: _Block) -> str:
    text = "".join(block.fragments)
    if not text.strip():
        return tool_arguments(block.start_input)
    try:
        return json.dumps(json.loads(text)).decode()
    except json.JSONDecodeError:
        # Cut short (max_tokens mid-call, E31): pass the text on; object-taking emitters repair it.
        log.warning("Messages tool_use input is not valid JSON: %.200s", text)
        return text


def _error(error: Any) -> StreamError:
    error = error if isinstance(error, dict) else {}
    kind = str(error.get("type") or "api_error")
    message = str(error.get("message") or "upstream error")
    return StreamError(ERROR_STATUS.get(kind, 500), kind, message)
