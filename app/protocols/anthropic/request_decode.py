"""Client Messages requests into the canonical ``Request`` (PROTOCOLS.md 4.2, 4.4, 7.6-7.16).

Only reached when the upstream speaks another protocol (same-protocol traffic
is relayed untouched), so everything that only Anthropic can honour is either
dropped as a hint or rejected.
"""

from typing import Any

from app.canonical.request import (
    Effort,
    FormatKind,
    Reasoning,
    Request,
    ResponseFormat,
    Tool,
    ToolChoice,
    ToolChoiceMode,
)
from app.core.errors import InvalidRequest
from app.protocols.anthropic.fields import (
    optional_bool,
    optional_dict,
    optional_float,
    optional_int,
    optional_list,
    optional_str,
    required_dict,
    required_str,
    unsupported,
    wrong,
)
from app.protocols.anthropic.messages_decode import decode_messages, decode_system

# Read into the canonical request.
HANDLED_FIELDS = frozenset(
    {
        "model",
        "messages",
        "system",
        "max_tokens",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "output_format",  # the deprecated beta spelling of output_config.format
        "metadata",
    }
)

# Hints with no meaning outside Anthropic's own service (7.16): forwarding them
# elsewhere fails with "Extra inputs are not permitted" (E42), ignoring them
# changes nothing the client relies on.
DROPPED_FIELDS = frozenset(
    {
        "cache_control",  # prompt-cache breakpoints (also dropped on every block and tool)
        "context_management",  # server-side clearing of old tool results / thinking
        "container",  # code-execution container reuse
        "service_tier",  # priority vs standard capacity
        "inference_geo",  # Anthropic region pinning
        "speed",  # Anthropic fast mode
        "diagnostics",  # prompt-cache miss explanations
        "workspace_id",  # Anthropic workspace selection
        "user_profile_id",  # Anthropic usage attribution
    }
)

# Would change what the model can do if silently dropped (7.16): MCP servers
# are tools that Anthropic's servers run on the model's behalf.
REJECTED_FIELDS = frozenset({"mcp_servers"})

# Tool fields that only steer Anthropic's own tool machinery (deferred tool
# search, eager input streaming, examples, programmatic callers, caching).
DROPPED_TOOL_FIELDS = frozenset(
    {"cache_control", "defer_loading", "eager_input_streaming", "input_examples", "allowed_callers"}
)

_TOOL_CHOICE = {
    "auto": ToolChoiceMode.AUTO,
    "any": ToolChoiceMode.REQUIRED,
    "tool": ToolChoiceMode.TOOL,
    "none": ToolChoiceMode.NONE,
}
_EFFORTS = {
    effort.value: effort
    for effort in (Effort.LOW, Effort.MEDIUM, Effort.HIGH, Effort.XHIGH, Effort.MAX)
}


def decode_request(body: dict[str, Any]) -> Request:
    for name in sorted(REJECTED_FIELDS & body.keys()):
        if body[name]:
            raise unsupported(name, f"`{name}`")
    output_config = optional_dict(body.get("output_config"), "output_config")
    choice, parallel = _tool_choice(body.get("tool_choice"))
    return Request(
        model=optional_str(body.get("model"), "model") or "",
        messages=decode_messages(body.get("messages")),
        system=decode_system(body.get("system")),
        tools=_tools(body.get("tools")),
        tool_choice=choice,
        parallel_tool_calls=parallel,
        max_output_tokens=optional_int(body.get("max_tokens"), "max_tokens"),
        temperature=optional_float(body.get("temperature"), "temperature"),
        top_p=optional_float(body.get("top_p"), "top_p"),
        top_k=optional_int(body.get("top_k"), "top_k"),
        stop=_strings(body.get("stop_sequences"), "stop_sequences"),
        response_format=_response_format(body, output_config),
        reasoning=_reasoning(body.get("thinking"), output_config.get("effort")),
        stream=optional_bool(body.get("stream"), "stream") is True,
        user=optional_str(
            optional_dict(body.get("metadata"), "metadata").get("user_id"), "metadata.user_id"
        ),
    )


def _strings(value: Any, param: str) -> list[str]:
    return [
        required_str(item, f"{param}[{i}]") for i, item in enumerate(optional_list(value, param))
    ]


def _tools(value: Any) -> list[Tool]:
    tools = []
    for i, item in enumerate(optional_list(value, "tools")):
        param = f"tools[{i}]"
        tool = required_dict(item, param)
        kind = tool.get("type")
        if kind not in (None, "custom"):
            # web_search_20250305, bash_20250124, text_editor_..., code_execution_...:
            # Anthropic runs or defines these; other upstreams would lose the capability (7.5).
            raise unsupported(f"{param}.type", f"the server tool `{kind}`")
        tools.append(
            Tool(
                name=required_str(tool.get("name"), f"{param}.name"),
                description=optional_str(tool.get("description"), f"{param}.description"),
                parameters=required_dict(tool.get("input_schema"), f"{param}.input_schema"),
                strict=optional_bool(tool.get("strict"), f"{param}.strict"),
            )
        )
    return tools


def _tool_choice(value: Any) -> tuple[ToolChoice | None, bool | None]:
    if value is None:
        return None, None
    choice = required_dict(value, "tool_choice")
    kind = choice.get("type")
    mode = _TOOL_CHOICE.get(kind) if isinstance(kind, str) else None
    if mode is None:
        raise wrong("tool_choice.type", '"auto", "any", "tool" or "none"')
    name = (
        required_str(choice.get("name"), "tool_choice.name")
        if mode is ToolChoiceMode.TOOL
        else None
    )
    disable = optional_bool(
        choice.get("disable_parallel_tool_use"), "tool_choice.disable_parallel_tool_use"
    )
    return ToolChoice(mode, name), (None if disable is None else not disable)


def _reasoning(thinking: Any, effort_value: Any) -> Reasoning | None:
    effort = _effort(effort_value)
    if thinking is None:
        # output_config.effort alone: the model decides whether to think, at that effort.
        return Reasoning(enabled=None, effort=effort, summary=True) if effort else None
    config = required_dict(thinking, "thinking")
    kind = config.get("type")
    # Thinking blocks come back unless display is "omitted" (7.11 "summary wanted").
    summary = config.get("display") != "omitted"
    if kind == "enabled":
        budget = optional_int(config.get("budget_tokens"), "thinking.budget_tokens")
        return Reasoning(enabled=True, effort=effort, budget_tokens=budget, summary=summary)
    if kind in ("adaptive", "between_tools"):
        return Reasoning(enabled=None, effort=effort, summary=summary)
    if kind == "disabled":
        return Reasoning(enabled=False)
    raise wrong("thinking.type", '"enabled", "adaptive" or "disabled"')


def _effort(value: Any) -> Effort | None:
    if value is None:
        return None
    effort = _EFFORTS.get(value) if isinstance(value, str) else None
    if effort is None:
        raise wrong("output_config.effort", '"low", "medium", "high", "xhigh" or "max"')
    return effort


def _response_format(body: dict[str, Any], output_config: dict[str, Any]) -> ResponseFormat | None:
    param = "output_config.format" if output_config.get("format") is not None else "output_format"
    value = output_config.get("format") or body.get("output_format")
    if value is None:
        return None
    form = required_dict(value, param)
    if form.get("type") != "json_schema":
        raise InvalidRequest(f'{param}.type: expected "json_schema"', param=f"{param}.type")
    schema = required_dict(form.get("schema"), f"{param}.schema")
    return ResponseFormat(FormatKind.JSON_SCHEMA, schema=schema)
