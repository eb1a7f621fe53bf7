"""Canonical stream events rendered as a Responses stream (PROTOCOLS.md 3.6, 8.3).

Codex rebuilds its history from complete ``response.output_item.done`` items
and treats a stream without ``response.completed`` as failed (E12), so every
item is closed before the next opens, every event carries the next
``sequence_number``, and exactly one terminal event ends the stream with
``output`` equal to the items done. Events come from any protocol's decoder:
nothing here assumes an order of parts beyond start/deltas/stop.

A tool call is held until its PartStop: its signature (a Gemini
thoughtSignature) may arrive after its arguments, yet its carrier reasoning
item must come before it, and a call to a client ``custom`` tool is rendered
from its complete ``input``.
"""

from dataclasses import dataclass, field
from typing import Any

from app.canonical.content import ReasoningPart, Signature, ToolCallPart
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
from app.protocols.openai_responses.carrier import reasoning_secret
from app.protocols.openai_responses.output_items import (
    call_item,
    failure,
    message_item,
    new_item_id,
    reasoning_item,
    refusal_content,
    response_object,
    signature_carrier,
    text_content,
)
from app.protocols.openai_responses.tools import custom_tool_names


@dataclass(slots=True)
class _Open:
    """The part being streamed: its item id and what it has received."""

    kind: PartKind
    item_id: str = ""
    text: list[str] = field(default_factory=list)
    summary_started: bool = False
    signature: Signature | None = None
    tool_id: str = ""
    tool_name: str = ""


