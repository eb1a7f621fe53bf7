"""A canonical ``Request`` as a Chat Completions body for an upstream (PROTOCOLS.md 2.1, 7.5-7.11).

Sent as asked: tools and ``tool_choice`` (names through ``ToolNames``),
``parallel_tool_calls``, sampling, ``stop`` (at most 4), ``seed``, penalties,
``response_format``, ``reasoning_effort``, ``user`` (hashed past OpenAI's 64
characters, user_ids.py), ``prompt_cache_key``.
Dropped, with the reason: ``top_k`` (no Chat field, 7.16); ``metadata``
(OpenAI rejects it unless ``store`` is on -- "The 'metadata' parameter is only
allowed when 'store' is enabled", tmc/langchaingo#1484 -- and the gateway
never stores a client's conversation with a provider); the reasoning summary
wish (Chat cannot ask for one). Rejected: ``n`` > 1 (the canonical reply
holds one choice), more than four stop sequences.
"""

import re
from typing import Any

from app.canonical.names import ToolNames
from app.canonical.request import (
    FormatKind,
    Reasoning,
    Request,
    ResponseFormat,
    Tool,
    ToolChoice,
    ToolChoiceMode,
)
from app.core.errors import InvalidRequest
from app.protocols.openai_chat.encode_messages import encode_messages
from app.protocols.user_ids import openai_user

MAX_STOP_SEQUENCES = 4

# PROTOCOLS.md 7.11, budget -> effort: the largest budget each effort covers.
_EFFORT_LADDER = ((512, "minimal"), (1024, "low"), (8192, "medium"), (24576, "high"))
_SCHEMA_NAME_INVALID = re.compile(r"[^a-zA-Z0-9_-]")


def encode_request(
    request: Request,
    *,
    model: str,
    names: ToolNames,
    max_output_tokens: int | None = None,
    legacy_max_tokens: bool = False,
) -> dict[str, Any]:
    """``legacy_max_tokens``: send the limit as ``max_tokens`` for OpenAI-compatible
    servers that only know it (DeepSeek, older vLLM); OpenAI's reasoning models
    reject it, so ``max_completion_tokens`` is the default (E40)."""
    if request.n > 1:
        raise InvalidRequest("Only one choice (n=1) is supported for this model.", param="n")
    body: dict[str, Any] = {"model": model, "messages": encode_messages(request, names)}
    if request.tools:
        body["tools"] = [_tool(tool, names) for tool in request.tools]
        # OpenAI rejects tool_choice and parallel_tool_calls without tools.
        if request.tool_choice is not None:
            body["tool_choice"] = _tool_choice(request.tool_choice, names)
        if request.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = request.parallel_tool_calls
    limit = _limit(request.max_output_tokens, max_output_tokens)
    if limit is not None:
        body["max_tokens" if legacy_max_tokens else "max_completion_tokens"] = limit
    body |= _sampling(request)
    if request.stop:
        body["stop"] = _stop(request.stop)
    if request.response_format is not None:
        body["response_format"] = _response_format(request.response_format)
    effort = _effort(request.reasoning)
    if effort is not None:
        body["reasoning_effort"] = effort
    if request.stream:
        # Always, so the ledger sees usage whatever the client asked (7.1, E8).
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if request.user:
        body["user"] = openai_user(request.user)
    if request.cache_key:
        body["prompt_cache_key"] = request.cache_key
    return body


def _tool(tool: Tool, names: ToolNames) -> dict[str, Any]:
    function: dict[str, Any] = {"name": names.outbound(tool.name)}
    if tool.description:
        function["description"] = tool.description
    if tool.parameters is not None:  # omitted parameters mean "no arguments" (2.3)
        function["parameters"] = tool.parameters
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def _tool_choice(choice: ToolChoice, names: ToolNames) -> Any:
    if choice.mode is ToolChoiceMode.NONE:
        return "none"
    if choice.mode is ToolChoiceMode.TOOL and choice.name:
        return {"type": "function", "function": {"name": names.outbound(choice.name)}}
    mode = "required" if choice.mode is not ToolChoiceMode.AUTO else "auto"
    if not choice.allowed:
        return mode
    tools = [{"type": "function", "function": {"name": names.outbound(n)}} for n in choice.allowed]
    return {"type": "allowed_tools", "allowed_tools": {"mode": mode, "tools": tools}}


def _limit(requested: int | None, model_limit: int | None) -> int | None:
    if requested is None or model_limit is None:
        return requested
    return min(requested, model_limit)


def _sampling(request: Request) -> dict[str, Any]:
    values = {
        "temperature": request.temperature,
        "top_p": request.top_p,
        "seed": request.seed,
        "presence_penalty": request.presence_penalty,
        "frequency_penalty": request.frequency_penalty,
    }
    return {key: value for key, value in values.items() if value is not None}


def _stop(stop: list[str]) -> list[str]:
    if len(stop) > MAX_STOP_SEQUENCES:
        raise InvalidRequest(
            f"At most {MAX_STOP_SEQUENCES} stop sequences are supported for this model.",
            param="stop",
        )
    return stop


def _response_format(fmt: ResponseFormat) -> dict[str, Any]:
    if fmt.kind is not FormatKind.JSON_SCHEMA:
        return {"type": fmt.kind.value}
    # OpenAI requires a name of [a-zA-Z0-9_-]{1,64}; other protocols have none.
    spec: dict[str, Any] = {"name": _SCHEMA_NAME_INVALID.sub("_", fmt.name or "response")[:64]}
    if fmt.description:
        spec["description"] = fmt.description
    spec["schema"] = fmt.schema if fmt.schema is not None else {"type": "object"}
    if fmt.strict is not None:
        spec["strict"] = fmt.strict
    return {"type": "json_schema", "json_schema": spec}


def _effort(reasoning: Reasoning | None) -> str | None:
    """PROTOCOLS.md 7.11: the effort asked, else the budget's rung; "auto" sends nothing."""
    if reasoning is None:
        return None
    if reasoning.enabled is False:
        return "none"
    if reasoning.effort is not None:
        return reasoning.effort.value
    budget = reasoning.budget_tokens
    if budget is None or budget < 0:
        return None
    if budget == 0:
        return "none"
    return next((effort for top, effort in _EFFORT_LADDER if budget <= top), "xhigh")
