"""Canonical requests as Messages bodies for Anthropic upstreams (PROTOCOLS.md 4.2, 7.3-7.16).

Dropped on the way, as hints Messages has no field for (7.16): ``seed``,
``presence_penalty``, ``frequency_penalty``, ``metadata`` (only ``user``
survives, as ``metadata.user_id``), ``cache_key``, ``include_usage``, image
``detail``. With thinking on, ``temperature``/``top_p``/``top_k`` are dropped
too (Messages rejects custom sampling with thinking, 4.3) and a forced
``tool_choice`` becomes ``auto`` (E33); ``top_p`` is dropped beside
``temperature`` (newer models reject the pair, E41).
"""

import logging
from dataclasses import dataclass
from typing import Any

from app.canonical.names import ToolNames
from app.canonical.request import (
    Effort,
    FormatKind,
    Reasoning,
    Request,
    ResponseFormat,
    Tool,
    ToolChoiceMode,
)
from app.core.errors import InvalidRequest
from app.protocols.anthropic.messages_encode import encode_messages, thinking_conflict

log = logging.getLogger("switchyard.translate")

DEFAULT_MAX_TOKENS = 8192
MIN_THINKING_BUDGET = 1024

# The 7.11 ladder: effort -> budget_tokens for manual thinking, and -> output_config.effort.
THINKING_BUDGET = {
    Effort.MINIMAL: 1024,
    Effort.LOW: 1024,
    Effort.MEDIUM: 8192,
    Effort.HIGH: 24576,
    Effort.XHIGH: 32768,
    Effort.MAX: 32768,
}
OUTPUT_EFFORT = {
    Effort.MINIMAL: "low",
    Effort.LOW: "low",
    Effort.MEDIUM: "medium",
    Effort.HIGH: "high",
    Effort.XHIGH: "xhigh",
    Effort.MAX: "max",
}
_TOOL_CHOICE = {
    ToolChoiceMode.AUTO: "auto",
    ToolChoiceMode.REQUIRED: "any",
    ToolChoiceMode.TOOL: "tool",
    ToolChoiceMode.NONE: "none",
}


@dataclass(slots=True)
class _Thinking:
    config: dict[str, Any] | None  # the `thinking` field, None to omit it
    on: bool = False
    effort: str | None = None  # output_config.effort, with adaptive thinking only


def encode_request(
    request: Request, *, model: str, names: ToolNames, max_output_tokens: int | None = None
) -> dict[str, Any]:
    if request.n > 1:
        raise InvalidRequest("n > 1 is not supported for this model", param="n")
    messages = encode_messages(request.messages, names)
    thinking = _thinking(request.reasoning, messages)
    visible = _visible_tokens(request.max_output_tokens, max_output_tokens)
    body: dict[str, Any] = {"model": model, "messages": messages}
    system = [{"type": "text", "text": text} for text in request.system if text.strip()]
    if system:
        body["system"] = system
    body["max_tokens"] = visible
    if thinking.config is not None and thinking.config["type"] == "enabled":
        body["max_tokens"], thinking = _fit_budget(thinking, visible, max_output_tokens)
    if thinking.config is not None:
        body["thinking"] = thinking.config
    if not thinking.on:
        body |= _sampling(request)
    if stop := [sequence for sequence in request.stop if sequence.strip()]:
        body["stop_sequences"] = stop
    body |= _tools(request, messages, names, thinking.on)
    output_config = _output_format(request.response_format)
    if thinking.effort:
        output_config["effort"] = thinking.effort
    if output_config:
        body["output_config"] = output_config
    if request.user:
        body["metadata"] = {"user_id": request.user}
    if request.stream:
        body["stream"] = True
    return body


def _visible_tokens(requested: int | None, limit: int | None) -> int:
    """``max_tokens`` is required (4.2, E14): the client's, else the model's limit, else 8192."""
    tokens = requested or limit or DEFAULT_MAX_TOKENS
    return min(tokens, limit) if limit else tokens


def _thinking(reasoning: Reasoning | None, messages: list[dict[str, Any]]) -> _Thinking:
    if reasoning is None:
        return _Thinking(None)
    if reasoning.enabled is False or reasoning.effort is Effort.NONE:
        return _Thinking({"type": "disabled"})
    conflict = thinking_conflict(messages)
    if conflict is not None:
        log.warning("thinking disabled for this request: %s", conflict)
        return _Thinking({"type": "disabled"})
    if reasoning.enabled is None:
        effort = OUTPUT_EFFORT.get(reasoning.effort) if reasoning.effort else None
        return _Thinking({"type": "adaptive"}, on=True, effort=effort)
    budget = reasoning.budget_tokens or THINKING_BUDGET.get(reasoning.effort or Effort.MEDIUM, 8192)
    budget = max(budget, MIN_THINKING_BUDGET)
    return _Thinking({"type": "enabled", "budget_tokens": budget}, on=True)


