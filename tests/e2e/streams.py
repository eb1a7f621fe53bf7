"""Provider streams written out by hand, for tests that need to know every byte.

Each list holds whole frames as the provider frames them; tests cut them into chunks as they
please and script the fake to send exactly those chunks.
"""

from __future__ import annotations

import json
from typing import Any


def data_frame(event: dict[str, Any], newline: str = "\n") -> str:
    return f"data: {json.dumps(event, ensure_ascii=False)}{newline}{newline}"


def named_frame(event: dict[str, Any]) -> str:
    return f"event: {event['type']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"


def split_after_first_cr(frames: list[str]) -> list[str]:
    """Chunks cut inside every CRLF CRLF separator, just after its first CR."""
    chunks, tail = [], ""
    for frame in frames:
        assert frame.endswith("\r\n\r\n")
        chunks.append(tail + frame[:-3])
        tail = frame[-3:]
    return [*chunks, tail]


# --- Anthropic Messages: message_start carries input and cache counts, message_delta the
# final output count (PROTOCOLS.md 4.8).

ANTHROPIC_EVENTS: list[dict[str, Any]] = [
    {
        "type": "message_start",
        "message": {
            "id": "msg_bytes",
            "type": "message",
            "role": "assistant",
            "model": "claude-test",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": 11,
                "cache_creation_input_tokens": 7,
                "cache_read_input_tokens": 5,
                "output_tokens": 1,
            },
        },
    },
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "ping"},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Odd "}},
    {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": "splits, ünïcödé ✓"},
    },
    {"type": "content_block_stop", "index": 0},
    {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 9},
    },
    {"type": "message_stop"},
]


# Anthropic's input_tokens excludes cache tokens; the canonical input includes them.
ANTHROPIC_LOGGED_USAGE = {
    "input": 11 + 7 + 5,
    "output": 9,
    "cache_read": 5,
    "cache_write": 7,
    "reasoning": 0,
}


# --- OpenAI Chat: with include_usage every chunk has "usage": null and a last chunk with
# empty choices carries the numbers (PROTOCOLS.md 2.7).


def chat_chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return {
        "id": "chatcmpl-bytes",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-test",
        "choices": [choice],
        "usage": None,
    }


CHAT_USAGE = {
    "prompt_tokens": 40,
    "completion_tokens": 12,
    "total_tokens": 52,
    "prompt_tokens_details": {"cached_tokens": 16},
    "completion_tokens_details": {"reasoning_tokens": 3},
}
CHAT_FRAMES = [
    data_frame(chat_chunk({"role": "assistant", "content": ""})),
    data_frame(chat_chunk({"content": "Byte"})),
    data_frame(chat_chunk({"content": "-exact ✓"})),
    data_frame(chat_chunk({}, "stop")),
]
CHAT_USAGE_FRAME = data_frame(
    {
        "id": "chatcmpl-bytes",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-test",
        "choices": [],
        "usage": CHAT_USAGE,
    }
)
CHAT_DONE = "data: [DONE]\n\n"
CHAT_LOGGED_USAGE = {
    "input": 40,
    "output": 12,
    "cache_read": 16,
    "cache_write": 0,
    "reasoning": 3,
}


# --- OpenAI Responses: usage arrives once, in response.completed (PROTOCOLS.md 3.6).


def responses_events() -> list[dict[str, Any]]:
    base = {"id": "resp_bytes", "object": "response", "created_at": 1700000000, "model": "gpt-test"}
    item = {"id": "msg_bytes", "type": "message", "role": "assistant"}
    text = "Responses, byte for byte ✓"
    part = {"type": "output_text", "text": text, "annotations": []}
    done_item = {**item, "status": "completed", "content": [part]}
    usage = {
        "input_tokens": 30,
        "input_tokens_details": {"cached_tokens": 10},
        "output_tokens": 20,
        "output_tokens_details": {"reasoning_tokens": 5},
        "total_tokens": 50,
    }
    where = {"item_id": "msg_bytes", "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {**base, "status": "in_progress", "usage": None}},
        {"type": "response.in_progress", "response": {**base, "status": "in_progress"}},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**item, "status": "in_progress", "content": []},
        },
        {"type": "response.content_part.added", **where, "part": {**part, "text": ""}},
        {"type": "response.output_text.delta", **where, "delta": text[:10]},
        {"type": "response.output_text.delta", **where, "delta": text[10:]},
        {"type": "response.output_text.done", **where, "text": text},
        {"type": "response.content_part.done", **where, "part": part},
        {"type": "response.output_item.done", "output_index": 0, "item": done_item},
        {
            "type": "response.completed",
            "response": {**base, "status": "completed", "output": [done_item], "usage": usage},
        },
    ]
    return [{**event, "sequence_number": number} for number, event in enumerate(events)]


RESPONSES_LOGGED_USAGE = {
    "input": 30,
    "output": 20,
    "cache_read": 10,
    "cache_write": 0,
    "reasoning": 5,
}


# --- Gemini: usageMetadata is cumulative on every chunk, the last one final (PROTOCOLS.md
# 5.8); thoughts are counted apart from candidates (5.6).


def gemini_chunks() -> list[dict[str, Any]]:
    texts = ["Gemini ", "with CRLF ", "framing ✓"]
    chunks = []
    for number, text in enumerate(texts, start=1):
        last = number == len(texts)
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
        usage: dict[str, Any] = {"promptTokenCount": 25, "candidatesTokenCount": 2 * number}
        if last:
            candidate["finishReason"] = "STOP"
            usage.update(cachedContentTokenCount=8, thoughtsTokenCount=4)
        candidate["index"] = 0
        usage["totalTokenCount"] = 25 + usage["candidatesTokenCount"]
        chunks.append(
            {"candidates": [candidate], "usageMetadata": usage, "modelVersion": "gemini-test"}
        )
    return chunks


# The last chunk's usageMetadata is the final one: 6 visible output tokens plus 4 thoughts.
GEMINI_LOGGED_USAGE = {
    "input": 25,
    "output": 6 + 4,
    "cache_read": 8,
    "cache_write": 0,
    "reasoning": 4,
}


def gemini_array(chunks: list[dict[str, Any]]) -> list[str]:
    """The pieces of Google's JSON-array stream (no ``alt=sse``): ``[``, elements, ``]``."""
    elements = [json.dumps(chunk, indent=2, ensure_ascii=False) for chunk in chunks]
    return ["[" + elements[0], *(",\r\n" + element for element in elements[1:]), "]"]
