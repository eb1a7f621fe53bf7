"""Canonical stream events as Messages SSE for Anthropic clients (PROTOCOLS.md 4.8, 8.4).

The events may come from any protocol's decoder, so nothing about their
pattern is assumed beyond the canonical guarantees. The SDK accumulator
appends a block on each start and addresses blocks by index, so blocks open
one at a time, get indices 0, 1, 2... in emission order, and each delta
matches its block's type (E10). Blocks open lazily, on the first content:
a part with nothing in it sends nothing. Two kinds of part are held until
they stop:

- a reasoning part whose first content is its signature: a signature alone
  may be redacted thinking (its own block type) or a carried one;
- a tool call, whose signature (Gemini) must go out in a ``thinking`` block
  *before* the ``tool_use`` block and arrives after the arguments. The whole
  input then goes out as one ``input_json_delta``, which 4.8 allows.
"""

from dataclasses import dataclass, field
from typing import Any

from app.canonical.content import Signature
from app.canonical.response import (
    Finish,
    FinishReason,
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
from app.canonical.usage import Usage
from app.core import json
from app.protocols.anthropic.response_encode import (
    message_id,
    signature_carrier,
    stop_reason_for,
    tool_input,
    tool_use_block,
)
from app.protocols.anthropic.signatures import client_signature, signature_redacted_data
from app.protocols.anthropic.usage import usage_to_dict

ERROR_TYPES = frozenset(
    {
        "invalid_request_error",
        "authentication_error",
        "billing_error",
        "permission_error",
        "not_found_error",
        "request_too_large",
        "rate_limit_error",
        "api_error",
        "timeout_error",
        "overloaded_error",
    }
)
_ERROR_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}
# The gateway's own error kinds (app.core.errors.ErrorKind) that name a type better than a status.
_ERROR_TYPE_BY_KIND = {
    "overloaded": "overloaded_error",
    "timeout": "timeout_error",
    "rate_limit": "rate_limit_error",
}


@dataclass(slots=True)
class _Part:
    kind: PartKind
    block: int | None = None  # the block index once its content_block_start went out
    signature: Signature | None = None
    tool_id: str = ""
    tool_name: str = ""
    fragments: list[str] = field(default_factory=list)


