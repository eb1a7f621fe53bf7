"""Responses tools and ``tool_choice``, both ways (PROTOCOLS.md 3.3, 7.5, 7.6).

Function tools are flat (``{"type":"function","name",...}``). Codex's
freeform ``custom`` tools (``apply_patch``) have no equivalent elsewhere, so a
custom tool becomes a function with one string argument ``input``; the
client-side encoder turns calls to it back into ``custom_tool_call`` items.
Built-in tools run on OpenAI's side and cannot be translated: rejected.
"""

import logging
from typing import Any

from app.canonical.names import ToolNames
from app.canonical.request import Tool, ToolChoice, ToolChoiceMode
from app.core.errors import InvalidRequest
from app.protocols.openai_responses.fields import (
    optional_bool,
    optional_dict,
    optional_list,
    optional_str,
    required_dict,
    required_str,
)

log = logging.getLogger("switchyard.translate")

CUSTOM_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"input": {"type": "string"}},
    "required": ["input"],
}
_NO_ARGUMENTS: dict[str, Any] = {"type": "object", "properties": {}}
_MODES = {
    "auto": ToolChoiceMode.AUTO,
    "none": ToolChoiceMode.NONE,
    "required": ToolChoiceMode.REQUIRED,
}
_NAMED = frozenset({"function", "custom"})


def unsupported_tool(kind: str, param: str) -> InvalidRequest:
    return InvalidRequest(
        f"Tool type '{kind}' is not supported when the model is served by a non-OpenAI "
        "provider; only 'function' and 'custom' tools can be translated.",
        param=param,
    )


def decode_tools(value: Any) -> list[Tool]:
    tools = []
    for position, raw in enumerate(optional_list(value, "tools")):
        param = f"tools[{position}]"
        tool = required_dict(raw, param)
        kind = tool.get("type")
        if kind == "function":
            tools.append(_function_tool(tool, param))
        elif kind == "custom":
            tools.append(_custom_tool(tool, param))
        else:
            raise unsupported_tool(str(kind), f"{param}.type")
    return tools


def _function_tool(tool: dict[str, Any], param: str) -> Tool:
    return Tool(
        name=required_str(tool.get("name"), f"{param}.name"),
        description=optional_str(tool.get("description"), f"{param}.description"),
        parameters=optional_dict(tool.get("parameters"), f"{param}.parameters"),
        strict=optional_bool(tool.get("strict"), f"{param}.strict"),
    )


def _custom_tool(tool: dict[str, Any], param: str) -> Tool:
    description = optional_str(tool.get("description"), f"{param}.description")
    form = optional_dict(tool.get("format"), f"{param}.format") or {}
    if form.get("type") == "grammar":
        rule = (
            f"The `input` argument is the raw tool input and must match this "
            f"{form.get('syntax', 'lark')} grammar:\n{form.get('definition', '')}"
        )
    else:
        rule = "The `input` argument is the raw tool input, as free-form text."
    return Tool(
        name=required_str(tool.get("name"), f"{param}.name"),
        description=f"{description}\n\n{rule}" if description else rule,
        parameters=CUSTOM_INPUT_SCHEMA,
        strict=False,
    )


def custom_tool_names(request: dict[str, Any]) -> frozenset[str]:
    """Names of the tools a client declared as ``custom`` in its request."""
    tools = request.get("tools")
    if not isinstance(tools, list):
        return frozenset()
    return frozenset(
        tool["name"]
        for tool in tools
        if isinstance(tool, dict)
        and tool.get("type") == "custom"
        and isinstance(tool.get("name"), str)
    )


def decode_tool_choice(value: Any) -> ToolChoice | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value not in _MODES:
            raise InvalidRequest(
                f"Invalid value for 'tool_choice': '{value}'.", param="tool_choice"
            )
        return ToolChoice(_MODES[value])
    choice = required_dict(value, "tool_choice")
    kind = optional_str(choice.get("type"), "tool_choice.type")
    if kind in _NAMED:
        return ToolChoice(ToolChoiceMode.TOOL, required_str(choice.get("name"), "tool_choice.name"))
    if kind == "allowed_tools":
        return _allowed_tools(choice)
    raise unsupported_tool(str(kind), "tool_choice.type")


def _allowed_tools(choice: dict[str, Any]) -> ToolChoice:
    mode = choice.get("mode", "auto")
    if mode not in ("auto", "required"):
        raise InvalidRequest(
            f"Invalid value for 'tool_choice.mode': '{mode}'.", param="tool_choice.mode"
        )
    names = []
    for position, raw in enumerate(optional_list(choice.get("tools"), "tool_choice.tools")):
        param = f"tool_choice.tools[{position}]"
        tool = required_dict(raw, param)
        if tool.get("type") not in _NAMED:
            raise unsupported_tool(str(tool.get("type")), f"{param}.type")
        names.append(required_str(tool.get("name"), f"{param}.name"))
    return ToolChoice(_MODES[mode], allowed=names)


def encode_tools(tools: list[Tool], names: ToolNames) -> list[dict[str, Any]]:
    return [_encode_tool(tool, names) for tool in tools]


def _encode_tool(tool: Tool, names: ToolNames) -> dict[str, Any]:
    parameters = tool.parameters or _NO_ARGUMENTS
    strict = bool(tool.strict) and strict_compatible(parameters)
    if tool.strict and not strict:
        log.warning("tool %r: schema outside the strict subset, sent with strict=false", tool.name)
    encoded: dict[str, Any] = {"type": "function", "name": names.outbound(tool.name)}
    if tool.description:
        encoded["description"] = tool.description
    # The spec lists strict and parameters as required members (PROTOCOLS.md 3.3, E34).
    return {**encoded, "parameters": parameters, "strict": strict}


def strict_compatible(schema: Any) -> bool:
    """Whether a schema fits OpenAI's strict subset: every object closed and fully required."""
    if isinstance(schema, list):
        return all(strict_compatible(node) for node in schema)
    if not isinstance(schema, dict):
        return True
    if schema.get("type") == "object":
        # Client schemas are untrusted: odd shapes simply are not strict.
        properties = schema.get("properties") or {}
        required = schema.get("required") or []
        if schema.get("additionalProperties") is not False:
            return False
        if not isinstance(properties, dict) or not isinstance(required, list):
            return False
        if {name for name in required if isinstance(name, str)} != set(properties):
            return False
    return all(
        strict_compatible(node)
        for key, node in schema.items()
        if key not in ("enum", "const", "default", "examples")
    )


def encode_tool_choice(choice: ToolChoice, names: ToolNames) -> str | dict[str, Any]:
    if choice.mode is ToolChoiceMode.TOOL and choice.name is not None:
        return {"type": "function", "name": names.outbound(choice.name)}
    mode = "auto" if choice.mode is ToolChoiceMode.TOOL else choice.mode.value
    if choice.allowed is not None and mode != "none":
        tools = [{"type": "function", "name": names.outbound(name)} for name in choice.allowed]
        return {"type": "allowed_tools", "mode": mode, "tools": tools}
    return mode
