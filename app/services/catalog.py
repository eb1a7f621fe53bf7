"""The public model list, in the shape each client family expects (PROTOCOLS.md 1.4)."""

import time
from collections.abc import Sequence
from typing import Any

from app.config.model import ModelConfig
from app.core.errors import InvalidRequest


def openai_model(model: ModelConfig) -> dict[str, Any]:
    return {"id": model.id, "object": "model", "created": model.created, "owned_by": model.owned_by}


def openai_list(models: Sequence[ModelConfig]) -> dict[str, Any]:
    return {"object": "list", "data": [openai_model(model) for model in models]}


def anthropic_model(model: ModelConfig) -> dict[str, Any]:
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(model.created))
    return {
        "type": "model",
        "id": model.id,
        "display_name": model.display_name or model.id,
        "created_at": created,
    }


def anthropic_list(
    models: Sequence[ModelConfig], *, limit: str | None, after_id: str | None, before_id: str | None
) -> dict[str, Any]:
    """Anthropic cursor pagination: ``limit`` (1-1000, default 20), ``after_id``, ``before_id``."""
    size = _int_param("limit", limit, default=20, low=1, high=1000)
    ids = [model.id for model in models]
    start, end = 0, len(models)
    if after_id is not None:
        start = ids.index(after_id) + 1 if after_id in ids else len(ids)
    if before_id is not None:
        end = ids.index(before_id) if before_id in ids else 0
        start = max(start, end - size)
    page = list(models[start:end])[:size]
    data = [anthropic_model(model) for model in page]
    return {
        "data": data,
        "has_more": start + len(page) < end,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


def gemini_model(model: ModelConfig) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": f"models/{model.id}",
        "baseModelId": model.id,
        "version": "001",
        "displayName": model.display_name or model.id,
        "supportedGenerationMethods": ["generateContent", "streamGenerateContent", "countTokens"],
    }
    if model.context_window:
        entry["inputTokenLimit"] = model.context_window
    if model.max_output_tokens:
        entry["outputTokenLimit"] = model.max_output_tokens
    return entry


def gemini_list(
    models: Sequence[ModelConfig], *, page_size: str | None, page_token: str | None
) -> dict[str, Any]:
    """Gemini's ``pageSize`` (default 50, at most 1000) and opaque ``pageToken``."""
    size = _int_param("pageSize", page_size, default=50, low=1, high=1000)
    start = _int_param("pageToken", page_token or None, default=0, low=0, high=len(models))
    end = start + size
    result: dict[str, Any] = {"models": [gemini_model(model) for model in models[start:end]]}
    if end < len(models):
        result["nextPageToken"] = str(end)
    return result


def _int_param(name: str, raw: str | None, *, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest(f"Query parameter '{name}' must be an integer.", param=name) from None
    if not low <= value <= high:
        raise InvalidRequest(
            f"Query parameter '{name}' must be between {low} and {high}.", param=name
        )
    return value
