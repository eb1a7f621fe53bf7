"""Messages client requests into the canonical form: every fixture, field by field; rejections."""

from typing import Any

import pytest

from app.canonical.content import (
    FilePart,
    ImagePart,
    Provider,
    ReasoningPart,
    Signature,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from app.canonical.request import (
    Effort,
    FormatKind,
    Message,
    Reasoning,
    ResponseFormat,
    Role,
    Tool,
    ToolChoice,
    ToolChoiceMode,
)
from app.core.errors import InvalidRequest
from app.protocols.anthropic.decode import (
    DROPPED_FIELDS,
    HANDLED_FIELDS,
    REJECTED_FIELDS,
    decode_request,
)
from tests.unit.protocols.anthropic.anthropic_cases import REQUESTS, request_body


@pytest.mark.parametrize("case", REQUESTS)
def test_every_fixture_decodes_with_its_model_and_limit(case: str) -> None:
    body = request_body(case)
    request = decode_request(body)
    assert request.model == body["model"]
    assert request.max_output_tokens == body["max_tokens"]
    assert request.messages
    assert all(message.parts for message in request.messages)


def test_field_lists_are_disjoint() -> None:
    assert not HANDLED_FIELDS & DROPPED_FIELDS
    assert not HANDLED_FIELDS & REJECTED_FIELDS
    assert not DROPPED_FIELDS & REJECTED_FIELDS


def test_text_system_drops_the_attribution_block_and_the_hints() -> None:
    request = decode_request(request_body("text_system"))
    assert request.system == [
        "You are Claude Code, Anthropic's official CLI for Claude.",
        "Answer tersely.",
    ]
    assert request.messages == [Message(Role.USER, [TextPart("What is the capital of France?")])]
    assert request.user == "user_5e1f8b2c_account__session_0f3c"
    assert request.stream is True
    assert request.reasoning is None
    assert request.tools == []
    assert request.tool_choice is None
    assert request.metadata == {}


def test_tool_loop_splits_results_before_user_text_and_keeps_order() -> None:
    request = decode_request(request_body("tool_loop"))
    get_weather = "get_weather"
    read_file = "mcp__filesystem__read_text_file"
    assert request.messages == [
        Message(Role.USER, [TextPart("Weather in Paris and Rome? Then read notes.txt.")]),
        Message(
            Role.ASSISTANT,
            [
                TextPart("Checking both cities."),
                ToolCallPart("toolu_01A", get_weather, '{"city":"Paris","unit":"celsius"}'),
                ToolCallPart("toolu_01B", get_weather, '{"city":"Rome"}'),
            ],
        ),
        Message(
            Role.TOOL,
            [
                ToolResultPart("toolu_01A", [TextPart("18C, cloudy")], name=get_weather),
                ToolResultPart(
                    "toolu_01B",
                    [TextPart("upstream timeout"), TextPart("retry later")],
                    is_error=True,
                    name=get_weather,
                ),
            ],
        ),
        Message(Role.USER, [TextPart("Both done.")]),
        # The empty text block before the call is gone.
        Message(Role.ASSISTANT, [ToolCallPart("toolu_01C", read_file, '{"path":"notes.txt"}')]),
        Message(Role.TOOL, [ToolResultPart("toolu_01C", [], name=read_file)]),
        Message(Role.SYSTEM, [TextPart("The user prefers metric units.")]),
        Message(Role.ASSISTANT, [TextPart("Paris is 18C; Rome timed out; notes.txt is empty.")]),
        Message(Role.USER, [TextPart("Thanks!")]),
    ]
    weather_schema = request_body("tool_loop")["tools"][0]["input_schema"]
    assert request.tools[0] == Tool(
        get_weather, "Current weather for a city", weather_schema, strict=True
    )
    assert request.tools[1].name == read_file
    assert request.tools[1].strict is None
    assert request.tool_choice == ToolChoice(ToolChoiceMode.AUTO)
    assert request.parallel_tool_calls is False


def test_media_blocks_become_images_files_and_text() -> None:
    body = request_body("media")
    first = body["messages"][0]["content"]
    request = decode_request(body)
    assert request.messages[0] == Message(
        Role.USER,
        [
            TextPart("What do these show?"),
            ImagePart(media_type="image/png", data=first[1]["source"]["data"]),
            ImagePart(url="https://example.com/chart.jpg"),
            FilePart(
                media_type="application/pdf", data=first[3]["source"]["data"], filename="spec.pdf"
            ),
            TextPart("notes.txt\n\nline one\nline two"),
            FilePart(media_type="application/pdf", url="https://example.com/paper.pdf"),
            TextPart("inline chunk"),
        ],
    )
    assert request.messages[1] == Message(
        Role.ASSISTANT, [ToolCallPart("toolu_01S", "screenshot", "{}")]
    )
    image = ImagePart(media_type="image/jpeg", data="/9j/4AAQSkZJRgABAQ==")
    assert request.messages[2] == Message(
        Role.TOOL,
        [ToolResultPart("toolu_01S", [TextPart("captured"), image], name="screenshot")],
    )
    assert request.messages[3] == Message(
        Role.USER, [TextPart("KB article (https://example.com/kb/1)\nReset with the red button.")]
    )


def test_thinking_history_keeps_signatures_and_unwraps_carried_ones() -> None:
    request = decode_request(request_body("thinking"))
    assert request.reasoning == Reasoning(
        enabled=True, effort=Effort.HIGH, budget_tokens=10000, summary=True
    )
    first_turn = request.messages[1].parts
    assert first_turn[0] == ReasoningPart(
        "I should search to be sure.",
        signature=Signature(Provider.ANTHROPIC, "EqQBCkgIARABGAIiQL8Zp2m0r1Vh"),
    )
    data = "EmwKAhgBEgy3va3pzix/LafPsn4aDFq"
    assert first_turn[1] == ReasoningPart(
        redacted=data, signature=Signature(Provider.ANTHROPIC, data)
    )
    assert first_turn[2:] == [
        TextPart("Let me check."),
        ToolCallPart("toolu_01T", "search", '{"q":"2022 World Cup final"}'),
    ]
    # The Gemini call signature that rode in an empty thinking block comes back as Gemini's.
    call_id = "call_7d0c5e2b9a14f3e8c6b1a2d4"
    assert request.messages[3] == Message(
        Role.ASSISTANT,
        [
            ReasoningPart("", signature=Signature(Provider.GEMINI, "CiQBcsjafQ0lGvxTz")),
            ToolCallPart(call_id, "search", '{"q":"2022 final scorers"}'),
        ],
    )
    assert request.messages[4].parts == [
        ToolResultPart(call_id, [TextPart("Messi 2, Di Maria; Mbappe 3")], name="search")
    ]


def test_adaptive_thinking_with_effort_and_structured_output() -> None:
    body = request_body("adaptive_structured")
    request = decode_request(body)
    assert request.reasoning == Reasoning(enabled=None, effort=Effort.MEDIUM, summary=False)
    assert request.response_format == ResponseFormat(
        FormatKind.JSON_SCHEMA, schema=body["output_config"]["format"]["schema"]
    )


def test_sampling_parameters_and_forced_tool() -> None:
    request = decode_request(request_body("sampling"))
    assert request.temperature == 0.3
    assert request.top_p == 0.9
    assert request.top_k == 40
    assert request.stop == ["###", "END"]
    assert request.max_output_tokens == 300
    assert request.reasoning == Reasoning(enabled=False)
    assert request.tool_choice == ToolChoice(ToolChoiceMode.TOOL, name="extract")
    assert request.parallel_tool_calls is None
    # A final assistant message (prefill) stays last.
    assert request.messages[-1] == Message(Role.ASSISTANT, [TextPart("Here are three fruits:")])


def minimal(**fields: Any) -> dict[str, Any]:
    return {
        "model": "m",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
    } | fields


def test_deprecated_output_format_and_effort_alone() -> None:
    schema = {"type": "object", "properties": {}}
    request = decode_request(
        minimal(
            output_format={"type": "json_schema", "schema": schema}, output_config={"effort": "max"}
        )
    )
    assert request.response_format == ResponseFormat(FormatKind.JSON_SCHEMA, schema=schema)
    assert request.reasoning == Reasoning(enabled=None, effort=Effort.MAX, summary=True)


def test_mid_conversation_system_block_splits_the_turn() -> None:
    content = [
        {"type": "text", "text": "before"},
        {"type": "mid_conv_system", "content": [{"type": "text", "text": "be brief"}]},
        {"type": "text", "text": "after"},
    ]
    request = decode_request(minimal(messages=[{"role": "user", "content": content}]))
    assert request.messages == [
        Message(Role.USER, [TextPart("before")]),
        Message(Role.SYSTEM, [TextPart("be brief")]),
        Message(Role.USER, [TextPart("after")]),
    ]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        (
            {"mcp_servers": [{"type": "url", "url": "https://mcp.example", "name": "x"}]},
            "mcp_servers",
        ),
        ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools[0].type"),
        ({"tools": [{"type": "bash_20250124", "name": "bash"}]}, "tools[0].type"),
        ({"tools": [{"name": "f"}]}, "tools[0].input_schema"),
        ({"tool_choice": {"type": "sometimes"}}, "tool_choice.type"),
        ({"thinking": {"type": "always"}}, "thinking.type"),
        ({"output_config": {"effort": "extreme"}}, "output_config.effort"),
        ({"output_config": {"format": {"type": "regex"}}}, "output_config.format.type"),
        ({"temperature": "hot"}, "temperature"),
        ({"max_tokens": 1.5}, "max_tokens"),
        ({"system": [{"type": "image"}]}, "system[0].type"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
        (
            {
                "messages": [
                    {"role": "assistant", "content": [{"type": "server_tool_use", "id": "s"}]}
                ]
            },
            "messages[0].content[0].type",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image", "source": {"type": "file", "file_id": "f"}}],
                    }
                ]
            },
            "messages[0].content[0].source.type",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "document", "source": {"type": "file", "file_id": "f"}}
                        ],
                    }
                ]
            },
            "messages[0].content[0].source.type",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "tool_result"}]}]},
            "messages[0].content[0].tool_use_id",
        ),
    ],
)
def test_untranslatable_input_is_rejected_naming_the_field(
    fields: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidRequest) as raised:
        decode_request(minimal(**fields))
    assert raised.value.param == param


def test_dropped_and_unknown_fields_leave_no_trace() -> None:
    hints = {name: {"x": 1} for name in DROPPED_FIELDS} | {"brand_new_field": True}
    assert decode_request(minimal(**hints)) == decode_request(minimal())
