"""Canned provider replies for the fast fake upstream, built once per (route, model) and cached.

Each reply is valid for its wire protocol (PROTOCOLS.md sections 2-5) and carries usage, so
the gateway does its full per-request work (usage reading, translation) on it. Bodies are built
with orjson on first use and kept as bytes: a request then costs a dictionary lookup.

A stream is a list of *segments*: the bytes written at one instant. The first segment holds the
opening events and the first text piece, each following one the next piece; the closing events
ride with the last piece. With `chunks` pieces `delay` apart, a stream lasts (chunks-1)*delay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

CREATED = 1_700_000_000
INPUT_TOKENS = 24
JSON_TYPE = b"application/json"
SSE_TYPE = b"text/event-stream"


def pieces(count: int) -> list[str]:
    """`count` short words, the text of every canned answer."""
    return [("Hello" if n == 0 else f" w{n}") for n in range(max(1, count))]


def _dump(value: object) -> bytes:
    return orjson.dumps(value)


def _data(value: object, newline: bytes = b"\n") -> bytes:
    return b"data: " + _dump(value) + newline + newline


def _event(kind: str, value: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + _dump({"type": kind, **value}) + b"\n\n"


# --- OpenAI Chat Completions (PROTOCOLS.md 2.4-2.7) -------------------------------------------


def _chat_usage(output: int) -> dict[str, Any]:
    return {
        "prompt_tokens": INPUT_TOKENS,
        "completion_tokens": output,
        "total_tokens": INPUT_TOKENS + output,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def _chat_envelope(model: str, kind: str) -> dict[str, Any]:
    return {"id": "chatcmpl-fast", "object": kind, "created": CREATED, "model": model}


def chat_body(model: str, words: list[str]) -> bytes:
    message = {"role": "assistant", "content": "".join(words), "refusal": None}
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
    body = {
        **_chat_envelope(model, "chat.completion"),
        "choices": [choice],
        "usage": _chat_usage(len(words)),
    }
    return _dump(body)


def chat_stream(model: str, words: list[str], include_usage: bool) -> list[list[bytes]]:
    def chunk(delta: dict[str, Any], reason: str | None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
        value = {**_chat_envelope(model, "chat.completion.chunk"), "choices": [choice]}
        if include_usage:
            value["usage"] = None
        return _data(value)

    opening = [chunk({"role": "assistant", "content": ""}, None)]
    closing = [chunk({}, "stop")]
    if include_usage:
        usage = {
            **_chat_envelope(model, "chat.completion.chunk"),
            "choices": [],
            "usage": _chat_usage(len(words)),
        }
        closing.append(_data(usage))
    closing.append(b"data: [DONE]\n\n")
    return _segments(opening, [chunk({"content": w}, None) for w in words], closing)


def chat_stream_error() -> bytes:
    error = {"message": "fault injected", "type": "server_error", "param": None, "code": None}
    return _data({"error": error})


def openai_error(status: int, message: str) -> bytes:
    kind = "rate_limit_error" if status == 429 else "server_error"
    if 400 <= status < 500 and status != 429:
        kind = "invalid_request_error"
    return _dump({"error": {"message": message, "type": kind, "param": None, "code": None}})


# --- OpenAI Responses (PROTOCOLS.md 3.5-3.7) --------------------------------------------------


def _responses_usage(output: int) -> dict[str, Any]:
    return {
        "input_tokens": INPUT_TOKENS,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": INPUT_TOKENS + output,
    }


def _responses_item(status: str, text: str | None) -> dict[str, Any]:
    content = [] if text is None else [_output_text(text)]
    return {
        "id": "msg_fast",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def _output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _response(model: str, status: str, output: list[Any], usage: Any) -> dict[str, Any]:
    return {
        "id": "resp_fast",
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": usage,
    }


def responses_body(model: str, words: list[str]) -> bytes:
    item = _responses_item("completed", "".join(words))
    return _dump(_response(model, "completed", [item], _responses_usage(len(words))))


def responses_stream(model: str, words: list[str], _include_usage: bool) -> list[list[bytes]]:
    counter = iter(range(1_000_000))

    def event(kind: str, value: dict[str, Any]) -> bytes:
        return _event(kind, {"sequence_number": next(counter), **value})

    where = {"item_id": "msg_fast", "output_index": 0, "content_index": 0}
    started = _response(model, "in_progress", [], None)
    opening = [
        event("response.created", {"response": started}),
        event("response.in_progress", {"response": started}),
        event(
            "response.output_item.added",
            {"output_index": 0, "item": _responses_item("in_progress", None)},
        ),
        event("response.content_part.added", {**where, "part": _output_text("")}),
    ]
    middle = [
        event("response.output_text.delta", {**where, "delta": w, "logprobs": []}) for w in words
    ]
    text = "".join(words)
    done_item = _responses_item("completed", text)
    finished = _response(model, "completed", [done_item], _responses_usage(len(words)))
    closing = [
        event("response.output_text.done", {**where, "text": text, "logprobs": []}),
        event("response.content_part.done", {**where, "part": _output_text(text)}),
        event("response.output_item.done", {"output_index": 0, "item": done_item}),
        event("response.completed", {"response": finished}),
    ]
    return _segments(opening, middle, closing)


def responses_stream_error() -> bytes:
    value = {"code": "server_error", "message": "fault injected", "param": None}
    return _event("error", {**value, "sequence_number": 0})


def input_tokens_body() -> bytes:
    return _dump({"object": "response.input_tokens", "input_tokens": INPUT_TOKENS})


# --- Anthropic Messages (PROTOCOLS.md 4.5-4.10) -----------------------------------------------


def _anthropic_usage(output: int) -> dict[str, Any]:
    return {
        "input_tokens": INPUT_TOKENS,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output,
    }


def _message(model: str, content: list[Any], stop: str | None, usage: Any) -> dict[str, Any]:
    return {
        "id": "msg_fast",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }


def messages_body(model: str, words: list[str]) -> bytes:
    content = [{"type": "text", "text": "".join(words)}]
    return _dump(_message(model, content, "end_turn", _anthropic_usage(len(words))))


def messages_stream(model: str, words: list[str], _include_usage: bool) -> list[list[bytes]]:
    opening = [
        _event("message_start", {"message": _message(model, [], None, _anthropic_usage(1))}),
        _event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
    ]
    middle = [
        _event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": w}})
        for w in words
    ]
    delta = {"stop_reason": "end_turn", "stop_sequence": None}
    closing = [
        _event("content_block_stop", {"index": 0}),
        _event("message_delta", {"delta": delta, "usage": {"output_tokens": len(words)}}),
        _event("message_stop", {}),
    ]
    return _segments(opening, middle, closing)


def messages_stream_error() -> bytes:
    return _event("error", {"error": {"type": "overloaded_error", "message": "Overloaded"}})


def anthropic_error(status: int, message: str) -> bytes:
    kinds = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error"}
    kind = kinds.get(status) or ("overloaded_error" if status in (503, 529) else "api_error")
    return _dump({"type": "error", "error": {"type": kind, "message": message}})


def count_tokens_body() -> bytes:
    return _dump({"input_tokens": INPUT_TOKENS})


# --- Gemini (PROTOCOLS.md 5.5-5.10) -----------------------------------------------------------


def _gemini_usage(output: int) -> dict[str, Any]:
    return {
        "promptTokenCount": INPUT_TOKENS,
        "candidatesTokenCount": output,
        "totalTokenCount": INPUT_TOKENS + output,
    }


def _gemini_response(model: str, text: str, finished: bool, output: int) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
    if finished:
        candidate["finishReason"] = "STOP"
    candidate["index"] = 0
    return {
        "candidates": [candidate],
        "usageMetadata": _gemini_usage(output),
        "modelVersion": model,
        "responseId": "fast",
    }


def gemini_body(model: str, words: list[str]) -> bytes:
    return _dump(_gemini_response(model, "".join(words), True, len(words)))


def gemini_stream(model: str, words: list[str], sse: bool) -> list[list[bytes]]:
    """SSE with CRLF framing (alt=sse), or one JSON array streamed element by element."""
    last = len(words) - 1
    values = [_gemini_response(model, w, n == last, n + 1) for n, w in enumerate(words)]
    if sse:
        frames = [_data(v, b"\r\n") for v in values]
        return _segments([], frames, [])
    frames = [(b"[" if n == 0 else b",\r\n") + _dump(v) for n, v in enumerate(values)]
    return _segments([], frames, [b"]"])


def gemini_stream_error(sse: bool) -> bytes:
    error = _dump({"error": {"code": 503, "message": "fault injected", "status": "UNAVAILABLE"}})
    return b"data: " + error + b"\r\n\r\n" if sse else b"[" + error + b"]"


def gemini_error(status: int, message: str) -> bytes:
    names = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 429: "RESOURCE_EXHAUSTED"}
    name = names.get(status) or ("UNAVAILABLE" if status == 503 else "INTERNAL")
    return _dump({"error": {"code": status, "message": message, "status": name}})


def gemini_count_body() -> bytes:
    return _dump({"totalTokens": INPUT_TOKENS})


def models_body() -> bytes:
    return _dump({"object": "list", "data": [{"id": "fast-model", "object": "model"}]})


def _segments(opening: list[bytes], middle: list[bytes], closing: list[bytes]) -> list[list[bytes]]:
    segments = [[frame] for frame in middle] or [[]]
    segments[0] = opening + segments[0]
    segments[-1] = segments[-1] + closing
    return segments


StreamBuilder = Callable[[str, list[str], bool], list[list[bytes]]]
