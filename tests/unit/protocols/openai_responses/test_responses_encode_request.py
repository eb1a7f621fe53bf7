"""Canonical requests into bodies for an OpenAI Responses upstream: the emitter checklist."""

import base64
import json
from typing import Any

import pytest

from app.canonical.content import (
    AudioPart,
    FilePart,
    ImagePart,
    Provider,
    ReasoningPart,
    RefusalPart,
    Signature,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from app.canonical.names import openai_names
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
from app.protocols.openai_responses.decode import decode_request
from app.protocols.openai_responses.encode import encode_request
from app.protocols.openai_responses.request_input import INTERRUPTED
from tests.unit.protocols.openai_responses.responses_cases import request_body

CALL = ToolCallPart("toolu_01", "get_weather", '{"city":"Paris"}')
OPENAI_SIG = Signature(Provider.OPENAI, "gAAAA-enc")


def encode(request: Request, limit: int | None = None) -> dict[str, Any]:
    return encode_request(request, model="gpt-5", names=openai_names(), max_output_tokens=limit)


def user(*parts: Any) -> Message:
    return Message(Role.USER, list(parts))


def assistant(*parts: Any) -> Message:
    return Message(Role.ASSISTANT, list(parts))


def tool(*parts: Any) -> Message:
    return Message(Role.TOOL, list(parts))


def test_minimal_body_is_stateless() -> None:
    body = encode(
        Request("client-model", [user(TextPart("Hi"))], system=["Be terse.", "", "Be kind."])
    )
    assert body == {
        "model": "gpt-5",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}
        ],
        "store": False,
        "instructions": "Be terse.\n\nBe kind.",
    }


def test_mid_conversation_system_becomes_a_developer_message() -> None:
    body = encode(Request("m", [user(TextPart("a")), Message(Role.SYSTEM, [TextPart("be brief")])]))
    assert body["input"][1] == {
        "type": "message",
        "role": "developer",
        "content": [{"type": "input_text", "text": "be brief"}],
    }
    assert "instructions" not in body


def test_user_media_parts() -> None:
    notes = base64.b64encode(b"Meeting at noon.").decode()
    parts = [
        ImagePart(media_type="image/png", data="iVBOR"),
        ImagePart(url="https://example.com/a.jpg", detail="high"),
        FilePart(media_type="application/pdf", data="JVBER", filename="r.pdf"),
        FilePart(media_type="application/pdf", data="JVBER"),
        FilePart(url="https://example.com/a.pdf"),
        FilePart(media_type="text/plain", data=notes, filename="notes.txt"),
        AudioPart("UklGRg==", "wav"),
        TextPart(""),
    ]
    (message,) = encode(Request("m", [user(*parts)]))["input"]
    assert message["content"] == [
        {"type": "input_image", "image_url": "data:image/png;base64,iVBOR", "detail": "auto"},
        {"type": "input_image", "image_url": "https://example.com/a.jpg", "detail": "high"},
        {
            "type": "input_file",
            "filename": "r.pdf",
            "file_data": "data:application/pdf;base64,JVBER",
        },
        {
            "type": "input_file",
            "filename": "document.pdf",
            "file_data": "data:application/pdf;base64,JVBER",
        },
        {"type": "input_file", "file_url": "https://example.com/a.pdf"},
        {"type": "input_text", "text": "Meeting at noon."},
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
    ]


def test_provider_file_ids_are_rejected() -> None:
    with pytest.raises(InvalidRequest) as raised:
        encode(Request("m", [user(FilePart(file_id="file-abc"))]))
    assert raised.value.param == "file_id"


def test_empty_messages_are_dropped() -> None:
    body = encode(Request("m", [user(TextPart("")), user(TextPart("hi")), assistant(TextPart(""))]))
    assert [item["role"] for item in body["input"]] == ["user"]


def test_assistant_turn_text_refusal_and_calls_without_ids() -> None:
    messages = [
        user(TextPart("Weather?")),
        assistant(TextPart("Let me check."), RefusalPart("not that"), CALL, TextPart("")),
        tool(ToolResultPart("toolu_01", [TextPart("18C")])),
    ]
    items = encode(Request("m", messages))["input"]
    assert items[1:] == [
        {
            "type": "message",
            "role": "assistant",
            "content": [
                {"type": "output_text", "text": "Let me check.", "annotations": []},
                {"type": "refusal", "refusal": "not that"},
            ],
        },
        {
            "type": "function_call",
            "call_id": "toolu_01",
            "name": "get_weather",
            "arguments": '{"city":"Paris"}',
        },
        {"type": "function_call_output", "call_id": "toolu_01", "output": "18C"},
    ]
    assert all("id" not in item for item in items)


def test_text_after_a_call_is_a_new_assistant_message() -> None:
    items = encode(
        Request("m", [assistant(CALL, TextPart("done")), tool(ToolResultPart("toolu_01"))])
    )["input"]
    assert [item["type"] for item in items] == ["function_call", "message", "function_call_output"]


