"""Canonical requests into Gemini bodies: tools, tool choice, generation config, media, rejects."""

from typing import Any

import pytest

from app.canonical.content import AudioPart, FilePart, ImagePart, Part, TextPart
from app.canonical.names import gemini_names
from app.canonical.request import (
    Effort,
    FormatKind,
    Message,
    Reasoning,
    Request,
    ResponseFormat,
    Role,
    Tool,
    ToolChoice,
    ToolChoiceMode,
)
from app.core.errors import InvalidRequest
from app.protocols.gemini.decode import decode_response
from tests.unit.protocols.gemini.gemini_cases import encode_checked as encode
from tests.unit.protocols.gemini.gemini_cases import user_message as user


def msg(role: Role, *parts: Part) -> Message:
    return Message(role, list(parts))


def test_tools_are_cleaned_named_and_restored() -> None:
    names = gemini_names()
    body = encode(
        Request(
            model="m",
            messages=[user("go")],
            tools=[
                Tool(
                    "mcp__github__create issue",
                    "Files an issue.",
                    {
                        "$schema": "https://json-schema.org/draft/2020-12/schema",
                        "type": "object",
                        "properties": {"title": {"type": "string", "minLength": 1}},
                        "additionalProperties": False,
                    },
                    strict=True,
                ),
                Tool("3d_render"),
                Tool("_9lives", parameters={"type": "object", "properties": {}}),
            ],
            tool_choice=ToolChoice(ToolChoiceMode.TOOL, name="3d_render"),
        ),
        names=names,
    )
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "mcp__github__create_issue",
                    "description": "Files an issue.",
                    "parametersJsonSchema": {
                        "type": "object",
                        "properties": {"title": {"type": "string", "minLength": 1}},
                    },
                },
                {"name": "_3d_render"},
                {"name": "__9lives", "parametersJsonSchema": {"type": "object", "properties": {}}},
            ]
        }
    ]
    assert body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["_3d_render"]}
    }
    reply = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"functionCall": {"name": name, "args": {}}}
                        for name in ("_3d_render", "__9lives", "mcp__github__create_issue")
                    ],
                },
                "finishReason": "STOP",
            }
        ],
        "responseId": "r",
    }
    restored = decode_response(reply, names=names)
    assert [c.name for c in restored.tool_calls] == [
        "3d_render",
        "_9lives",
        "mcp__github__create issue",
    ]


@pytest.mark.parametrize(
    ("choice", "config", "declared"),
    [
        (ToolChoice(ToolChoiceMode.AUTO), {"mode": "AUTO"}, ["a", "b"]),
        (ToolChoice(ToolChoiceMode.NONE), {"mode": "NONE"}, ["a", "b"]),
        (ToolChoice(ToolChoiceMode.REQUIRED), {"mode": "ANY"}, ["a", "b"]),
        (
            ToolChoice(ToolChoiceMode.REQUIRED, allowed=["b"]),
            {"mode": "ANY", "allowedFunctionNames": ["b"]},
            ["a", "b"],
        ),
        # AUTO takes no allowedFunctionNames (ANY only): the list itself is narrowed.
        (ToolChoice(ToolChoiceMode.AUTO, allowed=["b"]), {"mode": "AUTO"}, ["b"]),
        (None, None, ["a", "b"]),
    ],
)
def test_tool_choice(
    choice: ToolChoice | None, config: dict[str, Any] | None, declared: list[str]
) -> None:
    body = encode(
        Request(
            model="m",
            messages=[user("go")],
            tools=[Tool("a"), Tool("b")],
            tool_choice=choice,
            parallel_tool_calls=False,  # Gemini has no control for it: dropped
        )
    )
    assert [d["name"] for d in body["tools"][0]["functionDeclarations"]] == declared
    assert body.get("toolConfig") == (None if config is None else {"functionCallingConfig": config})


def test_no_tools_means_no_tool_config() -> None:
    body = encode(Request(model="m", messages=[user("go")], tool_choice=ToolChoice()))
    assert "tools" not in body and "toolConfig" not in body


def test_sampling_and_structured_output() -> None:
    body = encode(
        Request(
            model="m",
            messages=[user("go")],
            max_output_tokens=100_000,
            temperature=2.7,
            top_p=0.5,
            top_k=20,
            stop=["END"],
            seed=3,
            presence_penalty=0.1,
            frequency_penalty=0.2,
            response_format=ResponseFormat(
                FormatKind.JSON_SCHEMA, name="r", schema={"type": "object", "const": 1}
            ),
            user="u-1",
            metadata={"a": "b"},
            cache_key="k",
        ),
        limit=65536,
    )
    assert body["generationConfig"] == {
        "maxOutputTokens": 65536,
        "temperature": 2.0,
        "topP": 0.5,
        "topK": 20,
        "stopSequences": ["END"],
        "seed": 3,
        "presencePenalty": 0.1,
        "frequencyPenalty": 0.2,
        "responseMimeType": "application/json",
        "responseJsonSchema": {"type": "object", "const": 1},
    }
    assert set(body) == {"contents", "generationConfig"}


