"""Gemini client bodies into canonical requests: rejects, drops, pairing and config rules."""

import base64
from typing import Any

import pytest

from app.canonical.content import (
    ImagePart,
    Provider,
    ReasoningPart,
    Signature,
    TextPart,
    ToolResultPart,
)
from app.canonical.request import (
    Effort,
    FormatKind,
    Message,
    Reasoning,
    ResponseFormat,
    Role,
    ToolChoice,
    ToolChoiceMode,
)
from app.core.errors import InvalidRequest
from app.protocols.gemini.decode import DROPPED_FIELDS, REJECTED_FIELDS, decode_request


def decode(body: dict[str, Any], model: str = "gemini-2.5-pro") -> Any:
    return decode_request(body, model=model)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def gemini(value: str) -> Signature:
    return Signature(Provider.GEMINI, value)


def test_dropped_and_rejected_lists_are_documented_and_disjoint_where_it_matters() -> None:
    assert {"safetySettings", "labels", "serviceTier"} <= DROPPED_FIELDS
    assert "cachedContent" in REJECTED_FIELDS
    assert "cachedContent" not in DROPPED_FIELDS


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"cachedContent": "cachedContents/abc"}, "cachedContent"),
        ({"generationConfig": {"candidateCount": 2}}, "generationConfig.candidateCount"),
        (
            {"generationConfig": {"responseModalities": ["TEXT", "AUDIO"]}},
            "generationConfig.responseModalities",
        ),
        ({"generationConfig": {"responseLogprobs": True}}, "generationConfig.responseLogprobs"),
        (
            {"generationConfig": {"responseMimeType": "text/x.enum"}},
            "generationConfig.responseMimeType",
        ),
        (
            {"generationConfig": {"thinkingConfig": {"thinkingBudget": 1, "thinkingLevel": "LOW"}}},
            "generationConfig.thinkingConfig",
        ),
        (
            {"generationConfig": {"thinkingConfig": {"thinkingBudget": -5}}},
            "generationConfig.thinkingConfig.thinkingBudget",
        ),
        ({"tools": [{"googleSearch": {}}]}, "tools[0].googleSearch"),
        (
            {"tools": [{"functionDeclarations": []}, {"codeExecution": {}}]},
            "tools[1].codeExecution",
        ),
        ({"tools": [{"url_context": {}}]}, "tools[0].url_context"),
        ({"toolConfig": {"functionCallingConfig": {"mode": "SOMETIMES"}}}, None),
        ({"generationConfig": {"temperature": "hot"}}, "generationConfig.temperature"),
    ],
)
def test_untranslatable_fields_are_rejected_naming_the_field(
    body: dict[str, Any], param: str | None
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        decode({"contents": [user("hi")], **body})
    assert caught.value.param == (param or "toolConfig.functionCallingConfig.mode")


@pytest.mark.parametrize(
    ("part", "param"),
    [
        ({"executableCode": {"language": "PYTHON", "code": "1"}}, "executableCode"),
        ({"codeExecutionResult": {"outcome": "OUTCOME_OK"}}, "codeExecutionResult"),
        ({"functionCall": {"name": "f"}}, "functionCall"),
        ({"inlineData": {"mimeType": "image/png"}}, "inlineData.data"),
        ("just text", None),
    ],
)
def test_bad_user_parts_are_rejected_naming_the_part(part: Any, param: str | None) -> None:
    with pytest.raises(InvalidRequest) as caught:
        decode({"contents": [{"role": "user", "parts": [{"text": "a"}, part]}]})
    assert caught.value.param == "contents[0].parts[1]" + (f".{param}" if param else "")


def test_missing_contents_and_unknown_roles_are_rejected() -> None:
    with pytest.raises(InvalidRequest) as caught:
        decode({"systemInstruction": {"parts": [{"text": "x"}]}})
    assert caught.value.param == "contents"
    with pytest.raises(InvalidRequest) as caught:
        decode({"contents": [{"role": "system", "parts": [{"text": "x"}]}]})
    assert caught.value.param == "contents[0].role"


def test_unknown_fields_are_dropped_and_the_role_defaults_to_user() -> None:
    request = decode({"contents": [{"parts": [{"text": "hi"}]}], "futureField": {"x": 1}})
    assert request.messages == [Message(Role.USER, [TextPart("hi")])]


def test_stream_flag_and_string_system_instruction() -> None:
    request = decode_request(
        {"contents": [user("hi")], "systemInstruction": "Be brief."}, model="m", stream=True
    )
    assert request.stream is True
    assert request.system == ["Be brief."]


def call(name: str, args: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"functionCall": {"name": name, "args": args or {}, **extra}}


def reply(name: str, response: Any, **extra: Any) -> dict[str, Any]:
    return {"functionResponse": {"name": name, "response": response, **extra}}


def test_responses_pair_by_id_then_by_name_in_order() -> None:
    request = decode(
        {
            "contents": [
                user("go"),
                {"role": "model", "parts": [call("a", id="x1"), call("b"), call("a")]},
                {
                    "role": "function",  # the older spelling of a function-response turn
                    "parts": [
                        reply("a", {"result": 1}),
                        reply("a", {"output": "two"}, id="x1"),
                        reply("b", {"result": None}),
                        reply("zzz", {"result": "orphan"}),
                    ],
                },
            ]
        }
    )
    results = request.messages[2].parts
    assert [(r.call_id, r.content) for r in results] == [
        ("call_1_2", [TextPart("1")]),
        ("x1", [TextPart("two")]),
        ("call_1_1", [TextPart("null")]),
        ("call_2_3", [TextPart("orphan")]),
    ]


@pytest.mark.parametrize(
    ("response", "text", "is_error"),
    [
        ({"result": "ok"}, "ok", False),
        ({"output": {"rows": [1, 2]}}, '{"rows":[1,2]}', False),
        ({"error": {"code": 7}}, '{"code":7}', True),
        ({"result": "ok", "meta": 1}, '{"result":"ok","meta":1}', False),
        ({}, "{}", False),
        ("plain", "plain", False),
    ],
)
def test_function_response_shapes(response: Any, text: str, is_error: bool) -> None:
    request = decode(
        {
            "contents": [
                user("go"),
                {"role": "model", "parts": [call("f")]},
                {"parts": [reply("f", response)]},
            ]
        }
    )
    assert request.messages[2].parts == [
        ToolResultPart("call_1_0", [TextPart(text)], is_error, "f")
    ]


def test_function_response_media_parts_join_the_result() -> None:
    extra = [{"inlineData": {"mimeType": "image/jpeg", "data": "/9j/AA=="}}]
    request = decode(
        {
            "contents": [
                user("look"),
                {"role": "model", "parts": [call("shot")]},
                {"parts": [reply("shot", {"result": "see image"}, parts=extra)]},
            ]
        }
    )
    assert request.messages[2].parts == [
        ToolResultPart(
            "call_1_0",
            [TextPart("see image"), ImagePart(media_type="image/jpeg", data="/9j/AA==")],
            False,
            "shot",
        )
    ]


def test_results_come_before_user_text_whatever_the_order_sent() -> None:
    request = decode(
        {
            "contents": [
                user("go"),
                {"role": "model", "parts": [call("f")]},
                {"parts": [{"text": "also this"}, reply("f", {"result": "r"})]},
            ]
        }
    )
    assert [m.role for m in request.messages] == [Role.USER, Role.ASSISTANT, Role.TOOL, Role.USER]
    assert request.messages[3].parts == [TextPart("also this")]


def test_signature_only_parts_and_empty_texts() -> None:
    request = decode(
        {
            "contents": [
                user("go"),
                {
                    "role": "model",
                    "parts": [
                        {"text": ""},
                        {"text": "", "thought": True},
                        {"thoughtSignature": "c2lnLW9ubHk="},
                        {"text": "done"},
                    ],
                },
            ]
        }
    )
    assert request.messages[1].parts == [
        ReasoningPart(signature=gemini("c2lnLW9ubHk=")),
        TextPart("done"),
    ]


def test_url_safe_carried_signature_is_read_back() -> None:
    carried = base64.urlsafe_b64encode(b"swy1.anthropic.sig+/x").decode().rstrip("=")
    request = decode(
        {
            "contents": [
                user("go"),
                {
                    "role": "model",
                    "parts": [{"text": "t", "thought": True, "thoughtSignature": carried}],
                },
            ]
        }
    )
    assert request.messages[1].parts == [
        ReasoningPart("t", Signature(Provider.ANTHROPIC, "sig+/x"))
    ]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"thinkingBudget": -1}, Reasoning(enabled=None)),
        ({"thinkingBudget": "2048"}, Reasoning(enabled=True, budget_tokens=2048)),
        ({"thinkingLevel": "high"}, Reasoning(enabled=True, effort=Effort.HIGH)),
        ({"thinkingLevel": "THINKING_LEVEL_UNSPECIFIED"}, Reasoning(enabled=None)),
        ({"includeThoughts": True}, Reasoning(enabled=None, summary=True)),
        ({"includeThoughts": False}, None),
        ({}, None),
    ],
)
def test_thinking_config(config: dict[str, Any], expected: Reasoning | None) -> None:
    request = decode({"contents": [user("x")], "generationConfig": {"thinkingConfig": config}})
    assert request.reasoning == expected