def test_tool_results_error_flag_images_and_joined_text() -> None:
    calls = [ToolCallPart(f"c{i}", "f") for i in range(3)]
    image = ImagePart(media_type="image/png", data="iVBOR")
    results = [
        ToolResultPart("c0", [TextPart("line 1"), TextPart("line 2")]),
        ToolResultPart("c1", [TextPart("boom")], is_error=True),
        ToolResultPart("c2", [TextPart("see"), image], is_error=True),
    ]
    items = encode(Request("m", [assistant(*calls), tool(*results)]))["input"]
    assert [item.get("output") for item in items[3:]] == [
        "line 1\nline 2",
        "Error: boom",
        [
            {"type": "input_text", "text": "Error:"},
            {"type": "input_text", "text": "see"},
            {"type": "input_image", "image_url": "data:image/png;base64,iVBOR", "detail": "auto"},
        ],
    ]


def test_orphans_and_duplicates() -> None:
    messages = [
        tool(ToolResultPart("ghost", [TextPart("no call")])),
        assistant(CALL, ToolCallPart("toolu_02", "f")),
        user(TextPart("never mind")),
        tool(ToolResultPart("toolu_01", [TextPart("first")])),
        tool(ToolResultPart("toolu_01", [TextPart("retry")])),
    ]
    items = encode(Request("m", messages))["input"]
    assert [(item["type"], item.get("call_id"), item.get("output")) for item in items] == [
        ("function_call", "toolu_01", None),
        ("function_call", "toolu_02", None),
        # The unanswered call gets an output right after its turn (E16).
        ("function_call_output", "toolu_02", INTERRUPTED),
        ("message", None, None),
        # Only the last result for a call is kept (E47); the orphan result is dropped.
        ("function_call_output", "toolu_01", "retry"),
    ]


def test_only_openai_reasoning_is_replayed_before_its_item() -> None:
    messages = [
        user(TextPart("q")),
        assistant(
            ReasoningPart("thinking", OPENAI_SIG),
            CALL,
            ReasoningPart("claude thought", Signature(Provider.ANTHROPIC, "sig")),
            ReasoningPart("", Signature(Provider.GEMINI, "gsig")),
            ToolCallPart("call_2", "f", "{}", signature=Signature(Provider.GEMINI, "gsig")),
            ReasoningPart(redacted="opaque"),
            ReasoningPart("unsigned"),
            TextPart("answer"),
            ReasoningPart("", Signature(Provider.OPENAI, "trailing")),
        ),
        tool(ToolResultPart("toolu_01"), ToolResultPart("call_2")),
    ]
    body = encode(Request("m", messages))
    assert [item["type"] for item in body["input"]] == [
        "message",
        "reasoning",
        "function_call",
        "function_call",
        "message",
        "function_call_output",
        "function_call_output",
    ]
    assert body["input"][1] == {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "thinking"}],
        "encrypted_content": "gAAAA-enc",
    }
    assert body["include"] == ["reasoning.encrypted_content"]


def test_empty_openai_reasoning_keeps_a_required_empty_summary() -> None:
    body = encode(Request("m", [assistant(ReasoningPart("", OPENAI_SIG), TextPart("x"))]))
    assert body["input"][0] == {
        "type": "reasoning",
        "summary": [],
        "encrypted_content": "gAAAA-enc",
    }


def test_tool_names_are_shortened_and_tools_are_flat_with_strict_explicit() -> None:
    names = openai_names()
    long = "mcp__server__" + "very_long_tool_name_" * 4
    strict_schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "required": ["a"],
        "additionalProperties": False,
    }
    request = Request(
        "m",
        [assistant(ToolCallPart("c1", long)), tool(ToolResultPart("c1"))],
        tools=[
            Tool(long, "Reads", {"type": "object", "properties": {}}),
            Tool("exact", None, strict_schema, strict=True),
            Tool("loose", None, {"type": "object", "properties": {"a": {}}}, strict=True),
            Tool("bare"),
        ],
        tool_choice=ToolChoice(ToolChoiceMode.TOOL, long),
    )
    body = encode_request(request, model="gpt-5", names=names)
    short = names.outbound(long)
    assert len(short) <= 64 and names.inbound(short) == long
    assert body["tools"] == [
        {
            "type": "function",
            "name": short,
            "description": "Reads",
            "parameters": {"type": "object", "properties": {}},
            "strict": False,
        },
        {"type": "function", "name": "exact", "parameters": strict_schema, "strict": True},
        # Asked for strict, but the schema is outside the strict subset (E34).
        {
            "type": "function",
            "name": "loose",
            "parameters": {"type": "object", "properties": {"a": {}}},
            "strict": False,
        },
        {
            "type": "function",
            "name": "bare",
            "parameters": {"type": "object", "properties": {}},
            "strict": False,
        },
    ]
    assert body["tool_choice"] == {"type": "function", "name": short}
    assert body["input"][0]["name"] == short


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (ToolChoice(ToolChoiceMode.AUTO), "auto"),
        (ToolChoice(ToolChoiceMode.NONE), "none"),
        (ToolChoice(ToolChoiceMode.REQUIRED), "required"),
        (
            ToolChoice(ToolChoiceMode.REQUIRED, allowed=["a", "b"]),
            {
                "type": "allowed_tools",
                "mode": "required",
                "tools": [{"type": "function", "name": "a"}, {"type": "function", "name": "b"}],
            },
        ),
    ],
)
def test_tool_choice_forms(choice: ToolChoice, expected: Any) -> None:
    body = encode(
        Request("m", tools=[Tool("a"), Tool("b")], tool_choice=choice, parallel_tool_calls=False)
    )
    assert body["tool_choice"] == expected
    assert body["parallel_tool_calls"] is False


