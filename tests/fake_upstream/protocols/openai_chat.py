"""OpenAI Chat Completions: `POST /v1/chat/completions` (PROTOCOLS.md 2.4-2.7)."""

from __future__ import annotations

from typing import Any

from .common import CREATED, Completion, Reply, TokenUsage, json_reply, sse_data, sse_reply


def render_usage(usage: TokenUsage) -> dict[str, Any]:
    prompt_details: dict[str, int] = {"cached_tokens": usage.cache_read, "audio_tokens": 0}
    if usage.cache_write:
        # A newer field; OpenAI omits it when nothing was written to the cache.
        prompt_details["cache_write_tokens"] = usage.cache_write
    return {
        "prompt_tokens": usage.prompt_total,
        "completion_tokens": usage.output,
        "total_tokens": usage.prompt_total + usage.output,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def render_completion(completion: Completion) -> Reply:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": completion.text,
        "refusal": None,
        "annotations": [],
    }
    choice = {"index": 0, "finish_reason": "stop", "logprobs": None, "message": message}
    body = {
        **_envelope(completion, "chat.completion"),
        "choices": [choice],
        "usage": render_usage(completion.usage),
        "service_tier": "default",
    }
    return json_reply(body)


def render_stream(completion: Completion, *, include_usage: bool) -> Reply:
    """Role chunk, one chunk per piece, finish chunk, optional usage chunk, `[DONE]`."""
    deltas: list[tuple[dict[str, Any], str | None]] = [({"role": "assistant", "content": ""}, None)]
    deltas += [({"content": piece}, None) for piece in completion.pieces]
    deltas.append(({}, "stop"))
    frames = [sse_data(_chunk(completion, d, reason, include_usage)) for d, reason in deltas]
    if include_usage:
        # The usage chunk comes after the finish chunk, with an empty `choices` (2.7).
        usage_chunk = {
            **_envelope(completion, "chat.completion.chunk"),
            "choices": [],
            "usage": render_usage(completion.usage),
        }
        frames.append(sse_data(usage_chunk))
    frames.append(b"data: [DONE]\n\n")
    return sse_reply(frames)


def _envelope(completion: Completion, kind: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-fake{completion.request_id}",
        "object": kind,
        "created": CREATED,
        "model": completion.model,
        "system_fingerprint": "fp_fake",
    }


def _chunk(
    completion: Completion, delta: dict[str, Any], reason: str | None, include_usage: bool
) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
    chunk = {**_envelope(completion, "chat.completion.chunk"), "choices": [choice]}
    if include_usage:
        # With include_usage every other chunk carries `"usage": null` (2.7).
        chunk["usage"] = None
    return chunk
