"""A Gemini client's ``generateContent`` body as a canonical request (PROTOCOLS.md 5.2-5.4).

The model is in the URL, not the body. What the canonical form cannot carry
is either dropped (``DROPPED_FIELDS``: hints, PROTOCOLS.md 7.16) or rejected
with a 400 naming the field (``REJECTED_FIELDS``: ignoring it would change
the output the client relies on). Keys outside both lists are dropped too,
for forward compatibility.
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
from app.protocols.gemini.decode_contents import decode_contents
from app.protocols.gemini.fields import (
    field,
    has,
    optional_bool,
    optional_dict,
    optional_float,
    optional_int,
    optional_list,
    optional_str,
    required_str,
    unsupported,
    wrong,
)
from app.protocols.gemini.openapi_schema import to_json_schema

DROPPED_FIELDS = frozenset(
    {
        "safetySettings",  # Google's own harm thresholds; no other provider has them
        "labels",  # Vertex billing labels
        "serviceTier",  # a scheduling hint
        "model",  # the URL names the model (countTokens bodies repeat it)
        "generationConfig.candidateCount",  # read: 1 is the default, more is rejected
        "generationConfig.logprobs",  # meaningless without responseLogprobs (rejected)
        "generationConfig.mediaResolution",  # an input-quality hint
        "generationConfig.speechConfig",  # only used with AUDIO output (rejected)
        "generationConfig.imageConfig",  # only used with IMAGE output (rejected)
        "generationConfig.audioTimestamp",  # audio-understanding hint
        "generationConfig.enableAffectiveDialog",  # Live API hint
        "generationConfig.routingConfig",  # Vertex model routing
        "generationConfig.modelSelectionConfig",  # Vertex model routing
        "generationConfig.enableEnhancedCivicAnswers",  # a Google policy hint
        # Whole calls are always sent, which every client accepts (PROTOCOLS.md 5.4).
        "toolConfig.functionCallingConfig.streamFunctionCallArguments",
        "toolConfig.retrievalConfig",  # location for grounding tools (rejected)
        "tools[].functionDeclarations[].response",  # the function's output schema
        "tools[].functionDeclarations[].responseJsonSchema",
        "tools[].functionDeclarations[].behavior",  # Live API scheduling
        "contents[].parts[].videoMetadata",  # clip offsets for a video part
        "contents[].parts[].mediaResolution",
        "contents[].parts[].partMetadata",
    }
)

REJECTED_FIELDS = frozenset(
    {
        "cachedContent",  # a Gemini cache resource no other provider can read
        "generationConfig.candidateCount",  # above 1: the reply has one candidate
        "generationConfig.responseModalities",  # AUDIO or IMAGE output
        "generationConfig.responseLogprobs",  # true: no logprobs come back
        "generationConfig.responseMimeType",  # other than text/plain, application/json
        "generationConfig.thinkingConfig",  # budget and level together (Gemini 400s too)
        # Server tools: googleSearch, googleSearchRetrieval, codeExecution, urlContext,
        # googleMaps, fileSearch, computerUse, retrieval, enterpriseWebSearch, mcpServers...
        "tools[].<built-in tool>",
        "contents[].parts[].executableCode",  # server code execution history
        "contents[].parts[].codeExecutionResult",
        "contents[].parts[].toolCall",
        "contents[].parts[].toolResponse",
    }
)

_LEVELS: dict[str, Effort | None] = {
    "THINKING_LEVEL_UNSPECIFIED": None,
    "MINIMAL": Effort.MINIMAL,
    "LOW": Effort.LOW,
    "MEDIUM": Effort.MEDIUM,
    "HIGH": Effort.HIGH,
    "XHIGH": Effort.XHIGH,
}


def decode_request(body: dict[str, Any], *, model: str, stream: bool = False) -> Request:
    if field(body, "cachedContent") is not None:
        raise unsupported("cachedContent", "a cached content resource")
    contents = optional_list(field(body, "contents"), "contents")
    if not contents:
        raise InvalidRequest("contents: field required", param="contents")
    generation = optional_dict(field(body, "generationConfig"), "generationConfig")
    tools = optional_list(field(body, "tools"), "tools")
    request = Request(
        model=model.removeprefix("models/"),
        messages=decode_contents(contents),
        system=_system(field(body, "systemInstruction")),
        tools=[tool for index, item in enumerate(tools) for tool in _tools(item, index)],
        tool_choice=_tool_choice(optional_dict(field(body, "toolConfig"), "toolConfig")),
        stream=stream,
    )
    _sampling(request, generation)
    request.response_format = _response_format(generation)
    thinking = optional_dict(field(generation, "thinkingConfig"), "generationConfig.thinkingConfig")
    request.reasoning = _reasoning(thinking)
    return request


def _system(instruction: Any) -> list[str]:
    if instruction is None:
        return []
    if isinstance(instruction, str):
        return [instruction] if instruction else []
    if not isinstance(instruction, dict):
        raise wrong("systemInstruction", "a content object")
    texts: list[str] = []
    parts = optional_list(field(instruction, "parts"), "systemInstruction.parts")
    for index, part in enumerate(parts):
        param = f"systemInstruction.parts[{index}]"
        if not isinstance(part, dict) or (part and not has(part, "text")):
            raise unsupported(param, "a non-text system part")
        text = optional_str(field(part, "text"), f"{param}.text")
        if text:
            texts.append(text)
    return texts


def _tools(tool: Any, index: int) -> list[Tool]:
    param = f"tools[{index}]"
    if not isinstance(tool, dict):
        raise wrong(param, "an object")
    declarations: list[Tool] = []
    for key, value in tool.items():
        if key not in ("functionDeclarations", "function_declarations"):
            raise unsupported(f"{param}.{key}", f"the built-in tool '{key}'")
        for at, declaration in enumerate(optional_list(value, f"{param}.{key}")):
            declarations.append(_declaration(declaration, f"{param}.functionDeclarations[{at}]"))
    return declarations


def _declaration(declaration: Any, param: str) -> Tool:
    if not isinstance(declaration, dict):
        raise wrong(param, "an object")
    name = required_str(field(declaration, "name"), f"{param}.name")
    description = optional_str(field(declaration, "description"), f"{param}.description")
    schema = field(declaration, "parametersJsonSchema")
    if schema is None and field(declaration, "parameters") is not None:
        schema = to_json_schema(field(declaration, "parameters"))
    if schema is not None and not isinstance(schema, dict):
        raise wrong(f"{param}.parametersJsonSchema", "an object")
    return Tool(name, description, schema)


def _tool_choice(config: dict[str, Any]) -> ToolChoice | None:
    param = "toolConfig.functionCallingConfig"
    calling = optional_dict(field(config, "functionCallingConfig"), param)
    if not calling:
        return None
    mode = (optional_str(field(calling, "mode"), f"{param}.mode") or "AUTO").upper()
    names = optional_list(field(calling, "allowedFunctionNames"), f"{param}.allowedFunctionNames")
    allowed = [required_str(name, f"{param}.allowedFunctionNames") for name in names] or None
    if mode in ("AUTO", "MODE_UNSPECIFIED", "VALIDATED"):
        return ToolChoice(ToolChoiceMode.AUTO, allowed=allowed)
    if mode == "NONE":
        return ToolChoice(ToolChoiceMode.NONE)
    if mode == "ANY":
        if allowed is not None and len(allowed) == 1:
            return ToolChoice(ToolChoiceMode.TOOL, name=allowed[0])
        return ToolChoice(ToolChoiceMode.REQUIRED, allowed=allowed)
    raise wrong(f"{param}.mode", "AUTO, ANY, NONE or VALIDATED")


def _sampling(request: Request, generation: dict[str, Any]) -> None:
    def param(name: str) -> str:
        return f"generationConfig.{name}"

    request.max_output_tokens = optional_int(
        field(generation, "maxOutputTokens"), param("maxOutputTokens")
    )
    request.temperature = optional_float(field(generation, "temperature"), param("temperature"))
    request.top_p = optional_float(field(generation, "topP"), param("topP"))
    top_k = optional_float(field(generation, "topK"), param("topK"))  # a float in the SDK
    request.top_k = None if top_k is None else int(top_k)
    stops = optional_list(field(generation, "stopSequences"), param("stopSequences"))
    request.stop = [required_str(stop, param("stopSequences")) for stop in stops]
    request.seed = optional_int(field(generation, "seed"), param("seed"))
    request.presence_penalty = optional_float(
        field(generation, "presencePenalty"), param("presencePenalty")
    )
    request.frequency_penalty = optional_float(
        field(generation, "frequencyPenalty"), param("frequencyPenalty")
    )
    count = optional_int(field(generation, "candidateCount"), param("candidateCount"))
    if count is not None and count > 1:
        raise unsupported(param("candidateCount"), "more than one candidate")
    modalities = optional_list(field(generation, "responseModalities"), param("responseModalities"))
    if any(str(modality).upper() != "TEXT" for modality in modalities):
        raise unsupported(param("responseModalities"), "audio or image output")
    if optional_bool(field(generation, "responseLogprobs"), param("responseLogprobs")):
        raise unsupported(param("responseLogprobs"), "logprobs")


def _response_format(generation: dict[str, Any]) -> ResponseFormat | None:
    param = "generationConfig.responseMimeType"
    mime = optional_str(field(generation, "responseMimeType"), param)
    json_schema = field(generation, "responseJsonSchema")
    schema = field(generation, "responseSchema")
    if mime not in (None, "text/plain", "application/json"):
        raise unsupported(param, f"the response type '{mime}'")
    if isinstance(json_schema, dict):
        return ResponseFormat(FormatKind.JSON_SCHEMA, schema=json_schema)
    if isinstance(schema, dict):
        return ResponseFormat(FormatKind.JSON_SCHEMA, schema=to_json_schema(schema))
    return ResponseFormat(FormatKind.JSON_OBJECT) if mime == "application/json" else None


def _reasoning(thinking: dict[str, Any]) -> Reasoning | None:
    param = "generationConfig.thinkingConfig"
    budget = optional_int(field(thinking, "thinkingBudget"), f"{param}.thinkingBudget")
    level = optional_str(field(thinking, "thinkingLevel"), f"{param}.thinkingLevel")
    summary = bool(optional_bool(field(thinking, "includeThoughts"), f"{param}.includeThoughts"))
    if budget is not None and level is not None:
        raise InvalidRequest(
            f"{param}: thinkingBudget and thinkingLevel cannot both be set", param=param
        )
    if level is not None:
        if level.upper() not in _LEVELS:
            raise wrong(f"{param}.thinkingLevel", "MINIMAL, LOW, MEDIUM or HIGH")
        effort = _LEVELS[level.upper()]
        return Reasoning(enabled=None if effort is None else True, effort=effort, summary=summary)
    if budget is None:
        return Reasoning(enabled=None, summary=True) if summary else None
    if budget == 0:
        return Reasoning(enabled=False, summary=summary)
    if budget == -1:
        return Reasoning(enabled=None, summary=summary)
    if budget < 0:
        raise wrong(f"{param}.thinkingBudget", "-1, 0 or a positive number of tokens")
    return Reasoning(enabled=True, budget_tokens=budget, summary=summary)
