"""OpenAI Responses: `POST /v1/responses`, `/v1/responses/input_tokens` (PROTOCOLS.md 3.5-3.7)."""

from __future__ import annotations

from typing import Any

from .common import CREATED, Completion, Reply, TokenUsage, json_reply, sse_event, sse_reply


def render_usage(usage: TokenUsage) -> dict[str, Any]:
    return {
        "input_tokens": usage.prompt_total,
        "input_tokens_details": {"cached_tokens": usage.cache_read},
        "output_tokens": usage.output,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning},
        "total_tokens": usage.prompt_total + usage.output,
    }


def render_response(completion: Completion, request: dict[str, Any]) -> Reply:
    output = [_message_item(completion, "completed", [_text_part(completion.text)])]
    usage = render_usage(completion.usage)
    return json_reply(_response(completion, request, "completed", output, usage))


def render_input_tokens(usage: TokenUsage) -> Reply:
    return json_reply({"object": "response.input_tokens", "input_tokens": usage.prompt_total})


def render_stream(completion: Completion, request: dict[str, Any]) -> Reply:
    """The full typed event sequence of a text answer, numbered by `sequence_number` (3.6)."""
    events = [
        *_opening_events(completion, request),
        *_text_events(completion),
        *_closing_events(completion, request),
    ]
    frames = [
        sse_event(event_type, {"type": event_type, "sequence_number": number, **payload})
        for number, (event_type, payload) in enumerate(events)
    ]
    return sse_reply(frames)


_Event = tuple[str, dict[str, Any]]


def _opening_events(completion: Completion, request: dict[str, Any]) -> list[_Event]:
    started = _response(completion, request, "in_progress", [], None)
    item = _message_item(completion, "in_progress", [])
    return [
        ("response.created", {"response": started}),
        ("response.in_progress", {"response": started}),
        ("response.output_item.added", {"output_index": 0, "item": item}),
        ("response.content_part.added", {**_where(completion), "part": _text_part("")}),
    ]


def _text_events(completion: Completion) -> list[_Event]:
    where = _where(completion)
    deltas: list[_Event] = [
        ("response.output_text.delta", {**where, "delta": piece, "logprobs": []})
        for piece in completion.pieces
    ]
    done = ("response.output_text.done", {**where, "text": completion.text, "logprobs": []})
    return [*deltas, done]


def _closing_events(completion: Completion, request: dict[str, Any]) -> list[_Event]:
    part = _text_part(completion.text)
    item = _message_item(completion, "completed", [part])
    usage = render_usage(completion.usage)
    finished = _response(completion, request, "completed", [item], usage)
    return [
        ("response.content_part.done", {**_where(completion), "part": part}),
        ("response.output_item.done", {"output_index": 0, "item": item}),
        ("response.completed", {"response": finished}),
    ]


def _where(completion: Completion) -> dict[str, Any]:
    return {"item_id": f"msg_fake{completion.request_id}", "output_index": 0, "content_index": 0}


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _message_item(
    completion: Completion, status: str, content: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": f"msg_fake{completion.request_id}",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def _response(
    completion: Completion,
    request: dict[str, Any],
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "id": f"resp_fake{completion.request_id}",
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "model": completion.model,
        "error": None,
        "incomplete_details": None,
        # Echoed from the request, as OpenAI does, so a test can see what reached the upstream.
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "metadata": request.get("metadata") or {},
        "parallel_tool_calls": True,
        "previous_response_id": request.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": request.get("store", True),
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": request.get("tools") or [],
        "top_p": 1.0,
        "truncation": "disabled",
        "output": output,
        "usage": usage,
    }