@pytest.mark.parametrize(
    ("requested", "limit", "sent"),
    [
        (None, 8192, None),
        (1000, 8192, 1000),
        (50000, 8192, 8192),
        (1, None, 16),
        (4000, None, 4000),
    ],
)
def test_max_output_tokens_clamped_to_the_model_and_openai_minimum(
    requested: int | None, limit: int | None, sent: int | None
) -> None:
    body = encode(Request("m", max_output_tokens=requested), limit)
    assert body.get("max_output_tokens") == sent


@pytest.mark.parametrize(
    ("reasoning", "expected"),
    [
        (Reasoning(effort=Effort.HIGH, summary=True), {"effort": "high", "summary": "auto"}),
        (Reasoning(budget_tokens=1024), {"effort": "low"}),
        (Reasoning(budget_tokens=512), {"effort": "minimal"}),
        (Reasoning(budget_tokens=8000), {"effort": "medium"}),
        (Reasoning(budget_tokens=20000), {"effort": "high"}),
        (Reasoning(budget_tokens=64000), {"effort": "xhigh"}),
        (Reasoning(enabled=None, summary=True), {"summary": "auto"}),
        (Reasoning(enabled=False, summary=True), {"effort": "none"}),
        (Reasoning(budget_tokens=0), {"effort": "none"}),
    ],
)
def test_reasoning_effort_and_summary(reasoning: Reasoning, expected: dict[str, Any]) -> None:
    body = encode(Request("m", reasoning=reasoning, temperature=0.5, top_p=0.9))
    assert body["reasoning"] == expected
    thinking = expected.get("effort") != "none"
    assert ("include" in body) is thinking
    # Reasoning models reject sampling parameters while they reason.
    assert ("temperature" in body, "top_p" in body) == (not thinking, not thinking)


def test_sampling_kept_without_reasoning_and_hints_dropped() -> None:
    request = Request(
        "m",
        temperature=0.2,
        top_p=0.5,
        top_k=40,
        stop=["END"],
        seed=7,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        user="u1",
        metadata={"k": "v"},
        cache_key="thread-1",
        stream=True,
    )
    body = encode(request)
    assert body == {
        "model": "gpt-5",
        "input": [],
        "store": False,
        "stream": True,
        "temperature": 0.2,
        "top_p": 0.5,
        "user": "u1",
        "metadata": {"k": "v"},
        "prompt_cache_key": "thread-1",
    }


def test_n_above_one_is_rejected() -> None:
    with pytest.raises(InvalidRequest) as raised:
        encode(Request("m", n=2))
    assert raised.value.param == "n"


def test_response_formats() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    json_schema = ResponseFormat(
        FormatKind.JSON_SCHEMA, name="out", schema=schema, strict=True, description="d"
    )
    assert encode(Request("m", response_format=json_schema))["text"] == {
        "format": {
            "type": "json_schema",
            "name": "out",
            "schema": schema,
            "description": "d",
            "strict": False,
        }
    }
    assert encode(Request("m", response_format=ResponseFormat(FormatKind.JSON_OBJECT)))["text"] == {
        "format": {"type": "json_object"}
    }
    unnamed = encode(Request("m", response_format=ResponseFormat(FormatKind.JSON_SCHEMA)))
    assert unnamed["text"]["format"] == {
        "type": "json_schema",
        "name": "response",
        "schema": {"type": "object"},
    }


def test_codex_request_round_trips_through_the_canonical_form() -> None:
    body = request_body("codex")
    encoded = encode(decode_request(body))
    assert (
        encoded["instructions"]
        == body["instructions"] + "\n\n" + body["input"][0]["content"][0]["text"]
    )
    assert [item["type"] for item in encoded["input"]] == [
        "message",
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
        "function_call",
        "function_call_output",
        "message",
    ]
    patch_call = encoded["input"][5]
    assert patch_call["name"] == "apply_patch"
    assert json.loads(patch_call["arguments"]) == {"input": body["input"][6]["input"]}
    assert encoded["tools"][1]["parameters"]["required"] == ["input"]
    assert encoded["reasoning"] == {"effort": "medium", "summary": "auto"}
    assert encoded["include"] == ["reasoning.encrypted_content"]
    assert encoded["prompt_cache_key"] == body["prompt_cache_key"]
