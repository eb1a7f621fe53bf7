"""A canonical request as the body of a Gemini ``generateContent`` call (PROTOCOLS.md 5.2, 7).

The model goes in the URL, never in the body. What Gemini cannot honour is
rejected with a 400 naming the field (7.16); hints it has no field for
(``user``, ``metadata``, ``parallel_tool_calls``, ``cache_key``) are dropped.
"""

from typing import Any

from app.canonical.names import ToolNames
from app.canonical.request import (
    Effort,
    FormatKind,
    Reasoning,
    Request,
    Tool,
    ToolChoice,
    ToolChoiceMode,
)
from app.core.errors import InvalidRequest
from app.protocols.gemini.encode_contents import encode_contents
from app.protocols.gemini.schema_clean import clean_schema
from app.protocols.gemini.tool_names import upstream_name

# Claude Code's first system block is billing attribution for Anthropic only (7.2).
_ATTRIBUTION = "x-anthropic-billing-header:"
_TEMPERATURE_MAX = 2.0

# PROTOCOLS.md 7.11: Gemini 2.5 thinkingBudget and Gemini 3 thinkingLevel per effort.
_BUDGET = {
    Effort.MINIMAL: 512,
    Effort.LOW: 1024,
    Effort.MEDIUM: 8192,
    Effort.HIGH: 24576,
    Effort.XHIGH: 32768,
    Effort.MAX: 32768,
}
_LEVEL = {
    Effort.MINIMAL: "MINIMAL",
    Effort.LOW: "LOW",
    Effort.MEDIUM: "MEDIUM",
    Effort.HIGH: "HIGH",
    Effort.XHIGH: "HIGH",
    Effort.MAX: "HIGH",
}
# Budget → effort, the reverse ladder of 7.11 (more than the last step is xhigh).
_LADDER = ((512, Effort.MINIMAL), (1024, Effort.LOW), (8192, Effort.MEDIUM), (24576, Effort.HIGH))
# Gemini 2.5 Pro cannot turn thinking off; 128 is its smallest budget.
_PRO_MIN_BUDGET = 128
# Models before 2.5 have no thinking and reject a thinkingConfig.
_NO_THINKING = ("gemini-1", "gemini-2.0")


def encode_request(
    request: Request,
    *,
    model: str,
    names: ToolNames,
    max_output_tokens: int | None = None,
) -> dict[str, Any]:
    if request.n > 1:
        raise InvalidRequest("n > 1 is not supported for this model", param="n")
    body: dict[str, Any] = {"contents": encode_contents(request.messages, names)}
    if not body["contents"]:
        raise InvalidRequest(
            "messages: at least one non-empty message is required", param="messages"
        )
    system = [text for text in request.system if text and not text.startswith(_ATTRIBUTION)]
    if system:
        body["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
    tools = _declarations(request.tools, request.tool_choice, names)
    if tools:
        body["tools"] = [{"functionDeclarations": tools}]
        if request.tool_choice is not None:
            body["toolConfig"] = {"functionCallingConfig": _calling(request.tool_choice, names)}
    generation = _generation(request, model.removeprefix("models/").lower(), max_output_tokens)
    if generation:
        body["generationConfig"] = generation
    return body


def _declarations(
    tools: list[Tool], choice: ToolChoice | None, names: ToolNames
) -> list[dict[str, Any]]:
    # AUTO cannot take allowedFunctionNames (ANY only), so an allowed subset filters the list.
    restricted = choice is not None and choice.mode is ToolChoiceMode.AUTO and choice.allowed
    allowed = set(choice.allowed or []) if choice is not None and restricted else None
    declarations = []
    for tool in tools:
        if allowed is not None and tool.name not in allowed:
            continue
        declaration: dict[str, Any] = {"name": upstream_name(names, tool.name)}
        if tool.description:
            declaration["description"] = tool.description
        if tool.parameters is not None:
            declaration["parametersJsonSchema"] = clean_schema(tool.parameters)
        declarations.append(declaration)
    return declarations


def _calling(choice: ToolChoice, names: ToolNames) -> dict[str, Any]:
    if choice.mode is ToolChoiceMode.NONE:
        return {"mode": "NONE"}
    if choice.mode is ToolChoiceMode.AUTO:
        return {"mode": "AUTO"}
    if choice.mode is ToolChoiceMode.TOOL and choice.name:
        return {"mode": "ANY", "allowedFunctionNames": [upstream_name(names, choice.name)]}
    config: dict[str, Any] = {"mode": "ANY"}
    if choice.allowed:
        config["allowedFunctionNames"] = [upstream_name(names, name) for name in choice.allowed]
    return config


def _generation(request: Request, model: str, limit: int | None) -> dict[str, Any]:
    config: dict[str, Any] = {}
    maximum = request.max_output_tokens
    if maximum is not None:
        config["maxOutputTokens"] = min(maximum, limit) if limit else maximum
    if request.temperature is not None:
        config["temperature"] = min(max(request.temperature, 0.0), _TEMPERATURE_MAX)
    optional = {
        "topP": request.top_p,
        "topK": request.top_k,
        "seed": request.seed,
        "presencePenalty": request.presence_penalty,
        "frequencyPenalty": request.frequency_penalty,
    }
    config |= {key: value for key, value in optional.items() if value is not None}
    if request.stop:
        config["stopSequences"] = request.stop
    output = request.response_format
    if output is not None and output.kind is not FormatKind.TEXT:
        config["responseMimeType"] = "application/json"
        if output.kind is FormatKind.JSON_SCHEMA:
            config["responseJsonSchema"] = output.schema or {"type": "object"}
    if request.reasoning is not None and not model.startswith(_NO_THINKING):
        thinking = _thinking(request.reasoning, model)
        if thinking:
            config["thinkingConfig"] = thinking
    return config


def _thinking(reasoning: Reasoning, model: str) -> dict[str, Any]:
    """``thinkingLevel`` for Gemini 3, ``thinkingBudget`` before; never both (5.2)."""
    config: dict[str, Any] = {}
    if model.startswith("gemini-3"):
        level = _thinking_level(reasoning, model)
        if level is not None:
            config["thinkingLevel"] = level
    else:
        config["thinkingBudget"] = _thinking_budget(reasoning, model)
    if reasoning.summary and _enabled(reasoning) is not False:
        config["includeThoughts"] = True
    return config


def _enabled(reasoning: Reasoning) -> bool | None:
    return False if reasoning.effort is Effort.NONE else reasoning.enabled


def _thinking_budget(reasoning: Reasoning, model: str) -> int:
    enabled = _enabled(reasoning)
    if enabled is False:
        return _PRO_MIN_BUDGET if "-pro" in model else 0
    if enabled is None:
        return -1
    if reasoning.budget_tokens is not None:
        return reasoning.budget_tokens
    return _BUDGET.get(reasoning.effort, -1) if reasoning.effort else -1


def _thinking_level(reasoning: Reasoning, model: str) -> str | None:
    enabled = _enabled(reasoning)
    if enabled is False:
        # Gemini 3 cannot turn thinking off; Pro's lowest level is LOW (7.11).
        return "LOW" if "-pro" in model else "MINIMAL"
    if enabled is None:
        return None
    effort = reasoning.effort
    if effort is None and reasoning.budget_tokens is not None:
        effort = next(
            (step for top, step in _LADDER if reasoning.budget_tokens <= top), Effort.XHIGH
        )
    return _LEVEL.get(effort) if effort else None
