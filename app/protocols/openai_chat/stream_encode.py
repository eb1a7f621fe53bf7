"""Canonical stream events as Chat Completions chunks for a client (PROTOCOLS.md 2.7, 8.2, 9.4).

The OpenAI SDK accumulates deltas by concatenating every string except
``index`` and ``type``, and inserts tool calls at ``tool_calls[].index``
(``lib/streaming/_deltas.py``). Hence: ``role`` once; each call's ``id``,
``type`` and ``name`` once, in its first fragment (E4); ``index`` dense per
choice from 0, whatever the canonical part index (E3).

A call's id is sent with its first fragment but a Gemini signature, carried
in the id, arrives after the arguments. Calls whose arguments come whole (the
Gemini decoder's) are held until their stop, so the signature makes it into
the id; a call whose arguments stream in pieces (Anthropic, Responses, Chat
upstreams, which never sign calls) goes live at its second fragment, so a
long call still streams.
"""

import logging
from dataclasses import dataclass, field
from typing import Any

from app.canonical.content import Signature
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
from app.protocols.openai_chat.encode_response import client_finish_reason
from app.protocols.openai_chat.ids import join_call_id
from app.protocols.openai_chat.usage import usage_to_dict

log = logging.getLogger("switchyard.translate")

_ERROR_TYPE = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    429: "rate_limit_error",
}


@dataclass(slots=True)
class _Call:
    position: int  # tool_calls[].index: dense, per choice
    id: str
    name: str
    held: list[str] = field(default_factory=list)
    fragments: int = 0
    signature: Signature | None = None
    sent: bool = False


class ChatStreamEncoder:
    """Per-request encoder: feed it canonical events, get ``data:`` chunks back."""

    __slots__ = ("_called", "_calls", "_done", "_head", "_include_usage", "_kinds", "_prefix")

    def __init__(self, *, include_usage: bool) -> None:
        self._include_usage = include_usage
        self._prefix: dict[str, Any] = {}
        self._head = _delta_head(self._prefix)
        self._kinds: dict[int, PartKind] = {}
        self._calls: dict[int, _Call] = {}
        self._called = 0
        self._done = False

    def encode(self, event: StreamEvent) -> bytes:
        if self._done:
            return b""
        match event:  # deltas first: most events are
            case TextDelta() | ReasoningDelta():
                return self._text(event)
            case StreamStart():
                self._prefix = {
                    "id": event.id,
                    "object": "chat.completion.chunk",
                    "created": event.created,
                    "model": event.model,
                }
                self._head = _delta_head(self._prefix)
                return self._chunk({"role": "assistant", "content": ""})
            case PartStart():
                return self._start(event)
            case ToolArgsDelta():
                return self._arguments(event)
            case SignatureDelta():
                return self._signature(event)
            case PartStop():
                call = self._calls.pop(event.index, None)
                return (
                    self._send(call, "".join(call.held) or "{}") if call and not call.sent else b""
                )
            case Finish():
                held = b"".join(self._send(c, "".join(c.held) or "{}") for c in self._unsent())
                reason = client_finish_reason(event.reason, called=self._called > 0)
                return held + self._chunk({}, reason)
            case UsageReport():
                if not self._include_usage:
                    return b""
                return _data({**self._prefix, "choices": [], "usage": usage_to_dict(event.usage)})
            case StreamEnd():
                self._done = True
                return b"data: [DONE]\n\n"
            case StreamError():
                self._done = True  # E11: the error ends the stream, no [DONE] after it
                return _data({"error": _error(event)})
        raise AssertionError(f"unhandled stream event {event!r}")

    def _start(self, event: PartStart) -> bytes:
        if event.kind is not PartKind.TOOL_CALL:
            self._kinds[event.index] = event.kind
            return b""
        self._calls[event.index] = _Call(self._called, event.tool_id or "", event.tool_name or "")
        self._called += 1
        return b""

    def _text(self, event: TextDelta | ReasoningDelta) -> bytes:
        if not event.text:
            return b""
        if isinstance(event, ReasoningDelta):
            field = b'"reasoning_content":'
        elif self._kinds.get(event.index) is PartKind.REFUSAL:
            field = b'"refusal":'
        else:
            field = b'"content":'
        # What _chunk({field: text}) builds, from a template: one dumps of the text.
        return self._head + field + json.dumps(event.text) + _DELTA_TAIL

    def _arguments(self, event: ToolArgsDelta) -> bytes:
        call = self._calls.get(event.index)
        if call is None:
            return b""
        if call.sent:
            if not event.fragment:
                return b""
            fragment = {"index": call.position, "function": {"arguments": event.fragment}}
            return self._chunk({"tool_calls": [fragment]})
        call.held.append(event.fragment)
        call.fragments += 1
        return self._send(call, "".join(call.held)) if call.fragments >= 2 else b""

    def _signature(self, event: SignatureDelta) -> bytes:
        call = self._calls.get(event.index)
        if call is None:
            return b""  # reasoning signatures: Chat has no field a client echoes
        if call.sent:
            log.warning("tool call signature after its id was sent; dropped (call %s)", call.id)
        else:
            call.signature = event.signature
        return b""

    def _send(self, call: _Call, arguments: str) -> bytes:
        call.sent = True
        call.held.clear()
        fragment = {
            "index": call.position,
            "id": join_call_id(call.id, call.signature),
            "type": "function",
            "function": {"name": call.name, "arguments": arguments},
        }
        return self._chunk({"tool_calls": [fragment]})

    def _unsent(self) -> list[_Call]:
        return [call for call in self._calls.values() if not call.sent]

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return _data({**self._prefix, "choices": [choice]})


_DELTA_TAIL = b'},"logprobs":null,"finish_reason":null}]}\n\n'


def _delta_head(prefix: dict[str, Any]) -> bytes:
    """A chunk's bytes up to the inside of its only choice's delta."""
    opening = json.dumps(prefix)[:-1] + b"," if prefix else b"{"
    return b"data: " + opening + b'"choices":[{"index":0,"delta":{'


def _error(event: StreamError) -> dict[str, Any]:
    return {
        "message": event.message,
        "type": _ERROR_TYPE.get(event.status, "server_error"),
        "param": None,
        "code": event.kind,
    }


def _data(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload) + b"\n\n"
