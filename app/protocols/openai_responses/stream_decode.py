"""An upstream Responses stream as canonical events (PROTOCOLS.md 3.6, 8.1 "OR upstream").

Feed raw bytes split anywhere; each complete SSE event is handled once. Every
output item (by ``output_index``) gathers its canonical events in its own
buffer, index-free; buffers are released in item order, each item's parts
numbered as released, so parts never interleave even if an upstream
interleaves items (E1, E2). Parts open lazily on their first content, and an
item whose deltas never came is rebuilt from its ``output_item.done`` (or the
terminal event's ``output``) the way ``decode_response`` reads it, so a stream
folds to its non-streamed twin.
"""

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from app.canonical.content import Provider, Signature
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
from app.core.sse import SSEAligner, event_data, event_name, split_events
from app.protocols.openai_responses.decode_response import (
    call_arguments,
    error_status,
    finish_reason,
    reasoning_text,
    response_usage,
)

_CLOSED_EARLY = "stream closed before response.completed"
_CALLS = frozenset({"function_call", "custom_tool_call"})
_PartEvent = PartStart | TextDelta | ReasoningDelta | SignatureDelta | ToolArgsDelta | PartStop


@dataclass(slots=True)
class _Item:
    """One output item's progress; ``text`` is what its open part has received."""

    kind: str
    ops: list[_PartEvent] = field(default_factory=list)
    done: bool = False
    started: bool = False  # a PartStart is out without its PartStop
    pending: bool = False  # a message content part was announced
    part_kind: PartKind = PartKind.TEXT
    text: str = ""
    contents_done: int = 0
    call_id: str = ""
    name: str = ""
    source: str = ""  # reasoning: "summary" or "content", whichever streams first
    section: int = -1  # reasoning: the summary/content index being streamed

    def open(self, kind: PartKind, tool_id: str | None = None, name: str | None = None) -> None:
        if not self.started:
            self.ops.append(PartStart(-1, kind, tool_id, name))
            self.started, self.part_kind = True, kind

    def close(self) -> None:
        if self.started:
            self.ops.append(PartStop(-1))
        self.started, self.pending, self.text = False, False, ""


