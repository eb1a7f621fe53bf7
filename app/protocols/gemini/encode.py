"""Canonical responses and stream events rendered as Gemini (PROTOCOLS.md 5.5, 5.8, 8.5).

Parts: text as ``{"text"}``; a refusal as text with finishReason SAFETY;
reasoning as ``{"text", "thought": true}`` only when the client asked for
thoughts; a tool call whole, as ``functionCall`` with an ``args`` object and
no id (the Gemini API sends none).

Signatures go in ``thoughtSignature``, carried for other providers
(``signatures.to_client``). A call's own goes on its part. A reasoning
signature goes on the unsigned call right after it (Gemini CLI drops thought
parts from its history but keeps its calls' signatures), else on its thought
part; with no thought text to show, it goes where Gemini puts one: on the
answer text just before, else on an empty thought part. A stream cannot go
back to a part already sent, so there a leftover signature follows as an
empty part of its own, which Gemini clients read the same way.

The stream writes one ``GenerateContentResponse`` per delta and puts
finishReason and usageMetadata on the last one. ``encode_request`` (the
upstream side) lives in ``encode_request`` and is re-exported here.
"""

from dataclasses import dataclass
from typing import Any

from app.canonical.content import (
    Part,
    ReasoningPart,
    RefusalPart,
    Signature,
    TextPart,
    ToolCallPart,
)
from app.canonical.response import (
    Finish,
    FinishReason,
    PartKind,
    PartStart,
    PartStop,
    ReasoningDelta,
    Response,
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
from app.protocols.gemini.encode_contents import tool_arguments
from app.protocols.gemini.encode_request import encode_request
from app.protocols.gemini.signatures import to_client
from app.protocols.gemini.usage import usage_to_dict

__all__ = ["FINISH_REASON", "GeminiStreamEncoder", "encode_request", "encode_response"]

FINISH_REASON: dict[FinishReason, str] = {
    FinishReason.STOP: "STOP",
    FinishReason.STOP_SEQUENCE: "STOP",
    FinishReason.LENGTH: "MAX_TOKENS",
    FinishReason.TOOL_CALLS: "STOP",
    FinishReason.CONTENT_FILTER: "SAFETY",
    FinishReason.REFUSAL: "SAFETY",
    FinishReason.PAUSE: "STOP",
    FinishReason.CONTEXT_OVERFLOW: "MAX_TOKENS",
    FinishReason.ERROR: "OTHER",
}

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_SIGNATURE = "thoughtSignature"


def encode_response(response: Response, *, include_thoughts: bool = True) -> bytes:
    return json.dumps(
        _chunk(
            response.id,
            response.model,
            _reply_parts(response.parts, include_thoughts),
            finish=_finish(response.finish, refusal=_has_refusal(response.parts)),
            usage=usage_to_dict(response.usage),
        )
    )


def _reply_parts(parts: list[Part], include_thoughts: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    pending: str | None = None  # a reasoning signature kept for the call after it
    for at, part in enumerate(parts):
        following = parts[at + 1] if at + 1 < len(parts) else None
        if isinstance(part, ReasoningPart):
            signature = to_client(part.signature) if part.signature else None
            if isinstance(following, ToolCallPart) and following.signature is None:
                pending, signature = signature, None
            elif signature and not (include_thoughts and part.text) and _plain_text(out):
                out[-1][_SIGNATURE], signature = signature, None  # where Gemini puts it (5.11)
            thought = _thought(part.text, signature, include_thoughts)
            out += [thought] if thought else []
        elif isinstance(part, ToolCallPart):
            own = to_client(part.signature) if part.signature else None
            out.append(_call(part.name, part.arguments, own or pending))
            pending = None
        elif isinstance(part, TextPart | RefusalPart) and part.text:
            out.append({"text": part.text})
    return out


def _plain_text(parts: list[dict[str, Any]]) -> bool:
    """The last part is answer text with no signature yet."""
    last = parts[-1] if parts else {}
    return "text" in last and not last.get("thought") and _SIGNATURE not in last


def _thought(text: str, signature: str | None, include_thoughts: bool) -> dict[str, Any] | None:
    """A thought part; hidden thoughts leave an empty one when they carry a signature."""
    shown = text if include_thoughts else ""
    if not shown and signature is None:
        return None
    part: dict[str, Any] = {"text": shown, "thought": True}
    if signature is not None:
        part[_SIGNATURE] = signature
    return part


def _call(name: str, arguments: str, signature: str | None) -> dict[str, Any]:
    part: dict[str, Any] = {"functionCall": {"name": name, "args": tool_arguments(arguments)}}
    if signature is not None:
        part[_SIGNATURE] = signature
    return part


def _finish(reason: FinishReason, *, refusal: bool) -> str:
    return "SAFETY" if refusal and reason is FinishReason.STOP else FINISH_REASON[reason]


def _has_refusal(parts: list[Part]) -> bool:
    return any(isinstance(part, RefusalPart) for part in parts)


@dataclass(slots=True)
class _PendingCall:
    index: int
    name: str
    arguments: str = ""
    signature: Signature | None = None


class GeminiStreamEncoder:
    """Per-request encoder: SSE frames (``alt=sse``) or the elements of one JSON array."""

    __slots__ = (
        "_call",
        "_closed",
        "_final_sent",
        "_finish",
        "_id",
        "_include_thoughts",
        "_last_text",
        "_model",
        "_opened",
        "_pending",
        "_refusal",
        "_sent",
        "_sse",
    )

    def __init__(self, *, sse: bool, include_thoughts: bool = True) -> None:
        self._sse = sse
        self._include_thoughts = include_thoughts
        self._id = ""
        self._model = ""
        self._call: _PendingCall | None = None  # a tool call buffered until its stop
        self._pending: str | None = None  # a reasoning signature not yet placed
        self._last_text = False  # the last part sent is answer text
        self._finish: Finish | None = None
        self._refusal = False
        self._opened = False  # the array's "[" is out
        self._sent = False  # an array element is out
        self._final_sent = False
        self._closed = False

    def encode(self, event: StreamEvent) -> bytes:
        if self._closed:
            return b""
        match event:
            case StreamStart():
                self._id, self._model = event.id, event.model
                return self._open()
            case PartStart():
                return self._part_start(event)
            case TextDelta():
                return self._parts([{"text": event.text}], text=True) if event.text else b""
            case ReasoningDelta():
                show = self._include_thoughts and event.text
                return self._parts([{"text": event.text, "thought": True}]) if show else b""
            case SignatureDelta():
                return self._signature(event)
            case ToolArgsDelta():
                if self._call is not None:
                    self._call.arguments += event.fragment
                return b""
            case PartStop():
                return self._part_stop(event)
            case Finish():
                self._finish = event
                return self._flush_signature()
            case UsageReport():
                return self._flush_signature() + self._final(usage_to_dict(event.usage))
            case StreamEnd():
                return self._end()
            case StreamError():
                return self._error(event)
        raise AssertionError(f"unhandled stream event {event!r}")

    def _part_start(self, event: PartStart) -> bytes:
        if event.kind is PartKind.TOOL_CALL:
            self._call = _PendingCall(event.index, event.tool_name or "")
            return b""
        self._refusal = self._refusal or event.kind is PartKind.REFUSAL
        return self._flush_signature()

    def _signature(self, event: SignatureDelta) -> bytes:
        if self._call is not None and self._call.index == event.index:
            self._call.signature = event.signature
            return b""
        flushed = self._flush_signature()
        self._pending = to_client(event.signature)
        return flushed

    def _part_stop(self, event: PartStop) -> bytes:
        call = self._call
        if call is None or call.index != event.index:
            return b""
        self._call = None
        own = to_client(call.signature) if call.signature else None
        flushed = self._flush_signature() if own else b""
        signature, self._pending = own or self._pending, None
        return flushed + self._parts([_call(call.name, call.arguments or "{}", signature)])

    def _flush_signature(self) -> bytes:
        """A reasoning signature no call took, on an empty part of its own: after answer
        text the way Gemini streams it (5.8), else as an empty thought."""
        if self._pending is None:
            return b""
        part: dict[str, Any] = {"text": "", _SIGNATURE: self._pending}
        if not self._last_text:
            part["thought"] = True
        self._pending = None
        return self._parts([part])

    def _final(self, usage: dict[str, Any] | None) -> bytes:
        if self._final_sent:
            return b""
        self._final_sent = True
        finish = self._finish or Finish(FinishReason.STOP)
        reason = _finish(finish.reason, refusal=self._refusal)
        return self._element(_chunk(self._id, self._model, [], finish=reason, usage=usage))

    def _end(self) -> bytes:
        out = self._flush_signature() + self._final(None)
        self._closed = True
        return out + (b"" if self._sse else b"]")

    def _error(self, event: StreamError) -> bytes:
        code = 503 if event.status == 529 else event.status  # only Anthropic says 529 (E44)
        status = _STATUS.get(code, "INTERNAL")
        error = {"error": {"code": code, "message": event.message, "status": status}}
        out = self._element(error)
        self._closed = True
        return out + (b"" if self._sse else b"]")

    def _open(self) -> bytes:
        if self._sse or self._opened:
            return b""
        self._opened = True
        return b"["

    def _parts(self, parts: list[dict[str, Any]], *, text: bool = False) -> bytes:
        self._last_text = text
        return self._element(_chunk(self._id, self._model, parts))

    def _element(self, payload: dict[str, Any]) -> bytes:
        if self._sse:
            return b"data: " + json.dumps(payload) + b"\r\n\r\n"
        separator = b",\r\n" if self._sent else b""
        self._sent = True
        return self._open() + separator + json.dumps(payload)


def _chunk(
    response_id: str,
    model: str,
    parts: list[dict[str, Any]],
    *,
    finish: str | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"index": 0}
    if parts:
        candidate["content"] = {"role": "model", "parts": parts}
    if finish is not None:
        candidate["finishReason"] = finish
    chunk: dict[str, Any] = {
        "candidates": [candidate],
        "modelVersion": model,
        "responseId": response_id,
    }
    if usage is not None:
        chunk["usageMetadata"] = usage
    return chunk
