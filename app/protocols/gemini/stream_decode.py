"""A Gemini upstream stream as canonical events (PROTOCOLS.md 5.8, 8.1 "GM upstream").

Each chunk is a whole ``GenerateContentResponse`` holding only new parts.
Text and thought parts stream as deltas of one open part until the kind
changes; a function call arrives whole and becomes one complete TOOL_CALL
part. A ``thoughtSignature`` closes the open thought part, or rides on the
call, or else becomes a signed empty reasoning part, exactly as
``decode_response`` reads a body. The finishReason may come in a later chunk
than the calls (E9) and usage is cumulative, so both are kept and reported at
the end: Finish, UsageReport, StreamEnd. An ``{"error": ...}`` chunk ends the
stream with StreamError; so do bytes that stop before any finishReason.

Both framings are read: SSE (``alt=sse``, CRLF line ends, E13) and the
streamed JSON array.
"""

from typing import Any

from app.canonical.content import Provider, Signature
from app.canonical.names import ToolNames
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
from app.core.sse import SSEAligner, event_data, split_events
from app.protocols.gemini.json_array import JSONArraySplitter
from app.protocols.gemini.reply import (
    call_id,
    candidate,
    candidate_parts,
    created_at,
    finish_reason,
    mint_response_id,
    prompt_blocked,
    stream_error,
    truncated,
)
from app.protocols.gemini.tool_names import client_name
from app.protocols.gemini.usage import usage_from_dict


class StreamDecoder:
    __slots__ = (
        "_aligner",
        "_array",
        "_blocked",
        "_calls",
        "_created",
        "_done",
        "_finish",
        "_id",
        "_names",
        "_next_index",
        "_open",
        "_usage",
    )

    def __init__(self, *, names: ToolNames, sse: bool = True, created: int | None = None) -> None:
        self._names = names
        self._created = created
        self._aligner = SSEAligner() if sse else None
        self._array = None if sse else JSONArraySplitter()
        self._id: str | None = None  # set by the first chunk
        self._next_index = 0
        self._open: tuple[int, PartKind] | None = None
        self._calls = 0
        self._finish: str | None = None
        self._blocked = False
        self._usage = Usage()
        self._done = False

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for payload in self._payloads(chunk):
            events += self._chunk(payload)
        return events

    def finish(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if self._aligner is not None:
            for payload in self._sse_payloads(self._aligner.flush()):
                events += self._chunk(payload)
        if self._done:
            return events
        self._done = True
        cut_inside = self._array is not None and self._array.pending
        if cut_inside or (self._finish is None and not self._blocked):
            return [*events, truncated()]
        reason = FinishReason.CONTENT_FILTER
        if self._finish is not None:
            reason = finish_reason(self._finish, saw_call=self._calls > 0)
        return [*events, *self._close(), Finish(reason), UsageReport(self._usage), StreamEnd()]

    def _payloads(self, chunk: bytes) -> list[Any]:
        if self._aligner is not None:
            return self._sse_payloads(self._aligner.feed(chunk))
        assert self._array is not None
        return [_loads(element) for element in self._array.feed(chunk)]

    def _sse_payloads(self, data: bytes) -> list[Any]:
        payloads: list[Any] = []
        for event in split_events(data) if data else []:
            raw = event_data(event).strip()
            if raw:
                payload = _loads(raw)
                payloads += payload if isinstance(payload, list) else [payload]
        return payloads

    def _chunk(self, payload: Any) -> list[StreamEvent]:
        if self._done:
            return []
        if payload is _INVALID:
            self._done = True
            return [
                StreamError(502, "upstream_unavailable", "Gemini sent a chunk that is not JSON.")
            ]
        if not isinstance(payload, dict):
            return []
        if "error" in payload:
            self._done = True
            return [stream_error(payload)]
        events = self._start(payload)
        usage = payload.get("usageMetadata")
        if isinstance(usage, dict):
            self._usage = usage_from_dict(usage)
        self._blocked = self._blocked or prompt_blocked(payload)
        first = candidate(payload)
        for part in candidate_parts(first):
            events += self._part(part)
        if first.get("finishReason"):
            self._finish = str(first["finishReason"])
        return events

    def _start(self, payload: dict[str, Any]) -> list[StreamEvent]:
        if self._id is not None:
            return []
        self._id = payload.get("responseId") or mint_response_id()
        usage = payload.get("usageMetadata")
        known = usage_from_dict(usage) if isinstance(usage, dict) else Usage()
        early = Usage(input_tokens=known.input_tokens, cache_read_tokens=known.cache_read_tokens)
        created = created_at(payload, self._created)
        return [StreamStart(self._id, payload.get("modelVersion") or "", created, early)]

    def _part(self, part: dict[str, Any]) -> list[StreamEvent]:
        value = part.get("thoughtSignature")
        signature = Signature(Provider.GEMINI, value) if isinstance(value, str) and value else None
        call = part.get("functionCall")
        if isinstance(call, dict):
            return self._call(call, signature)
        text = part.get("text") or ""
        if part.get("thought") is True:
            events = self._delta(PartKind.REASONING, text) if text else []
            if signature is not None:
                events += self._sign(signature)
            return events
        events = self._delta(PartKind.TEXT, text) if text else []
        if signature is not None:
            events += self._close() if text else []
            events += self._sign(signature)
        return events

    def _call(self, call: dict[str, Any], signature: Signature | None) -> list[StreamEvent]:
        assert self._id is not None
        tool_id = call.get("id") or call_id(self._id, self._calls)
        name = client_name(self._names, str(call.get("name") or ""))
        self._calls += 1
        index = self._next_index
        events = [*self._close(), PartStart(index, PartKind.TOOL_CALL, tool_id, name)]
        events.append(ToolArgsDelta(index, json.dumps(call.get("args") or {}).decode()))
        if signature is not None:
            events.append(SignatureDelta(index, signature))
        self._next_index += 1
        return [*events, PartStop(index)]

    def _delta(self, kind: PartKind, text: str) -> list[StreamEvent]:
        events = [] if self._is_open(kind) else self._begin(kind)
        assert self._open is not None
        index = self._open[0]
        delta = TextDelta(index, text) if kind is PartKind.TEXT else ReasoningDelta(index, text)
        return [*events, delta]

    def _sign(self, signature: Signature) -> list[StreamEvent]:
        """The signature on the open thought part, or on a new empty one; it closes the part."""
        events = [] if self._is_open(PartKind.REASONING) else self._begin(PartKind.REASONING)
        assert self._open is not None
        return [*events, SignatureDelta(self._open[0], signature), *self._close()]

    def _is_open(self, kind: PartKind) -> bool:
        return self._open is not None and self._open[1] is kind

    def _begin(self, kind: PartKind) -> list[StreamEvent]:
        events = self._close()
        self._open = (self._next_index, kind)
        self._next_index += 1
        return [*events, PartStart(self._open[0], kind)]

    def _close(self) -> list[StreamEvent]:
        if self._open is None:
            return []
        index, self._open = self._open[0], None
        return [PartStop(index)]


_INVALID = object()  # a chunk that did not parse


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return _INVALID