class MessagesStreamEncoder:
    """Per-request encoder producing ``event:``/``data:`` frames; one open block at a time."""

    __slots__ = (
        "_blocks",
        "_delta_sent",
        "_ended",
        "_finish",
        "_include_thinking",
        "_part",
        "_started",
        "_tool_called",
        "_usage",
    )

    def __init__(self, *, include_thinking: bool = True) -> None:
        # False: reasoning goes out as `display: "omitted"` would, signatures without text.
        self._include_thinking = include_thinking
        self._started = False
        self._blocks = 0  # content blocks started so far = the next block's index
        self._part: _Part | None = None
        self._tool_called = False
        self._finish: Finish | None = None
        self._usage = Usage()
        self._delta_sent = False
        self._ended = False  # message_stop or error sent: nothing may follow

    def encode(self, event: StreamEvent) -> bytes:
        if self._ended:
            return b""
        match event:  # deltas first: most events are
            case TextDelta():
                return self._content(PartKind.TEXT, "text", event.text)
            case ReasoningDelta():
                text = event.text if self._include_thinking else ""
                return self._content(PartKind.REASONING, "thinking", text)
            case StreamStart():
                return self._message_start(event)
            case PartStart():
                return self._close() + self._open(event)
            case SignatureDelta():
                if self._part is not None and self._part.kind is not PartKind.TEXT:
                    self._part.signature = event.signature
                return b""
            case ToolArgsDelta():
                if self._part is not None and self._part.kind is PartKind.TOOL_CALL:
                    self._part.fragments.append(event.fragment)
                return b""
            case PartStop():
                return self._close()
            case Finish():
                self._finish = event
                return self._close()
            case UsageReport():
                return self._close() + self._message_delta(event.usage)
            case StreamEnd():
                self._ended = True
                return self._close() + self._message_delta(self._usage) + _stop_frame()
            case StreamError():
                self._ended = True
                return error_frame(event)
        raise AssertionError(f"unhandled stream event {event!r}")

    def _message_start(self, event: StreamStart) -> bytes:
        if self._started:
            return b""
        self._started = True
        self._usage = event.usage
        message: dict[str, Any] = {
            "id": message_id(event.id),
            "type": "message",
            "role": "assistant",
            "model": event.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage_to_dict(event.usage),
        }
        start = _frame("message_start", {"type": "message_start", "message": message})
        return start + _frame("ping", {"type": "ping"})

    def _open(self, event: PartStart) -> bytes:
        kind = PartKind.TEXT if event.kind is PartKind.REFUSAL else event.kind
        self._part = _Part(kind, tool_id=event.tool_id or "", tool_name=event.tool_name or "")
        return b""

    def _content(self, kind: PartKind, field_name: str, text: str) -> bytes:
        if not text:
            return b""
        out = b""
        if self._part is None or self._part.kind is not kind:
            out = self._close()  # content of a kind the open part cannot take: a new part
            self._part = _Part(kind)
        if self._part.block is None:
            self._part.block = self._blocks
            out += self._block_start({"type": field_name, field_name: ""} | _SIGNATURE[kind])
        # The frame _block_delta would build, from templates: one dumps of the text.
        index = str(self._blocks - 1).encode()
        return out + _DELTA_HEAD + index + _DELTA_FIELD[kind] + json.dumps(text) + b"}}\n\n"

    def _close(self) -> bytes:
        part, self._part = self._part, None
        if part is None:
            return b""
        if part.kind is PartKind.TOOL_CALL:
            return self._tool_call(part)
        if part.kind is PartKind.REASONING:
            return self._reasoning_end(part)
        return self._block_stop() if part.block is not None else b""

    def _reasoning_end(self, part: _Part) -> bytes:
        if part.signature is None:
            return self._block_stop() if part.block is not None else b""
        redacted = signature_redacted_data(part.signature)
        if part.block is None and redacted is not None:
            return self._block_start({"type": "redacted_thinking", "data": redacted}) + (
                self._block_stop()
            )
        out = b""
        if part.block is None:
            out = self._block_start({"type": "thinking", "thinking": "", "signature": ""})
        if redacted is None:  # redacted data cannot follow visible thinking; it is dropped
            delta = {"type": "signature_delta", "signature": client_signature(part.signature)}
            out += self._block_delta(delta)
        return out + self._block_stop()

    def _tool_call(self, part: _Part) -> bytes:
        self._tool_called = True
        out = b""
        for carrier in signature_carrier(part.signature):
            out += self._block_start(carrier) + self._block_stop()
        arguments = json.dumps(tool_input("".join(part.fragments))).decode()
        out += self._block_start(tool_use_block(part.tool_id, part.tool_name, {}))
        out += self._block_delta({"type": "input_json_delta", "partial_json": arguments})
        return out + self._block_stop()

    def _block_start(self, block: dict[str, Any]) -> bytes:
        out = b"" if self._started else self._message_start(StreamStart("", "", 0))
        index = self._blocks
        self._blocks += 1
        payload = {"type": "content_block_start", "index": index, "content_block": block}
        return out + _frame("content_block_start", payload)

    def _block_delta(self, delta: dict[str, Any]) -> bytes:
        payload = {"type": "content_block_delta", "index": self._blocks - 1, "delta": delta}
        return _frame("content_block_delta", payload)

    def _block_stop(self) -> bytes:
        payload = {"type": "content_block_stop", "index": self._blocks - 1}
        return _frame("content_block_stop", payload)

    def _message_delta(self, usage: Usage) -> bytes:
        if self._delta_sent:
            return b""
        out = b""
        if self._blocks == 0:  # an empty reply is still a message with content (8.4)
            out = self._block_start({"type": "text", "text": ""}) + self._block_stop()
        self._delta_sent = True
        finish = self._finish or Finish(FinishReason.STOP)
        stop_reason = stop_reason_for(finish.reason, self._tool_called)
        sequence = finish.stop_sequence if stop_reason == "stop_sequence" else None
        payload = {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": sequence},
            # Cumulative: the SDK overwrites its snapshot with every count present (4.8).
            "usage": usage_to_dict(usage),
        }
        return out + _frame("message_delta", payload)


# A content_block_delta frame of text or thinking: head, index, field, JSON string, "}}".
_DELTA_HEAD = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
_DELTA_FIELD = {
    PartKind.TEXT: b',"delta":{"type":"text_delta","text":',
    PartKind.REASONING: b',"delta":{"type":"thinking_delta","thinking":',
}
# What a block of each kind starts with besides its (empty) text.
_SIGNATURE: dict[PartKind, dict[str, str]] = {
    PartKind.TEXT: {},
    PartKind.REASONING: {"signature": ""},
}


def error_frame(event: StreamError) -> bytes:
    """The in-band error of 4.8; the SDK raises it as an API error of that type."""
    error_type = (
        event.kind
        if event.kind in ERROR_TYPES
        else _ERROR_TYPE_BY_KIND.get(event.kind)
        or _ERROR_TYPE_BY_STATUS.get(event.status, "api_error")
    )
    payload = {"type": "error", "error": {"type": error_type, "message": event.message}}
    return _frame("error", payload)


def _stop_frame() -> bytes:
    return _frame("message_stop", {"type": "message_stop"})


def _frame(name: str, payload: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + json.dumps(payload) + b"\n\n"
