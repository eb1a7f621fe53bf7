"""Google Gemini: generateContent, streamGenerateContent, countTokens (PROTOCOLS.md 5.5-5.10)."""

from __future__ import annotations

from typing import Any

from .common import JSON_TYPE, Completion, Reply, TokenUsage, encode_json, sse_data, sse_reply

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# Google answers JSON pretty-printed with an explicit charset, and frames SSE with CRLF
# (PROTOCOLS.md 1.3); both are copied so the gateway's parsers meet the real shapes.
_GOOGLE_JSON_TYPE = f"{JSON_TYPE}; charset=UTF-8"
_INDENT = 2

MODEL_IDS = ("gemini-2.5-pro", "gemini-2.5-flash")


def render_usage(usage: TokenUsage, *, visible_output: int | None = None) -> dict[str, Any]:
    """`usageMetadata`; `visible_output` gives the running count of a not-yet-final chunk."""
    prompt = usage.prompt_total
    final = visible_output is None
    # candidatesTokenCount excludes thoughts, which Gemini counts apart (5.6).
    candidates = usage.output - usage.reasoning if visible_output is None else visible_output
    thoughts = usage.reasoning if final else 0
    metadata: dict[str, Any] = {"promptTokenCount": prompt, "candidatesTokenCount": candidates}
    if usage.cache_read:
        metadata["cachedContentTokenCount"] = usage.cache_read
    if thoughts:
        metadata["thoughtsTokenCount"] = thoughts
    metadata["totalTokenCount"] = prompt + candidates + thoughts
    metadata["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    return metadata


def render_response(completion: Completion) -> Reply:
    body = _response(
        completion, completion.text, finished=True, usage=render_usage(completion.usage)
    )
    return _google_json(body)


def render_stream(completion: Completion, *, sse: bool) -> Reply:
    """One GenerateContentResponse per piece, the last with finishReason and final usage."""
    chunks = _stream_chunks(completion)
    if sse:
        return sse_reply([sse_data(chunk, newline="\r\n") for chunk in chunks])
    # Without alt=sse Google streams one JSON array, element by element.
    elements = [encode_json(chunk, indent=_INDENT) for chunk in chunks]
    frames = [b"[" + elements[0], *(b",\r\n" + element for element in elements[1:]), b"]"]
    return Reply(200, tuple(frames), {"content-type": _GOOGLE_JSON_TYPE}, streamed=True)


def render_count_tokens(usage: TokenUsage) -> Reply:
    prompt = usage.prompt_total
    details = [{"modality": "TEXT", "tokenCount": prompt}]
    return _google_json({"totalTokens": prompt, "promptTokensDetails": details})


def render_error(status: int, message: str, *, as_array: bool) -> Reply:
    """Google's error body; streaming endpoints without alt=sse wrap it in an array (5.9)."""
    status_name = _STATUS_NAMES.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")
    error: Any = {"error": {"code": status, "message": message, "status": status_name}}
    return _google_json([error] if as_array else error, status=status)


def render_models() -> Reply:
    models = [
        {
            "name": f"models/{model_id}",
            "version": "001",
            "displayName": model_id,
            "inputTokenLimit": 1_048_576,
            "outputTokenLimit": 65_536,
            "supportedGenerationMethods": ["generateContent", "countTokens"],
        }
        for model_id in MODEL_IDS
    ]
    return _google_json({"models": models})


def _stream_chunks(completion: Completion) -> list[dict[str, Any]]:
    # An empty answer still needs one chunk to carry finishReason and usage.
    pieces = completion.pieces or ("",)
    visible = completion.usage.output - completion.usage.reasoning
    chunks = []
    for number, piece in enumerate(pieces, start=1):
        finished = number == len(pieces)
        # usageMetadata is cumulative on every chunk; only the last one is final (5.8).
        running = None if finished else visible * number // len(pieces)
        usage = render_usage(completion.usage, visible_output=running)
        chunks.append(_response(completion, piece, finished=finished, usage=usage))
    return chunks


def _response(
    completion: Completion, text: str, *, finished: bool, usage: dict[str, Any]
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
    if finished:
        candidate["finishReason"] = "STOP"
    candidate["index"] = 0
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": completion.model,
        "responseId": f"fake{completion.request_id}",
    }


def _google_json(body: object, *, status: int = 200) -> Reply:
    headers = {"content-type": _GOOGLE_JSON_TYPE}
    return Reply(status, (encode_json(body, indent=_INDENT),), headers)
