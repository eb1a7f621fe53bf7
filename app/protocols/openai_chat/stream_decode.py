"""An upstream Chat Completions chunk stream into canonical stream events (PROTOCOLS.md 2.7, 8.1).

Tool calls: fragments of different ``tool_calls[].index`` may interleave
(E2), and canonical parts may not. The first call streams live; every later
call, and any text arriving after the first call, is held back in arrival
order and emitted whole, after the live call closes at the finish chunk.
No fragment is ever lost, and the common single-call stream stays live.

Ends: ``finish_reason`` closes the parts and gives ``Finish``; usage may come
on the finish chunk, on a later ``choices: []`` chunk or never (E8), so
``UsageReport`` and ``StreamEnd`` wait for ``[DONE]``. Many compatible
servers end without ``[DONE]``, so EOF after a finish is a clean end; EOF
before one is a ``StreamError``, as is an in-band ``{"error": ...}`` chunk.
"""

from dataclasses import dataclass, field
from typing import Any

from app.canonical.names import ToolNames
from app.canonical.response import (
    Finish,
    PartKind,
    PartStart,
    PartStop,
    ReasoningDelta,
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
from app.core.sse import SSEAligner, event_data, split_events
from app.protocols.openai_chat.decode_response import (
    arguments_text,
    created,
    finish_reason,
    reasoning_text,
    reply_id,
    text_field,
)
from app.protocols.openai_chat.ids import mint_call_id
from app.protocols.openai_chat.usage import usage_from_dict

_LEGACY_CALL = -1  # the position of a legacy ``function_call`` delta
_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "insufficient_quota": 429,
    "overloaded_error": 503,
}


@dataclass(slots=True)
class _Call:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)
    index: int = -1  # the canonical part index, once emitted


@dataclass(slots=True)
class _Text:
    kind: PartKind
    chunks: list[str] = field(default_factory=list)


