"""A canonical request as the body for an OpenAI Responses upstream (PROTOCOLS.md 3, 7).

Always ``store: false``: the gateway keeps no server-side state, so encrypted
reasoning is requested (``include``) and replayed instead (E38).
"""

import logging
from typing import Any

from app.canonical.names import ToolNames
from app.canonical.request import Effort, FormatKind, Reasoning, Request, ResponseFormat
from app.core.errors import InvalidRequest
from app.protocols.openai_responses.request_input import encode_input
from app.protocols.openai_responses.tools import (
    encode_tool_choice,
    encode_tools,
    strict_compatible,
)
from app.protocols.user_ids import openai_user

log = logging.getLogger("switchyard.translate")

# OpenAI rejects a smaller max_output_tokens ("Expected a value >= 16").
MIN_OUTPUT_TOKENS = 16
ENCRYPTED_REASONING = "reasoning.encrypted_content"

# Canonical fields with no Responses equivalent, dropped as hints (7.9, 7.16):
# stop (Responses has no stop sequences), top_k, seed, presence_penalty,
# frequency_penalty, include_usage (usage always comes with the terminal event).
DROPPED_CANONICAL = ("stop", "top_k", "seed", "presence_penalty", "frequency_penalty")

# Budget → effort ladder (PROTOCOLS.md 7.11).
_LADDER = ((512, Effort.MINIMAL), (1024, Effort.LOW), (8192, Effort.MEDIUM), (24576, Effort.HIGH))


def encode_request(
    request: Request,
    *,
    model: str,
    names: ToolNames,
    max_output_tokens: int | None = None,
) -> dict[str, Any]:
    if request.n > 1:
        raise InvalidRequest("n > 1 is not supported for this model.", param="n")
    encoded = encode_input(request.messages, names)
    body: dict[str, Any] = {"model": model, "input": encoded.items, "store": False}
    instructions = "\n\n".join(text for text in request.system if text)
    if instructions:
        body["instructions"] = instructions
    if request.stream:
        body["stream"] = True
    if request.tools:
        body["tools"] = encode_tools(request.tools, names)
    if request.tool_choice is not None:
        body["tool_choice"] = encode_tool_choice(request.tool_choice, names)
    if request.parallel_tool_calls is not None:
        body["parallel_tool_calls"] = request.parallel_tool_calls
    limit = _output_limit(request.max_output_tokens, max_output_tokens)
    if limit is not None:
        body["max_output_tokens"] = limit
    reasoning = _reasoning(request.reasoning)
    if reasoning:
        body["reasoning"] = reasoning
    thinking = encoded.replays_reasoning or (
        request.reasoning is not None and reasoning.get("effort") != "none"
    )
    if thinking:
        body["include"] = [ENCRYPTED_REASONING]
    else:
        # OpenAI reasoning models reject these while they reason ("Unsupported
        # parameter: 'temperature' is not supported with this model").
        body |= _sampling(request)
    if request.response_format is not None:
        body["text"] = {"format": _format(request.response_format)}
    if request.user:
        body["user"] = openai_user(request.user)
    if request.metadata:
        body["metadata"] = request.metadata
    if request.cache_key:
        body["prompt_cache_key"] = request.cache_key
    return body


def _output_limit(requested: int | None, model_limit: int | None) -> int | None:
    if requested is None:
        return None
    if model_limit is not None:
        requested = min(requested, model_limit)
    return max(requested, MIN_OUTPUT_TOKENS)


def _sampling(request: Request) -> dict[str, Any]:
    sampling: dict[str, Any] = {}
    if request.temperature is not None:
        sampling["temperature"] = request.temperature
    if request.top_p is not None:
        sampling["top_p"] = request.top_p
    return sampling


def _reasoning(reasoning: Reasoning | None) -> dict[str, Any]:
    if reasoning is None:
        return {}
    effort = reasoning.effort or _effort_of_budget(reasoning.budget_tokens)
    if reasoning.enabled is False:
        effort = Effort.NONE
    encoded: dict[str, Any] = {}
    if effort is not None:
        encoded["effort"] = effort.value
    if reasoning.summary and effort is not Effort.NONE:
        encoded["summary"] = "auto"
    return encoded


def _effort_of_budget(budget: int | None) -> Effort | None:
    if budget is None or budget < 0:  # -1 is "dynamic": leave it to the model
        return None
    if budget == 0:
        return Effort.NONE
    return next((effort for most, effort in _LADDER if budget <= most), Effort.XHIGH)


def _format(response_format: ResponseFormat) -> dict[str, Any]:
    if response_format.kind is not FormatKind.JSON_SCHEMA:
        return {"type": response_format.kind.value}
    schema = response_format.schema or {"type": "object"}
    encoded: dict[str, Any] = {
        "type": "json_schema",
        "name": response_format.name or "response",
        "schema": schema,
    }
    if response_format.description:
        encoded["description"] = response_format.description
    if response_format.strict is not None:
        strict = response_format.strict and strict_compatible(schema)
        if response_format.strict and not strict:
            log.warning("response schema outside the strict subset, sent with strict=false")
        encoded["strict"] = strict
    return encoded