class StreamDecoder:
    def __init__(self, *, names: ToolNames) -> None:
        self._names = names
        self._aligner = SSEAligner()
        self._started = False
        self._closed = False
        self._items: dict[int, _Item] = {}
        self._queue: deque[int] = deque()  # items not yet fully released, in arrival order
        self._next_index = 0
        self._current = -1
        self._saw_tool = False
        self._saw_refusal = False

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        if self._closed:
            return []
        data = self._aligner.feed(chunk)
        return self._events(data) if data else []

    def finish(self) -> list[StreamEvent]:
        if self._closed:
            return []
        # Lenient at EOF: a last event missing only its blank line still counts.
        events = self._events(self._aligner.flush())
        if not self._closed:
            self._closed = True
            events.append(StreamError(502, "upstream_unavailable", _CLOSED_EARLY))
        return events

    def _events(self, data: bytes) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for raw in split_events(data):
            if self._closed:
                break
            body = event_data(raw)
            if not body:
                continue
            try:
                payload = json.loads(body)
            except json.JSONDecodeError:
                self._closed = True
                events.append(StreamError(502, "upstream_unavailable", "unreadable stream event"))
                break
            if isinstance(payload, dict):
                kind = payload.get("type") or event_name(raw).decode()
                events += self._handle(str(kind), payload)
        return events

    def _handle(self, kind: str, payload: dict[str, Any]) -> list[StreamEvent]:
        if kind == "error":
            nested = payload.get("error")
            return self._fail(nested if isinstance(nested, dict) else payload)
        response = payload.get("response")
        response = response if isinstance(response, dict) else {}
        events = self._start(response)
        if kind == "response.failed":
            return events + self._fail(response.get("error") or {})
        if kind in ("response.completed", "response.incomplete"):
            return events + self._terminal(response)
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, payload)
        return events + self._release()

    def _start(self, response: dict[str, Any]) -> list[StreamEvent]:
        if self._started:
            return []
        self._started = True
        return [
            StreamStart(
                str(response.get("id") or ""),
                str(response.get("model") or ""),
                int(response.get("created_at") or 0),
            )
        ]

    def _fail(self, error: dict[str, Any]) -> list[StreamEvent]:
        self._closed = True
        code = str(error.get("code") or "server_error")
        message = str(error.get("message") or "The upstream response failed.")
        return [StreamError(error_status(code), code, message)]

    def _terminal(self, response: dict[str, Any]) -> list[StreamEvent]:
        output = [item for item in response.get("output") or [] if isinstance(item, dict)]
        for position, done in enumerate(output):
            if position not in self._items:
                self._item(position, str(done.get("type")))
        for position in list(self._queue):
            item = self._items[position]
            if not item.done:
                self._finish_item(item, output[position] if position < len(output) else {})
        events = self._release()
        self._closed = True
        reason = finish_reason(response, tool_call=self._saw_tool, refusal=self._saw_refusal)
        return [*events, Finish(reason), UsageReport(response_usage(response)), StreamEnd()]

    def _release(self) -> list[StreamEvent]:
        """Buffered part events of the items at the head of the queue, numbered in order."""
        events: list[StreamEvent] = []
        while self._queue:
            item = self._items[self._queue[0]]
            for op in item.ops:
                if isinstance(op, PartStart):
                    self._current, self._next_index = self._next_index, self._next_index + 1
                    self._saw_tool |= op.kind is PartKind.TOOL_CALL
                    self._saw_refusal |= op.kind is PartKind.REFUSAL
                op.index = self._current
                events.append(op)
            item.ops.clear()
            if not item.done:
                break
            self._queue.popleft()
        return events

    def _item(self, position: int, kind: str) -> _Item:
        item = self._items.get(position)
        if item is None:
            item = self._items[position] = _Item(kind)
            self._queue.append(position)
        return item

    def _at(self, payload: dict[str, Any], kind: str) -> _Item:
        return self._item(int(payload.get("output_index") or 0), kind)

    # Handlers, one per upstream event type (see _HANDLERS).

    def _item_added(self, payload: dict[str, Any]) -> None:
        added = payload.get("item") or {}
        item = self._at(payload, str(added.get("type")))
        if item.kind in _CALLS and not item.started:
            item.call_id, item.name = str(added.get("call_id")), str(added.get("name"))
            item.open(PartKind.TOOL_CALL, item.call_id, self._names.inbound(item.name))

    def _content_added(self, payload: dict[str, Any]) -> None:
        item = self._at(payload, "message")
        if item.started or item.pending:
            _close_content(item)  # the previous part never got its content_part.done
        part = payload.get("part") or {}
        item.pending, item.part_kind = True, _content_kind(part)
        _text(item, item.part_kind, _content_text(part))

    def _text_delta(self, payload: dict[str, Any]) -> None:
        _text(self._at(payload, "message"), PartKind.TEXT, str(payload.get("delta") or ""))

    def _refusal_delta(self, payload: dict[str, Any]) -> None:
        _text(self._at(payload, "message"), PartKind.REFUSAL, str(payload.get("delta") or ""))

    def _text_done(self, payload: dict[str, Any]) -> None:
        item = self._at(payload, "message")
        if not item.text:
            kind = PartKind.REFUSAL if "refusal" in payload else PartKind.TEXT
            _text(item, kind, str(payload.get("text") or payload.get("refusal") or ""))

    def _content_done(self, payload: dict[str, Any]) -> None:
        item = self._at(payload, "message")
        part = payload.get("part") or {}
        if not item.text:
            _text(item, _content_kind(part), _content_text(part))
        _close_content(item)

    def _args_delta(self, payload: dict[str, Any]) -> None:
        _args(self._at(payload, "function_call"), str(payload.get("delta") or ""))

    def _args_done(self, payload: dict[str, Any]) -> None:
        item = self._at(payload, "function_call")
        if not item.text:
            _args(item, str(payload.get("arguments") or ""))

    def _input_delta(self, payload: dict[str, Any]) -> None:
        _custom_input(self._at(payload, "custom_tool_call"), str(payload.get("delta") or ""))

    def _input_done(self, payload: dict[str, Any]) -> None:
        item = self._at(payload, "custom_tool_call")
        if not item.text:
            _custom_input(item, str(payload.get("input") or ""))

    def _summary(self, payload: dict[str, Any]) -> None:
        index = int(payload.get("summary_index") or 0)
        _reasoning(
            self._at(payload, "reasoning"), "summary", index, str(payload.get("delta") or "")
        )

    def _reasoning_text(self, payload: dict[str, Any]) -> None:
        index = int(payload.get("content_index") or 0)
        _reasoning(
            self._at(payload, "reasoning"), "content", index, str(payload.get("delta") or "")
        )

    def _item_done(self, payload: dict[str, Any]) -> None:
        done = payload.get("item") or {}
        item = self._at(payload, str(done.get("type")))
        if not item.done:
            self._finish_item(item, done)

    def _finish_item(self, item: _Item, done: dict[str, Any]) -> None:
        if item.kind == "message":
            _finish_message(item, done)
        elif item.kind in _CALLS:
            self._finish_call(item, done)
        elif item.kind == "reasoning":
            _finish_reasoning(item, done)
        item.done = True

    def _finish_call(self, item: _Item, done: dict[str, Any]) -> None:
        if not item.started:
            if not done:
                return  # never announced and never completed: nothing to name it by
            name = self._names.inbound(str(done.get("name")))
            item.open(PartKind.TOOL_CALL, str(done.get("call_id")), name)
            if item.text:
                item.ops.append(ToolArgsDelta(-1, item.text))
        if item.kind == "custom_tool_call" and item.text:
            _args(item, '"}')
        elif not item.text:
            _args(item, call_arguments({"type": item.kind, **done}))
        item.close()


