"""A Responses request from a client, in canonical form (PROTOCOLS.md 3.1-3.4, 7.16).

Runs only when the upstream speaks another protocol, so fields that need
OpenAI's server-side state are rejected rather than silently lost.
"""

from typing import Any

from app.canonical.request import (
    Effort,
    FormatKind,
    Reasoning,
    Request,
    ResponseFormat,
)
from app.core.errors import InvalidRequest
from app.protocols.openai_responses.fields import (
    optional_bool,
    optional_dict,
    optional_float,
    optional_int,
    optional_str,
)
from app.protocols.openai_responses.input_items import decode_input
from app.protocols.openai_responses.tools import decode_tool_choice, decode_tools

# Known fields read into the canonical request.
DECODED_FIELDS = frozenset(
    {
        "model",
        "input",
        "instructions",
        "stream",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "max_output_tokens",
        "temperature",
        "top_p",
        "text",  # .format read; .verbosity is a hint with no canonical field: dropped
        "reasoning",
        "user",
        "safety_identifier",
        "metadata",
        "prompt_cache_key",
    }
)

# Known fields that are hints for OpenAI's own service, with nothing to do
# for another provider (PROTOCOLS.md 7.16: drop hints).
DROPPED_FIELDS = frozenset(
    {
        "store",  # server-side persistence; nothing is stored elsewhere either
        "include",  # extra output OpenAI can attach (encrypted reasoning is always carried)
        "truncation",  # OpenAI's context trimming policy
        "service_tier",  # OpenAI's processing tier
        "stream_options",  # only include_obfuscation, an OpenAI stream detail
        "prompt_cache_retention",  # OpenAI cache lifetime
        "prompt_cache_options",  # OpenAI cache breakpoints
        "max_tool_calls",  # caps built-in tool calls, and built-in tools are rejected
        "context_management",  # OpenAI server-side compaction trigger
        "background_options",  # only with background, which is rejected
    }
)

_STATEFUL = "is not supported when the model is served by a non-OpenAI provider"

# Fields whose meaning cannot survive translation: a non-null value is a 400.
REJECTED_FIELDS: dict[str, str] = {
    "previous_response_id": (
        f"previous_response_id {_STATEFUL}; send the full conversation "
        "(Codex does with store=false)."
    ),
    "conversation": f"conversation {_STATEFUL}; send the full conversation in input.",
    "prompt": f"prompt (a stored prompt template) {_STATEFUL}; send instructions and input.",
    "background": f"background {_STATEFUL}.",
    "top_logprobs": f"top_logprobs {_STATEFUL}.",
}

_FORMATS = {kind.value: kind for kind in FormatKind}
_EFFORTS = {effort.value: effort for effort in Effort}


def decode_request(body: dict[str, Any]) -> Request:
    _reject_stateful(body)
    system: list[str] = []
    instructions = optional_str(body.get("instructions"), "instructions")
    if instructions:
        system.append(instructions)
    messages = decode_input(body.get("input"), system)
    return Request(
        model=optional_str(body.get("model"), "model") or "",
        messages=messages,
        system=system,
        tools=decode_tools(body.get("tools")),
        tool_choice=decode_tool_choice(body.get("tool_choice")),
        parallel_tool_calls=optional_bool(body.get("parallel_tool_calls"), "parallel_tool_calls"),
        max_output_tokens=optional_int(body.get("max_output_tokens"), "max_output_tokens"),
        temperature=optional_float(body.get("temperature"), "temperature"),
        top_p=optional_float(body.get("top_p"), "top_p"),
        response_format=_response_format(body.get("text")),
        reasoning=_reasoning(body.get("reasoning")),
        stream=bool(optional_bool(body.get("stream"), "stream")),
        user=optional_str(body.get("safety_identifier"), "safety_identifier")
        or optional_str(body.get("user"), "user"),
        metadata=_metadata(body.get("metadata")),
        cache_key=optional_str(body.get("prompt_cache_key"), "prompt_cache_key"),
    )


def _reject_stateful(body: dict[str, Any]) -> None:
    for field, message in REJECTED_FIELDS.items():
        if body.get(field) not in (None, False, 0):
            raise InvalidRequest(message, param=field)


def _response_format(value: Any) -> ResponseFormat | None:
    text = optional_dict(value, "text") or {}
    form = optional_dict(text.get("format"), "text.format")
    if form is None:
        return None
    kind = _FORMATS.get(str(form.get("type")))
    if kind is None:
        raise InvalidRequest(
            f"Invalid value for 'text.format.type': '{form.get('type')}'.", param="text.format.type"
        )
    if kind is not FormatKind.JSON_SCHEMA:
        return ResponseFormat(kind)
    return ResponseFormat(
        kind,
        name=optional_str(form.get("name"), "text.format.name"),
        schema=optional_dict(form.get("schema"), "text.format.schema"),
        strict=optional_bool(form.get("strict"), "text.format.strict"),
        description=optional_str(form.get("description"), "text.format.description"),
    )


def _reasoning(value: Any) -> Reasoning | None:
    config = optional_dict(value, "reasoning")
    if config is None:
        return None
    raw = optional_str(config.get("effort"), "reasoning.effort")
    effort = _EFFORTS.get(raw) if raw is not None else None
    if raw is not None and effort is None:
        raise InvalidRequest(
            f"Invalid value for 'reasoning.effort': '{raw}'.", param="reasoning.effort"
        )
    # `generate_summary` is the deprecated spelling of `summary` (PROTOCOLS.md 3.1).
    summary = config.get("summary") or config.get("generate_summary")
    return Reasoning(
        enabled=None if effort is None else effort is not Effort.NONE,
        effort=effort,
        summary=summary is not None,
    )


def _metadata(value: Any) -> dict[str, str]:
    metadata = optional_dict(value, "metadata") or {}
    return {str(key): str(item) for key, item in metadata.items()}
