"""Canonical responses and stream events rendered as OpenAI Responses (PROTOCOLS.md 3.5, 3.6, 8.3).

Codex rebuilds its history from complete ``response.output_item.done`` items
and treats a stream without ``response.completed`` as failed, so every item
is closed before the next opens and exactly one terminal event ends the stream.
"""

import secrets
from typing import Any

from app.canonical.content import TextPart
from app.canonical.response import (
    Finish,
    FinishReason,
    PartStart,
    PartStop,
    Response,
    StreamEnd,
    StreamError,
    StreamEvent,
    StreamStart,
    TextDelta,
    UsageReport,
)
from app.canonical.usage import Usage
from app.core import json
from app.protocols.openai_responses.usage import usage_to_dict

_INCOMPLETE_REASON: dict[FinishReason, str] = {
    FinishReason.LENGTH: "max_output_tokens",
    FinishReason.CONTEXT_OVERFLOW: "max_output_tokens",
    FinishReason.CONTENT_FILTER: "content_filter",
}


def new_item_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def encode_response(response: Response, request: dict[str, Any]) -> bytes:
    output = [
        _message_item(new_item_id("msg"), part.text)
        for part in response.parts
        if isinstance(part, TextPart)
    ]
    return json.dumps(
        response_object(
            response.id,
            response.model,
            response.created,
            request,
            output=output,
            finish=response.finish,
            usage=response.usage,
        )
    )


def response_object(
    response_id: str,
    model: str,
    created: int,
    request: dict[str, Any],
    *,
    output: list[dict[str, Any]],
    finish: FinishReason | None,
    usage: Usage | None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    status, incomplete = _status(finish, error)
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": status,
        "error": error,
        "incomplete_details": incomplete,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "model": model,
        "output": output,
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "reasoning": request.get("reasoning") or {"effort": None, "summary": None},
        "store": request.get("store", True),
        "temperature": request.get("temperature", 1.0),
        "text": request.get("text") or {"format": {"type": "text"}},
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": request.get("tools") or [],
        "top_p": request.get("top_p", 1.0),
        "truncation": request.get("truncation", "disabled"),
        "usage": usage_to_dict(usage) if usage is not None else None,
        "metadata": request.get("metadata") or {},
    }


def _status(
    finish: FinishReason | None, error: dict[str, Any] | None
) -> tuple[str, dict[str, str] | None]:
    if error is not None:
        return "failed", None
    if finish is None:
        return "in_progress", None
    reason = _INCOMPLETE_REASON.get(finish)
    return ("incomplete", {"reason": reason}) if reason else ("completed", None)


def _message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content if status == "completed" else [],
    }


class ResponsesStreamEncoder:
    """Per-request encoder numbering every event with ``sequence_number``."""

    __slots__ = (
        "_created",
        "_finish",
        "_id",
        "_item_id",
        "_model",
        "_output",
        "_request",
        "_seq",
        "_text",
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
        self._seq = next_sequence
        self._id = response_id
        self._model = model
        self._created = 0
        self._output: list[dict[str, Any]] = []
        self._item_id = ""
        self._text: list[str] = []
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None

    def encode(self, event: StreamEvent) -> bytes:
        match event:
            case StreamStart():
                self._id, self._model, self._created = event.id, event.model, event.created
                snapshot = self._snapshot()
                return self._event("response.created", {"response": snapshot}) + self._event(
                    "response.in_progress", {"response": snapshot}
                )
            case PartStart():
                return self._open_message()
            case TextDelta() if event.text:
                self._text.append(event.text)
                return self._event(
                    "response.output_text.delta",
                    {**self._where(), "content_index": 0, "delta": event.text, "logprobs": []},
                )
            case PartStop():
                return self._close_message()
            case Finish():
                self._finish = event.reason
                return b""
            case UsageReport():
                self._usage = event.usage
                return b""
            case StreamEnd():
                return self._terminal()
            case StreamError():
                error = {"code": event.kind, "message": event.message}
                failed = self._snapshot(error=error)
                return self._event(
                    "error", {"code": event.kind, "message": event.message, "param": None}
                ) + self._event("response.failed", {"response": failed})
            case TextDelta():
                return b""
        raise AssertionError(f"unhandled stream event {event!r}")

    def _open_message(self) -> bytes:
        self._item_id, self._text = new_item_id("msg"), []
        item = _message_item(self._item_id, "", status="in_progress")
        part = {"type": "output_text", "text": "", "annotations": []}
        return self._event(
            "response.output_item.added", {"output_index": len(self._output), "item": item}
        ) + self._event(
            "response.content_part.added", {**self._where(), "content_index": 0, "part": part}
        )

    def _close_message(self) -> bytes:
        text = "".join(self._text)
        item = _message_item(self._item_id, text)
        part = {"type": "output_text", "text": text, "annotations": []}
        frames = (
            self._event(
                "response.output_text.done",
                {**self._where(), "content_index": 0, "text": text, "logprobs": []},
            )
            + self._event(
                "response.content_part.done", {**self._where(), "content_index": 0, "part": part}
            )
            + self._event(
                "response.output_item.done", {"output_index": len(self._output), "item": item}
            )
        )
        self._output.append(item)
        return frames

    def _terminal(self) -> bytes:
        finish = self._finish or FinishReason.STOP
        final = self._snapshot(finish=finish)
        name = "response.completed" if final["status"] == "completed" else "response.incomplete"
        return self._event(name, {"response": final})

    def _where(self) -> dict[str, Any]:
        return {"item_id": self._item_id, "output_index": len(self._output)}

    def _snapshot(
        self, *, finish: FinishReason | None = None, error: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        usage = self._usage if finish is not None or error is not None else None
        return response_object(
            self._id,
            self._model,
            self._created,
            self._request,
            output=list(self._output),
            finish=finish,
            usage=usage,
            error=error,
        )

    def _event(self, name: str, payload: dict[str, Any]) -> bytes:
        body = {"type": name, "sequence_number": self._seq, **payload}
        self._seq += 1
        return b"event: " + name.encode() + b"\ndata: " + json.dumps(body) + b"\n\n"


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