def _fit_budget(thinking: _Thinking, visible: int, limit: int | None) -> tuple[int, _Thinking]:
    """budget_tokens must be below max_tokens (4.2): raise max_tokens to make room for the
    answer, within the model's limit; a budget that no longer fits turns thinking off."""
    assert thinking.config is not None
    budget: int = thinking.config["budget_tokens"]
    max_tokens = visible if budget < visible else budget + visible
    if limit and max_tokens > limit:
        max_tokens = limit
        budget = min(budget, limit // 2)
    if budget < MIN_THINKING_BUDGET:
        log.warning(
            "thinking disabled for this request: max_tokens %d leaves no budget", max_tokens
        )
        return max_tokens, _Thinking({"type": "disabled"})
    return max_tokens, _Thinking({"type": "enabled", "budget_tokens": budget}, on=True)


def _sampling(request: Request) -> dict[str, Any]:
    sampling: dict[str, Any] = {}
    if request.temperature is not None:
        sampling["temperature"] = min(max(request.temperature, 0.0), 1.0)  # 0-1 here, 0-2 elsewhere
    elif request.top_p is not None:
        sampling["top_p"] = request.top_p
    if request.top_k is not None:
        sampling["top_k"] = request.top_k
    return sampling


def _tools(
    request: Request, messages: list[dict[str, Any]], names: ToolNames, thinking: bool
) -> dict[str, Any]:
    choice = request.tool_choice
    allowed = set(choice.allowed) if choice and choice.allowed else None
    # No allowed_tools in Messages: offering only the allowed ones has the same effect (7.6).
    tools = [
        _tool(tool, names) for tool in request.tools if allowed is None or tool.name in allowed
    ]
    if not tools:
        return _history_tools(messages)
    mode = choice.mode if choice else ToolChoiceMode.AUTO
    if thinking and mode in (ToolChoiceMode.REQUIRED, ToolChoiceMode.TOOL):
        log.warning(
            "tool_choice %s downgraded to auto: Messages forbids forcing tools while thinking", mode
        )
        mode = ToolChoiceMode.AUTO
    wire: dict[str, Any] = {"type": _TOOL_CHOICE[mode]}
    if mode is ToolChoiceMode.TOOL and choice and choice.name:
        wire["name"] = names.outbound(choice.name)
    if request.parallel_tool_calls is False and mode is not ToolChoiceMode.NONE:
        wire["disable_parallel_tool_use"] = True
    if choice is None and len(wire) == 1:
        return {"tools": tools}
    return {"tools": tools, "tool_choice": wire}


def _tool(tool: Tool, names: ToolNames) -> dict[str, Any]:
    wire: dict[str, Any] = {"name": names.outbound(tool.name)}
    if tool.description:
        wire["description"] = tool.description
    wire["input_schema"] = _object_schema(tool.parameters)
    if tool.strict:
        wire["strict"] = True
    return wire


def _object_schema(schema: dict[str, Any] | None) -> dict[str, Any]:
    """input_schema must be an object schema (4.4; CPA NormalizeClaudeToolInputSchema)."""
    schema = dict(schema or {})
    schema.setdefault("type", "object")
    if schema["type"] == "object":
        schema.setdefault("properties", {})
    return schema


def _history_tools(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Messages rejects tool_use/tool_result blocks in a request that defines no tools:
    declare the tools the history used, and let the model call none of them."""
    used = {
        block["name"]: None
        for message in messages
        for block in message["content"]
        if block["type"] == "tool_use"
    }
    if not used:
        return {}
    tools = [{"name": name, "input_schema": _object_schema(None)} for name in used]
    return {"tools": tools, "tool_choice": {"type": "none"}}


def _output_format(response_format: ResponseFormat | None) -> dict[str, Any]:
    if response_format is None or response_format.kind is FormatKind.TEXT:
        return {}
    schema = response_format.schema if response_format.kind is FormatKind.JSON_SCHEMA else None
    return {"format": {"type": "json_schema", "schema": schema or {"type": "object"}}}