@pytest.mark.parametrize(
    ("calling", "expected"),
    [
        ({"mode": "AUTO"}, ToolChoice(ToolChoiceMode.AUTO)),
        ({"mode": "VALIDATED", "allowedFunctionNames": ["a"]}, ToolChoice(allowed=["a"])),
        ({"mode": "ANY"}, ToolChoice(ToolChoiceMode.REQUIRED)),
        (
            {"mode": "ANY", "allowedFunctionNames": ["a", "b"]},
            ToolChoice(ToolChoiceMode.REQUIRED, allowed=["a", "b"]),
        ),
        ({"mode": "NONE"}, ToolChoice(ToolChoiceMode.NONE)),
        ({"streamFunctionCallArguments": True}, ToolChoice(ToolChoiceMode.AUTO)),
    ],
)
def test_function_calling_config(calling: dict[str, Any], expected: ToolChoice) -> None:
    body = {"contents": [user("x")], "toolConfig": {"functionCallingConfig": calling}}
    assert decode(body).tool_choice == expected


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"responseMimeType": "application/json"}, ResponseFormat(FormatKind.JSON_OBJECT)),
        ({"responseMimeType": "text/plain"}, None),
        (
            {"responseMimeType": "application/json", "responseJsonSchema": {"type": "object"}},
            ResponseFormat(FormatKind.JSON_SCHEMA, schema={"type": "object"}),
        ),
    ],
)
def test_response_formats(config: dict[str, Any], expected: ResponseFormat | None) -> None:
    body = {"contents": [user("x")], "generationConfig": config}
    assert decode(body).response_format == expected
