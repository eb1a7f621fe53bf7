"""A Chat Completions request into the canonical ``Request`` (PROTOCOLS.md 2.1-2.3, 7).

Only reached when the client's request goes to an upstream of another
protocol (same-protocol traffic is relayed untouched), so every field is
either carried, dropped as a harmless hint (``DROPPED_FIELDS``), or rejected
because ignoring it would break what the client relies on (``REJECTED_FIELDS``,
PROTOCOLS.md 7.16). Keys in neither list and not read below are dropped for
forward compatibility.
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
from app.protocols.openai_chat.decode_messages import decode_messages
from app.protocols.openai_chat.fields import (
    optional_bool,
    optional_dict,
    optional_float,
    optional_int,
    optional_list,
    optional_str,
    required_dict,
    required_str,
    wrong,
)

# Hints with no canonical meaning: dropping them leaves the reply's shape intact.
DROPPED_FIELDS = frozenset(
    {
        "logit_bias",  # token ids of OpenAI's tokenizer mean nothing elsewhere (7.16)
        "prediction",  # predicted outputs only make OpenAI faster, never change the reply
        "service_tier",  # OpenAI's billing/latency tier
        "store",  # OpenAI-side storage for evals and distillation
        "verbosity",  # a style hint
        "prompt_cache_retention",  # OpenAI cache lifetime
        "prompt_cache_options",  # OpenAI cache breakpoints
    }
)

# Rejected when set to a value asking for output the canonical reply cannot
# hold (each named in the 400): ``n`` > 1 (one choice), ``logprobs`` true /
# ``top_logprobs`` > 0, audio output (``audio``, ``modalities`` with "audio"),
# ``web_search_options`` (a built-in tool), ``moderation`` (OpenAI's own
# moderation: silently dropping a requested block policy would let flagged
# output through). Custom tools and custom tool choices are rejected too.
REJECTED_FIELDS = frozenset(
    {"n", "logprobs", "top_logprobs", "audio", "modalities", "web_search_options", "moderation"}
)

_TOOL_CHOICE_MODES = {
    "auto": ToolChoiceMode.AUTO,
    "none": ToolChoiceMode.NONE,
    "required": ToolChoiceMode.REQUIRED,
}


def decode_request(body: dict[str, Any]) -> Request:
    _reject_unsupported(body)
    system, messages = decode_messages(body.get("messages"))
    stream = bool(optional_bool(body.get("stream"), "stream"))
    options = optional_dict(body.get("stream_options"), "stream_options") or {}
    include_usage = optional_bool(options.get("include_usage"), "stream_options.include_usage")
    return Request(
        model=optional_str(body.get("model"), "model") or "",
        messages=messages,
        system=system,
        tools=_tools(body),
        tool_choice=_tool_choice(body),
        parallel_tool_calls=optional_bool(body.get("parallel_tool_calls"), "parallel_tool_calls"),
        max_output_tokens=_max_tokens(body),
        temperature=optional_float(body.get("temperature"), "temperature"),
        top_p=optional_float(body.get("top_p"), "top_p"),
        stop=_stop(body.get("stop")),
        seed=optional_int(body.get("seed"), "seed"),
        presence_penalty=optional_float(body.get("presence_penalty"), "presence_penalty"),
        frequency_penalty=optional_float(body.get("frequency_penalty"), "frequency_penalty"),
        response_format=_response_format(body.get("response_format")),
        reasoning=_reasoning(body.get("reasoning_effort")),
        stream=stream,
        # stream_options without stream is an error at OpenAI; be lenient (7.16).
        include_usage=stream and bool(include_usage),
        user=_user(body),
        metadata=_metadata(body.get("metadata")),
        cache_key=optional_str(body.get("prompt_cache_key"), "prompt_cache_key"),
    )


def _reject_unsupported(body: dict[str, Any]) -> None:
    n = optional_int(body.get("n"), "n")
    if n is not None and n > 1:
        _reject("n", "Only one choice (n=1) is supported for this model.")
    if optional_bool(body.get("logprobs"), "logprobs"):
        _reject("logprobs", "logprobs are not supported for this model.")
    if optional_int(body.get("top_logprobs"), "top_logprobs"):
        _reject("top_logprobs", "top_logprobs are not supported for this model.")
    if body.get("audio") is not None:
        _reject("audio", "Audio output is not supported for this model.")
    if "audio" in optional_list(body.get("modalities"), "modalities"):
        _reject("modalities", "Audio output is not supported for this model.")
    for field in ("web_search_options", "moderation"):
        if body.get(field) is not None:
            _reject(field, f"'{field}' is not supported for this model.")


def _reject(param: str, message: str) -> None:
    raise InvalidRequest(message, param=param)


def _tools(body: dict[str, Any]) -> list[Tool]:
    tools = []
    for position, item in enumerate(optional_list(body.get("tools"), "tools")):
        param = f"tools[{position}]"
        tool = required_dict(item, param)
        if tool.get("type") != "function":
            raise InvalidRequest(
                f"Tools of type '{tool.get('type')}' are not supported for this model.",
                param=f"{param}.type",
            )
        tools.append(_function(required_dict(tool.get("function"), f"{param}.function"), param))
    for position, item in enumerate(optional_list(body.get("functions"), "functions")):
        param = f"functions[{position}]"
        tools.append(_function(required_dict(item, param), param))
    return tools


def _function(function: dict[str, Any], param: str) -> Tool:
    return Tool(
        name=required_str(function.get("name"), f"{param}.name"),
        description=optional_str(function.get("description"), f"{param}.description"),
        parameters=optional_dict(function.get("parameters"), f"{param}.parameters"),
        strict=optional_bool(function.get("strict"), f"{param}.strict"),
    )


def _tool_choice(body: dict[str, Any]) -> ToolChoice | None:
    if body.get("tool_choice") is not None:
        return _choice(body["tool_choice"], "tool_choice")
    legacy = body.get("function_call")
    if isinstance(legacy, dict):
        return ToolChoice(ToolChoiceMode.TOOL, name=_name(legacy, "function_call"))
    if legacy is not None:
        return _mode(legacy, "function_call")
    return None


def _choice(value: Any, param: str) -> ToolChoice:
    if not isinstance(value, dict):
        return _mode(value, param)
    kind = value.get("type")
    if kind == "function":
        function = required_dict(value.get("function"), f"{param}.function")
        return ToolChoice(ToolChoiceMode.TOOL, name=_name(function, f"{param}.function"))
    if kind == "allowed_tools":
        allowed = required_dict(value.get("allowed_tools"), f"{param}.allowed_tools")
        choice = _mode(allowed.get("mode", "auto"), f"{param}.allowed_tools.mode")
        choice.allowed = _allowed_names(allowed.get("tools"), f"{param}.allowed_tools.tools")
        return choice
    raise InvalidRequest(
        f"tool_choice of type '{kind}' is not supported for this model.", param=f"{param}.type"
    )


def _mode(value: Any, param: str) -> ToolChoice:
    mode = _TOOL_CHOICE_MODES.get(value) if isinstance(value, str) else None
    if mode is None:
        raise InvalidRequest(f"Invalid value for '{param}': {value!r}.", param=param)
    return ToolChoice(mode)


def _allowed_names(value: Any, param: str) -> list[str]:
    names = []
    for position, item in enumerate(optional_list(value, param)):
        tool = required_dict(item, f"{param}[{position}]")
        if tool.get("type") != "function":
            raise InvalidRequest(
                f"Allowed tools of type '{tool.get('type')}' are not supported for this model.",
                param=f"{param}[{position}].type",
            )
        function = required_dict(tool.get("function"), f"{param}[{position}].function")
        names.append(_name(function, f"{param}[{position}].function"))
    return names


def _name(value: dict[str, Any], param: str) -> str:
    return required_str(value.get("name"), f"{param}.name")


def _max_tokens(body: dict[str, Any]) -> int | None:
    current = optional_int(body.get("max_completion_tokens"), "max_completion_tokens")
    return current if current is not None else optional_int(body.get("max_tokens"), "max_tokens")


def _stop(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    return [
        stop
        for position, item in enumerate(optional_list(value, "stop"))
        if (stop := required_str(item, f"stop[{position}]"))
    ]


def _response_format(value: Any) -> ResponseFormat | None:
    fmt = optional_dict(value, "response_format")
    if fmt is None:
        return None
    kind = fmt.get("type")
    if kind == "text":
        return ResponseFormat(FormatKind.TEXT)
    if kind == "json_object":
        return ResponseFormat(FormatKind.JSON_OBJECT)
    if kind != "json_schema":
        raise InvalidRequest(
            f"Invalid value for 'response_format.type': {kind!r}.", param="response_format.type"
        )
    spec = required_dict(fmt.get("json_schema"), "response_format.json_schema")
    return ResponseFormat(
        FormatKind.JSON_SCHEMA,
        name=optional_str(spec.get("name"), "response_format.json_schema.name"),
        schema=optional_dict(spec.get("schema"), "response_format.json_schema.schema"),
        strict=optional_bool(spec.get("strict"), "response_format.json_schema.strict"),
        description=optional_str(
            spec.get("description"), "response_format.json_schema.description"
        ),
    )


def _reasoning(value: Any) -> Reasoning | None:
    effort = optional_str(value, "reasoning_effort")
    if effort is None:
        return None
    if effort not in Effort.__members__.values():
        raise InvalidRequest(
            f"Invalid value for 'reasoning_effort': {effort!r}.", param="reasoning_effort"
        )
    enabled = effort != Effort.NONE
    # Chat clients that read ``reasoning_content`` (Cline, Continue...) show the
    # thinking, so ask other upstreams for its text; plain clients ignore it.
    return Reasoning(enabled=enabled, effort=Effort(effort), summary=enabled)


def _user(body: dict[str, Any]) -> str | None:
    identifier = optional_str(body.get("safety_identifier"), "safety_identifier")
    return identifier or optional_str(body.get("user"), "user")


def _metadata(value: Any) -> dict[str, str]:
    metadata = optional_dict(value, "metadata") or {}
    for key, item in metadata.items():
        if not isinstance(item, str):
            raise wrong(f"metadata.{key}", "a string")
    return metadata