class ResponsesStreamEncoder:
    """Per-request encoder numbering every event with ``sequence_number``."""

    __slots__ = (
        "_created",
        "_custom",
        "_ended",
        "_finish",
        "_id",
        "_model",
        "_open",
        "_output",
        "_request",
        "_seq",
        "_usage",
    )

    def __init__(
        self,
        request: dict[str, Any],
        *,
        response_id: str = "",
        model: str = "",
        next_sequence: int = 0,
    ) -> None:
        self._request = request
        self._custom = custom_tool_names(request)
        self._seq = next_sequence
        self._id = response_id
        self._model = model
        self._created = 0
        self._output: list[dict[str, Any]] = []
        self._open: _Open | None = None
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None
        self._ended = False

    def encode(self, event: StreamEvent) -> bytes:
        if self._ended:
            return b""
        match event:
            case StreamStart():
                return self._start(event)
            case PartStart():
                return self._close() + self._open_part(event)
            case TextDelta():
                return self._text(event.text)
            case ReasoningDelta():
                return self._reasoning(event.text)
            case SignatureDelta():
                if self._open is not None:
                    self._open.signature = event.signature
                return b""
            case ToolArgsDelta():
                if self._open is not None:
                    self._open.text.append(event.fragment)
                return b""
            case PartStop():
                return self._close()
            case Finish():
                self._finish = event.reason
                return b""
            case UsageReport():
                self._usage = event.usage
                return b""
            case StreamEnd():
                return self._close() + self._terminal()
            case StreamError():
                return self._error(event)
        raise AssertionError(f"unhandled stream event {event!r}")

    def _start(self, event: StreamStart) -> bytes:
        self._id = event.id or self._id or new_item_id("resp")
        self._model, self._created = event.model, event.created
        snapshot = self._snapshot()
        return self._event("response.created", {"response": snapshot}) + self._event(
            "response.in_progress", {"response": snapshot}
        )

    def _open_part(self, event: PartStart) -> bytes:
        if event.kind is PartKind.TOOL_CALL:
            self._open = _Open(
                event.kind, tool_id=event.tool_id or "", tool_name=event.tool_name or ""
            )
            return b""
        if event.kind is PartKind.REASONING:
            self._open = _Open(event.kind, new_item_id("rs"))
            return self._added(reasoning_item(self._open.item_id, "", None))
        self._open = _Open(event.kind, new_item_id("msg"))
        part = refusal_content("") if event.kind is PartKind.REFUSAL else _empty_text()
        return self._added(message_item(self._open.item_id, [], "in_progress")) + self._event(
            "response.content_part.added", {**self._where(), "content_index": 0, "part": part}
        )

    def _text(self, text: str) -> bytes:
        if (
            self._open is None
            or not text
            or self._open.kind not in (PartKind.TEXT, PartKind.REFUSAL)
        ):
            return b""
        self._open.text.append(text)
        if self._open.kind is PartKind.REFUSAL:
            return self._event(
                "response.refusal.delta", {**self._where(), "content_index": 0, "delta": text}
            )
        return self._event(
            "response.output_text.delta",
            {**self._where(), "content_index": 0, "delta": text, "logprobs": []},
        )

    def _reasoning(self, text: str) -> bytes:
        if self._open is None or not text or self._open.kind is not PartKind.REASONING:
            return b""
        frames = b""
        if not self._open.summary_started:
            self._open.summary_started = True
            frames = self._event(
                "response.reasoning_summary_part.added",
                {**self._where(), "summary_index": 0, "part": _summary("")},
            )
        self._open.text.append(text)
        return frames + self._event(
            "response.reasoning_summary_text.delta",
            {**self._where(), "summary_index": 0, "delta": text},
        )

    def _close(self) -> bytes:
        part, self._open = self._open, None
        if part is None:
            return b""
        if part.kind is PartKind.TOOL_CALL:
            return self._tool_call(part)
        if part.kind is PartKind.REASONING:
            return self._close_reasoning(part)
        return self._close_message(part)

    def _close_message(self, part: _Open) -> bytes:
        text = "".join(part.text)
        where = {**self._where(part), "content_index": 0}
        if part.kind is PartKind.REFUSAL:
            content = refusal_content(text)
            frames = self._event("response.refusal.done", {**where, "refusal": text})
        else:
            content = text_content(text)
            frames = self._event(
                "response.output_text.done", {**where, "text": text, "logprobs": []}
            )
        frames += self._event("response.content_part.done", {**where, "part": content})
        return frames + self._done(message_item(part.item_id, [content]))

    def _close_reasoning(self, part: _Open) -> bytes:
        text = "".join(part.text)
        frames = b""
        if part.summary_started:
            where = {**self._where(part), "summary_index": 0}
            frames = self._event(
                "response.reasoning_summary_text.done", {**where, "text": text}
            ) + self._event(
                "response.reasoning_summary_part.done", {**where, "part": _summary(text)}
            )
        secret = reasoning_secret(ReasoningPart(text, part.signature))
        return frames + self._done(reasoning_item(part.item_id, text, secret))

    def _tool_call(self, part: _Open) -> bytes:
        frames = b""
        carrier = signature_carrier(part.signature)
        if carrier is not None:
            frames = self._added(carrier) + self._done(carrier)
        call = ToolCallPart(part.tool_id, part.tool_name, "".join(part.text) or "{}")
        item = call_item(call, self._custom)
        if item["type"] == "custom_tool_call":
            return frames + self._custom_call(item)
        return frames + self._function_call(item)

    def _function_call(self, item: dict[str, Any]) -> bytes:
        where = {"item_id": item["id"], "output_index": len(self._output)}
        frames = self._added({**item, "arguments": "", "status": "in_progress"})
        frames += self._event(
            "response.function_call_arguments.delta", {**where, "delta": item["arguments"]}
        )
        frames += self._event(
            "response.function_call_arguments.done",
            {**where, "name": item["name"], "arguments": item["arguments"]},
        )
        return frames + self._done(item)

    def _custom_call(self, item: dict[str, Any]) -> bytes:
        where = {"item_id": item["id"], "output_index": len(self._output)}
        frames = self._added({**item, "input": ""})
        if item["input"]:
            frames += self._event(
                "response.custom_tool_call_input.delta", {**where, "delta": item["input"]}
            )
        frames += self._event(
            "response.custom_tool_call_input.done", {**where, "input": item["input"]}
        )
        return frames + self._done(item)

    def _added(self, item: dict[str, Any]) -> bytes:
        return self._event(
            "response.output_item.added", {"output_index": len(self._output), "item": item}
        )

    def _done(self, item: dict[str, Any]) -> bytes:
        frames = self._event(
            "response.output_item.done", {"output_index": len(self._output), "item": item}
        )
        self._output.append(item)
        return frames

    def _terminal(self) -> bytes:
        self._ended = True
        final = self._snapshot(finish=self._finish or FinishReason.STOP)
        name = {"completed": "response.completed", "incomplete": "response.incomplete"}.get(
            final["status"], "response.failed"
        )
        return self._event(name, {"response": final})

    def _error(self, event: StreamError) -> bytes:
        self._ended = True
        failed = self._snapshot(error=failure(event.kind, event.message))
        return self._event(
            "error", {"code": event.kind, "message": event.message, "param": None}
        ) + self._event("response.failed", {"response": failed})

    def _where(self, part: _Open | None = None) -> dict[str, Any]:
        item_id = (part or self._open or _Open(PartKind.TEXT)).item_id
        return {"item_id": item_id, "output_index": len(self._output)}

    def _snapshot(
        self, *, finish: FinishReason | None = None, error: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        ended = finish is not None or error is not None
        return response_object(
            self._id,
            self._model,
            self._created,
            self._request,
            output=list(self._output),
            finish=finish,
            usage=(self._usage or Usage()) if ended else None,
            error=error,
        )

    def _event(self, name: str, payload: dict[str, Any]) -> bytes:
        body = {"type": name, "sequence_number": self._seq, **payload}
        self._seq += 1
        return b"event: " + name.encode() + b"\ndata: " + json.dumps(body) + b"\n\n"


def _empty_text() -> dict[str, Any]:
    return {"type": "output_text", "text": "", "annotations": [], "logprobs": []}


def _summary(text: str) -> dict[str, str]:
    return {"type": "summary_text", "text": text}


def stream_failure(
    response_id: str,
    model: str,
    request: dict[str, Any],
    *,
    next_sequence: int,
    code: str,
    message: str,
) -> bytes:
    """``error`` + ``response.failed`` for a stream that breaks after its first byte."""
    encoder = ResponsesStreamEncoder(
        request, response_id=response_id, model=model, next_sequence=next_sequence
    )
    return encoder.encode(StreamError(500, code, message))