def _content_kind(part: dict[str, Any]) -> PartKind:
    return PartKind.REFUSAL if part.get("type") == "refusal" else PartKind.TEXT


def _content_text(part: dict[str, Any]) -> str:
    return str(part.get("text") or part.get("refusal") or "")


def _text(item: _Item, kind: PartKind, text: str) -> None:
    if not text:
        return
    if item.started and item.part_kind is not kind:
        _close_content(item)
    item.open(kind)
    item.ops.append(TextDelta(-1, text))
    item.text += text


def _close_content(item: _Item) -> None:
    item.close()
    item.contents_done += 1


def _finish_message(item: _Item, done: dict[str, Any]) -> None:
    contents = [c for c in done.get("content") or [] if isinstance(c, dict)]
    if item.pending or item.started:
        if not item.text and item.contents_done < len(contents):
            content = contents[item.contents_done]
            _text(item, _content_kind(content), _content_text(content))
        _close_content(item)
    for content in contents[item.contents_done :]:
        _text(item, _content_kind(content), _content_text(content))
        _close_content(item)


def _args(item: _Item, fragment: str) -> None:
    if not fragment:
        return
    item.text += fragment
    if item.started:
        item.ops.append(ToolArgsDelta(-1, fragment))


def _custom_input(item: _Item, delta: str) -> None:
    """A custom tool's raw input streamed as the JSON text ``{"input":"..."}``."""
    if delta:
        escaped = json.dumps(delta).decode()[1:-1]  # JSON string escaping is per character
        _args(item, escaped if item.text else '{"input":"' + escaped)


def _reasoning(item: _Item, source: str, section: int, delta: str) -> None:
    if item.source not in ("", source):
        return
    item.source = source
    if section != item.section:
        if item.section >= 0:
            _think(item, "\n\n")  # parts are joined by blank lines, as decode_response does
        item.section = section
    _think(item, delta)


def _think(item: _Item, text: str) -> None:
    if text:
        item.open(PartKind.REASONING)
        item.ops.append(ReasoningDelta(-1, text))
        item.text += text


def _finish_reasoning(item: _Item, done: dict[str, Any]) -> None:
    if not item.text:
        _think(item, reasoning_text(done))
    secret = done.get("encrypted_content")
    if secret:
        item.open(PartKind.REASONING)
        item.ops.append(SignatureDelta(-1, Signature(Provider.OPENAI, str(secret))))
    item.close()


_HANDLERS = {
    "response.output_item.added": StreamDecoder._item_added,
    "response.content_part.added": StreamDecoder._content_added,
    "response.output_text.delta": StreamDecoder._text_delta,
    "response.refusal.delta": StreamDecoder._refusal_delta,
    "response.output_text.done": StreamDecoder._text_done,
    "response.refusal.done": StreamDecoder._text_done,
    "response.content_part.done": StreamDecoder._content_done,
    "response.function_call_arguments.delta": StreamDecoder._args_delta,
    "response.function_call_arguments.done": StreamDecoder._args_done,
    "response.custom_tool_call_input.delta": StreamDecoder._input_delta,
    "response.custom_tool_call_input.done": StreamDecoder._input_done,
    "response.reasoning_summary_part.added": StreamDecoder._summary,
    "response.reasoning_summary_text.delta": StreamDecoder._summary,
    "response.reasoning_text.delta": StreamDecoder._reasoning_text,
    "response.output_item.done": StreamDecoder._item_done,
}