def test_max_output_tokens_default_and_json_object() -> None:
    body = encode(
        Request(
            model="m",
            messages=[user("go")],
            response_format=ResponseFormat(FormatKind.JSON_OBJECT),
        ),
        limit=8192,
    )
    # Gemini's own default is the model's maximum: nothing to send.
    assert body["generationConfig"] == {"responseMimeType": "application/json"}
    assert "generationConfig" not in encode(
        Request(model="m", messages=[user("go")], response_format=ResponseFormat(FormatKind.TEXT))
    )
    assert encode(Request(model="m", messages=[user("go")], max_output_tokens=50), limit=8192)[
        "generationConfig"
    ] == {"maxOutputTokens": 50}


@pytest.mark.parametrize(
    ("model", "reasoning", "thinking"),
    [
        ("gemini-2.5-flash", Reasoning(enabled=False), {"thinkingBudget": 0}),
        ("gemini-2.5-pro", Reasoning(enabled=False), {"thinkingBudget": 128}),
        ("gemini-2.5-flash", Reasoning(effort=Effort.NONE), {"thinkingBudget": 0}),
        (
            "gemini-2.5-flash",
            Reasoning(enabled=None, summary=True),
            {"thinkingBudget": -1, "includeThoughts": True},
        ),
        ("gemini-2.5-flash", Reasoning(effort=Effort.MINIMAL), {"thinkingBudget": 512}),
        ("gemini-2.5-flash", Reasoning(effort=Effort.MEDIUM), {"thinkingBudget": 8192}),
        ("gemini-2.5-pro", Reasoning(effort=Effort.MAX), {"thinkingBudget": 32768}),
        (
            "gemini-2.5-flash",
            Reasoning(budget_tokens=3000, effort=Effort.LOW),
            {"thinkingBudget": 3000},
        ),
        ("gemini-2.5-flash", Reasoning(), {"thinkingBudget": -1}),
        (
            "gemini-3-pro-preview",
            Reasoning(effort=Effort.XHIGH, summary=True),
            {"thinkingLevel": "HIGH", "includeThoughts": True},
        ),
        ("gemini-3-flash-preview", Reasoning(budget_tokens=1024), {"thinkingLevel": "LOW"}),
        ("gemini-3-flash-preview", Reasoning(budget_tokens=50_000), {"thinkingLevel": "HIGH"}),
        (
            "gemini-3-flash-preview",
            Reasoning(enabled=False, summary=True),
            {"thinkingLevel": "MINIMAL"},
        ),
        ("gemini-3-pro-preview", Reasoning(enabled=False), {"thinkingLevel": "LOW"}),
        ("gemini-3-pro-preview", Reasoning(enabled=None), None),
        ("gemini-2.0-flash", Reasoning(effort=Effort.HIGH), None),
    ],
)
def test_thinking_config(model: str, reasoning: Reasoning, thinking: dict[str, Any] | None) -> None:
    body = encode(Request(model="m", messages=[user("go")], reasoning=reasoning), model=model)
    assert body.get("generationConfig", {}).get("thinkingConfig") == thinking


def test_media_parts() -> None:
    body = encode(
        Request(
            model="m",
            messages=[
                msg(
                    Role.USER,
                    ImagePart(url="data:image/webp;base64,UklGRg=="),
                    FilePart(media_type="application/pdf", data="JVBERi0=", filename="a.pdf"),
                    FilePart(url="https://generativelanguage.googleapis.com/v1beta/files/f1"),
                    FilePart(media_type="application/pdf", url="gs://bucket/doc.pdf"),
                    AudioPart("SUQz", "mp3"),
                    TextPart("What is all this?"),
                )
            ],
        )
    )
    assert body["contents"][0]["parts"] == [
        {"inlineData": {"mimeType": "image/webp", "data": "UklGRg=="}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0="}},
        {"fileData": {"fileUri": "https://generativelanguage.googleapis.com/v1beta/files/f1"}},
        {"fileData": {"fileUri": "gs://bucket/doc.pdf", "mimeType": "application/pdf"}},
        {"inlineData": {"mimeType": "audio/mp3", "data": "SUQz"}},
        {"text": "What is all this?"},
    ]


def test_a_file_id_stored_with_google_goes_back_as_file_data() -> None:
    files_api = "https://generativelanguage.googleapis.com/v1beta/files/f1"
    parts = [FilePart(media_type="image/jpeg", file_id=files_api), FilePart(file_id="gs://b/a.pdf")]
    body = encode(Request(model="m", messages=[msg(Role.USER, *parts)]))
    assert body["contents"][0]["parts"] == [
        {"fileData": {"fileUri": files_api, "mimeType": "image/jpeg"}},
        {"fileData": {"fileUri": "gs://b/a.pdf"}},
    ]


@pytest.mark.parametrize(
    ("request_", "param"),
    [
        (Request(model="m", messages=[user("go")], n=2), "n"),
        (
            Request(model="m", messages=[msg(Role.USER, ImagePart(url="https://x.test/a.png"))]),
            "messages[0].parts[0]",
        ),
        (
            Request(model="m", messages=[user("a"), msg(Role.USER, FilePart(file_id="file-abc"))]),
            "messages[1].parts[0]",
        ),
        (
            Request(model="m", messages=[msg(Role.USER, FilePart(url="https://x.test/a.pdf"))]),
            "messages[0].parts[0]",
        ),
        (Request(model="m", messages=[msg(Role.USER, TextPart(""))]), "messages"),
    ],
)
def test_what_gemini_cannot_honour_is_rejected_naming_the_field(
    request_: Request, param: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        encode(request_)
    assert caught.value.param == param