class StreamDecoder:
    """Per-request: feed it upstream bytes split anywhere, get canonical events."""

    def __init__(self, *, names: ToolNames) -> None:
        self._names = names
        self._aligner = SSEAligner()
        self._started = False
        self._closed = False
        self._finished = False
        self._called = False
        self._refused = False
        self._next_index = 0
        self._open: tuple[PartKind, int] | None = None
        self._live: _Call | None = None
        self._calls: dict[int, _Call] = {}
        self._held: list[_Call | _Text] = []
        self._usage: Usage | None = None

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        if self._closed:
            return []
        return self._events(self._aligner.feed(chunk))

    def finish(self) -> list[StreamEvent]:
        if self._closed:
            return []
        events = self._events(self._aligner.flush())
        if self._closed:
            return events
        self._closed = True
        if self._finished:
            return [*events, *self._end()]
        return [
            *events,
            StreamError(502, "upstream_unavailable", "The upstream stream ended unfinished."),
        ]

    def _events(self, data: bytes) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for event in split_events(data):
            if self._closed:
                break
            events += self._event(event_data(event).strip())
        return events

    def _event(self, data: bytes) -> list[StreamEvent]:
        if not data:
            return []  # a comment or keep-alive
        if data == b"[DONE]":
            return self._done()
        try:
            payload = json.loads(data)
        except json.JSONDecodeError:
            return self._fail(502, "upstream_unavailable", "The upstream sent an unreadable chunk.")
        if not isinstance(payload, dict):
            return self._fail(502, "upstream_unavailable", "The upstream sent an unreadable chunk.")
        if payload.get("error"):
            return self._error(payload["error"])
        return self._chunk(payload)

    def _chunk(self, payload: dict[str, Any]) -> list[StreamEvent]:
        events = self._start(payload)
        usage = payload.get("usage")
        if isinstance(usage, dict):
            self._usage = usage_from_dict(usage)  # cumulative: the last one counts
        for choice in payload.get("choices") or []:
            if self._finished or not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            events += self._delta(choice.get("delta") or {})
            # E7: content and finish_reason can share a chunk; the content came first.
            if choice.get("finish_reason"):
                events += self._finish(choice["finish_reason"])
        return events

    def _start(self, payload: dict[str, Any]) -> list[StreamEvent]:
        if self._started:
            return []
        self._started = True
        return [StreamStart(reply_id(payload), text_field(payload, "model"), created(payload))]

    def _delta(self, delta: dict[str, Any]) -> list[StreamEvent]:
        content = delta.get("content")
        if len(delta) == 1 and content.__class__ is str:  # text alone: most chunks
            return self._text(PartKind.TEXT, content) if content else []
        events: list[StreamEvent] = []
        reasoning = reasoning_text(delta)
        if reasoning:
            events += self._text(PartKind.REASONING, reasoning)
        if isinstance(content, str) and content:
            events += self._text(PartKind.TEXT, content)
        refusal = delta.get("refusal")
        if isinstance(refusal, str) and refusal:
            self._refused = True
            events += self._text(PartKind.REFUSAL, refusal)
        for fragment in delta.get("tool_calls") or []:
            if isinstance(fragment, dict):
                events += self._tool_fragment(fragment, self._position(fragment))
        legacy = delta.get("function_call")
        if isinstance(legacy, dict):
            events += self._tool_fragment({"function": legacy}, _LEGACY_CALL)
        return events

    def _text(self, kind: PartKind, text: str) -> list[StreamEvent]:
        if self._live is not None or self._held:
            last = self._held[-1] if self._held else None
            if isinstance(last, _Text) and last.kind is kind:
                last.chunks.append(text)
            else:
                self._held.append(_Text(kind, [text]))
            return []
        events: list[StreamEvent] = []
        if self._open is None or self._open[0] is not kind:
            events += self._close_open()
            self._open = (kind, self._allocate())
            events.append(PartStart(self._open[1], kind))
        index = self._open[1]
        events.append(
            ReasoningDelta(index, text) if kind is PartKind.REASONING else TextDelta(index, text)
        )
        return events

    def _position(self, fragment: dict[str, Any]) -> int:
        """The fragment's call position; servers that omit ``index`` (E5) mean a
        new call when they send a new id, else the latest one."""
        position = fragment.get("index")
        if isinstance(position, int) and not isinstance(position, bool):
            return position
        known = [p for p in self._calls if p != _LEGACY_CALL]
        call_id = fragment.get("id")
        if call_id and all(self._calls[p].id != call_id for p in known):
            return max(known, default=-1) + 1
        return max(known, default=0)

    def _tool_fragment(self, fragment: dict[str, Any], position: int) -> list[StreamEvent]:
        function = fragment.get("function") or {}
        call = self._calls.get(position)
        if call is None:
            call = self._calls[position] = _Call()
            self._called = True
            self._held.append(call)
        # First value wins: some servers repeat id and name in every fragment (E4).
        if not call.id and isinstance(fragment.get("id"), str):
            call.id = fragment["id"]
        if not call.name and isinstance(function.get("name"), str):
            call.name = function["name"]
        arguments = function.get("arguments")
        if isinstance(arguments, dict):
            arguments = arguments_text(arguments)
        events: list[StreamEvent] = []
        if isinstance(arguments, str) and arguments:
            call.arguments.append(arguments)
            if call is self._live:
                events.append(ToolArgsDelta(call.index, arguments))
        return events + self._promote()

    def _promote(self) -> list[StreamEvent]:
        """Start streaming the first held call live once nothing else is live."""
        head = self._held[0] if self._held else None
        if self._live is not None or not isinstance(head, _Call) or not head.name:
            return []
        self._held.pop(0)
        self._live = head
        events = [*self._close_open(), self._call_start(head)]
        if head.arguments:
            events.append(ToolArgsDelta(head.index, "".join(head.arguments)))
        return events

    def _call_start(self, call: _Call) -> PartStart:
        call.index = self._allocate()
        call.id = call.id or mint_call_id()
        return PartStart(call.index, PartKind.TOOL_CALL, call.id, self._names.inbound(call.name))

    def _finish(self, raw: Any) -> list[StreamEvent]:
        events = [*self._close_open(), *self._close_live(), *self._release_held()]
        self._finished = True
        reason = finish_reason(raw, called=self._called, refused=self._refused)
        return [*events, Finish(reason)]

    def _close_open(self) -> list[StreamEvent]:
        if self._open is None:
            return []
        index, self._open = self._open[1], None
        return [PartStop(index)]

    def _close_live(self) -> list[StreamEvent]:
        call, self._live = self._live, None
        if call is None:
            return []
        if "".join(call.arguments).strip():
            return [PartStop(call.index)]
        return [ToolArgsDelta(call.index, "{}"), PartStop(call.index)]

    def _release_held(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for item in self._held:
            if isinstance(item, _Call):
                start = self._call_start(item)
                arguments = arguments_text("".join(item.arguments))
                events += [start, ToolArgsDelta(start.index, arguments), PartStop(start.index)]
            else:
                index = self._allocate()
                text = "".join(item.chunks)
                delta: StreamEvent = (
                    ReasoningDelta(index, text)
                    if item.kind is PartKind.REASONING
                    else TextDelta(index, text)
                )
                events += [PartStart(index, item.kind), delta, PartStop(index)]
        self._held.clear()
        return events

    def _allocate(self) -> int:
        index, self._next_index = self._next_index, self._next_index + 1
        return index

    def _done(self) -> list[StreamEvent]:
        events = self._start({})
        if not self._finished:  # [DONE] is the protocol's own end, even without a finish
            events += self._finish(None)
        self._closed = True
        return [*events, *self._end()]

    def _end(self) -> list[StreamEvent]:
        return [UsageReport(self._usage or Usage()), StreamEnd()]

    def _error(self, error: Any) -> list[StreamEvent]:
        if not isinstance(error, dict):
            return self._fail(500, "server_error", str(error))
        code, kind = error.get("code"), error.get("type")
        status = code if isinstance(code, int) and 400 <= code <= 599 else None
        status = status or _ERROR_STATUS.get(str(code), _ERROR_STATUS.get(str(kind), 500))
        label = code if isinstance(code, str) and code else kind if isinstance(kind, str) else None
        message = error.get("message")
        return self._fail(
            status,
            label or "server_error",
            message if isinstance(message, str) and message else "The upstream failed mid-stream.",
        )

    def _fail(self, status: int, kind: str, message: str) -> list[StreamEvent]:
        self._closed = True
        return [StreamError(status, kind, message)]
