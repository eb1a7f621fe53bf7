"""Client Responses requests into the canonical form: every fixture, field by field; rejections."""

import json
from typing import Any

import pytest

from app.canonical.content import (
    AudioPart,
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
from app.protocols.openai_responses.decode import (
    DECODED_FIELDS,
    DROPPED_FIELDS,
    REJECTED_FIELDS,
    decode_request,
)
from tests.unit.protocols.openai_responses.responses_cases import REQUESTS, request_body

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}


def test_every_request_fixture_is_covered() -> None:
    assert set(REQUESTS) == {
        "codex",
        "images",
        "pdf_document",
        "reasoning",
        "sampling",
        "structured_output",
        "text_system",
        "tool_history",
    }


def test_text_system_leading_system_text_joins_system_and_later_stays_in_place() -> None:
    request = decode_request(request_body("text_system"))
    assert request.model == "gpt-5"
    assert request.system == [
        "You are a concise assistant.",
        "Answer in English.",
        "Never reveal secrets.",
    ]
    assert request.messages == [
        Message(Role.USER, [TextPart("Say hello.")]),
        Message(Role.ASSISTANT, [TextPart("Hello!")]),
        Message(Role.SYSTEM, [TextPart("Now switch to French.")]),
        Message(Role.USER, [TextPart("Again, please.")]),
    ]
    assert request.stream is False
    assert (request.tools, request.tool_choice, request.reasoning) == ([], None, None)


def test_string_input_is_one_user_message() -> None:
    request = decode_request({"model": "m", "input": "Hi"})
    assert request.messages == [Message(Role.USER, [TextPart("Hi")])]
    assert request.system == []


def test_tool_history_groups_turns_and_names_results() -> None:
    request = decode_request(request_body("tool_history"))
    paris = ToolCallPart("call_paris", "get_weather", '{"city":"Paris"}')
    rome = ToolCallPart("call_rome", "get_weather", '{"city":"Rome"}')
    image = ImagePart(media_type="image/png", data="iVBORw0KGgoAAAANSUhEUg==", detail="low")
    assert request.system == ["Use the tools when they help."]
    assert request.messages == [
        Message(Role.USER, [TextPart("Weather in Paris and Rome?")]),
        Message(Role.ASSISTANT, [paris, rome]),
        Message(
            Role.TOOL,
            [
                ToolResultPart("call_paris", [TextPart("18C sunny")], name="get_weather"),
                ToolResultPart("call_rome", [TextPart("22C"), image], name="get_weather"),
            ],
        ),
        Message(Role.ASSISTANT, [TextPart("Paris: 18C. Rome: 22C.")]),
        Message(Role.USER, [TextPart("Thanks. And Oslo?")]),
        Message(
            Role.ASSISTANT,
            [
                TextPart("Checking Oslo."),
                ToolCallPart("call_oslo", "get_weather", '{"city":"Oslo"}'),
            ],
        ),
        Message(
            Role.TOOL,
            [ToolResultPart("call_oslo", [TextPart("-2C snow")], name="get_weather")],
        ),
    ]
    assert request.tools == [
        Tool("get_weather", "Current weather for a city", WEATHER_SCHEMA, strict=True)
    ]
    assert request.tool_choice == ToolChoice(ToolChoiceMode.TOOL, "get_weather")
    assert request.parallel_tool_calls is True
    assert request.stream is True


def test_images_base64_and_urls() -> None:
    (message,) = decode_request(request_body("images")).messages
    assert message == Message(
        Role.USER,
        [
            TextPart("Compare these two pictures."),
            ImagePart(media_type="image/jpeg", data="/9j/4AAQSkZJRgABAQ==", detail="high"),
            ImagePart(url="https://example.com/cat.png", detail="auto"),
            ImagePart(url="https://example.com/dog.webp"),
        ],
    )


def test_documents_data_url_file_url_and_bare_base64() -> None:
    (message,) = decode_request(request_body("pdf_document")).messages
    assert message.parts == [
        TextPart("Summarize the report and the notes."),
        FilePart(media_type="application/pdf", data="JVBERi0xLjcKJcfs", filename="report.pdf"),
        FilePart(url="https://example.com/annex.pdf"),
        # Bare base64: the media type comes from the file name.
        FilePart(media_type="text/plain", data="TWVldGluZyBhdCBub29uLg==", filename="notes.txt"),
    ]


def test_reasoning_items_native_and_carried_signatures() -> None:
    request = decode_request(request_body("reasoning"))
    assert request.reasoning == Reasoning(enabled=True, effort=Effort.HIGH, summary=True)
    assert [m.role for m in request.messages] == [
        Role.USER,
        Role.ASSISTANT,
        Role.TOOL,
        Role.ASSISTANT,
        Role.TOOL,
        Role.ASSISTANT,
    ]
    first = request.messages[1].parts
    assert first == [
        ReasoningPart(
            text="**Planning**\n\nThe user wants a trip plan.\n\nI should check the weather first.",
            signature=Signature(Provider.OPENAI, "gAAAAABoq1-native-openai-blob=="),
            item_id="rs_68b1",
        ),
        ToolCallPart("call_1", "get_weather", '{"city":"Lisbon"}'),
    ]
    assert request.messages[3].parts == [
        ReasoningPart(
            "Lisbon is warm.",
            Signature(Provider.ANTHROPIC, "EqQBCkYIBxgCKkD1signature"),
            item_id="rs_68b2",
        ),
        ReasoningPart(redacted="EmwKAhgBEgy3redacted", item_id="rs_68b3"),
        ReasoningPart("Raw thought.", item_id="rs_68b4"),
        # A Gemini call signature rides on the empty reasoning item right before its call.
        ReasoningPart(
            signature=Signature(Provider.GEMINI, "CiQBjz1rX0geminisig"), item_id="rs_68b5"
        ),
        ToolCallPart("call_2", "book_hotel", "{}"),
    ]
    assert request.messages[4].parts == [
        ToolResultPart("call_2", [TextPart("booked")], name="book_hotel")
    ]


def test_structured_output_flattened_json_schema() -> None:
    request = decode_request(request_body("structured_output"))
    assert request.messages == [
        Message(Role.USER, [TextPart("Extract the city from: I live in Berlin.")])
    ]
    assert request.response_format == ResponseFormat(
        FormatKind.JSON_SCHEMA,
        name="city_answer",
        schema=WEATHER_SCHEMA,
        strict=True,
        description="The city the user names.",
    )


def test_sampling_and_every_hint() -> None:
    request = decode_request(request_body("sampling"))
    assert request.model == "gpt-4.1"
    assert (request.temperature, request.top_p) == (0.3, 0.9)
    assert request.max_output_tokens == 2048
    assert request.parallel_tool_calls is False
    assert request.tools == [
        Tool("lookup", None, {"type": "object", "properties": {"q": {"type": "string"}}}),
        Tool("save", "Save a poem", None, strict=False),
    ]
    assert request.tool_choice == ToolChoice(ToolChoiceMode.REQUIRED, allowed=["lookup"])
    assert request.user == "sid-9f2"  # safety_identifier wins over the deprecated user
    assert request.metadata == {"team": "poetry", "run": "7"}
    assert request.cache_key == "thread-42"
    assert request.stream is True
    assert request.response_format == ResponseFormat(FormatKind.TEXT)
    assert request.reasoning == Reasoning(enabled=False, effort=Effort.NONE, summary=False)


def test_codex_request_custom_tool_and_calls() -> None:
    body = request_body("codex")
    request = decode_request(body)
    assert request.system == [
        "You are Codex, a coding agent.",
        "<permissions instructions>sandbox: workspace-write</permissions instructions>",
    ]
    patch = body["input"][6]["input"]
    assert request.messages == [
        Message(Role.USER, [TextPart("<environment_context>cwd: /repo</environment_context>")]),
        Message(Role.USER, [TextPart("Fix the typo in README.md")]),
        Message(
            Role.ASSISTANT,
            [
                ReasoningPart(
                    "**Locating the typo**", Signature(Provider.OPENAI, "gAAAAABoq2-codex-blob==")
                ),
                ToolCallPart(
                    "call_shell1", "shell", '{"command":["cat","README.md"],"workdir":"/repo"}'
                ),
            ],
        ),
        Message(
            Role.TOOL, [ToolResultPart("call_shell1", [TextPart("Helo world\n")], name="shell")]
        ),
        Message(
            Role.ASSISTANT,
            [
                ToolCallPart(
                    "call_patch1",
                    "apply_patch",
                    json.dumps({"input": patch}, separators=(",", ":")),
                )
            ],
        ),
        Message(
            Role.TOOL,
            [
                ToolResultPart(
                    "call_patch1",
                    [TextPart("Success. Updated the following files:\nM README.md\n")],
                    name="apply_patch",
                )
            ],
        ),
        Message(Role.ASSISTANT, [TextPart("Fixed the typo.")]),
    ]
    shell, apply_patch = request.tools
    assert (shell.name, shell.strict, shell.parameters) == (
        "shell",
        False,
        body["tools"][0]["parameters"],
    )
    assert apply_patch.name == "apply_patch"
    assert apply_patch.parameters == {
        "type": "object",
        "properties": {"input": {"type": "string"}},
        "required": ["input"],
    }
    assert apply_patch.description is not None
    assert apply_patch.description.startswith("Use the `apply_patch` tool to edit files.")
    assert "lark grammar" in apply_patch.description
    assert body["tools"][1]["format"]["definition"] in apply_patch.description
    assert request.tool_choice == ToolChoice(ToolChoiceMode.AUTO)
    assert request.parallel_tool_calls is False
    assert request.reasoning == Reasoning(enabled=True, effort=Effort.MEDIUM, summary=True)
    assert request.cache_key == "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    assert request.response_format is None  # text.verbosity alone is dropped


def test_custom_text_format_tool_description_says_free_form() -> None:
    request = decode_request({"model": "m", "tools": [{"type": "custom", "name": "note"}]})
    assert (
        request.tools[0].description
        == "The `input` argument is the raw tool input, as free-form text."
    )


def test_audio_part_and_output_text_in_user_content() -> None:
    audio = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    request = decode_request({"input": [{"role": "user", "content": [audio]}]})
    assert request.messages[0].parts == [AudioPart("UklGRg==", "wav")]


def test_field_lists_are_disjoint() -> None:
    assert not DROPPED_FIELDS & DECODED_FIELDS
    assert not DROPPED_FIELDS & REJECTED_FIELDS.keys()
    assert not DECODED_FIELDS & REJECTED_FIELDS.keys()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("previous_response_id", "resp_123"),
        ("conversation", "conv_123"),
        ("prompt", {"id": "pmpt_1"}),
        ("background", True),
        ("top_logprobs", 5),
    ],
)
def test_stateful_fields_are_rejected(field: str, value: Any) -> None:
    with pytest.raises(InvalidRequest) as raised:
        decode_request({"model": "m", "input": "hi", field: value})
    assert raised.value.param == field
    assert "non-OpenAI provider" in raised.value.message


def test_previous_response_id_message_tells_the_client_what_to_do() -> None:
    with pytest.raises(
        InvalidRequest, match=r"send the full conversation \(Codex does with store=false\)"
    ):
        decode_request({"input": "hi", "previous_response_id": "resp_1"})


@pytest.mark.parametrize(
    "kind",
    [
        "web_search",
        "file_search",
        "local_shell",
        "computer_use_preview",
        "code_interpreter",
        "image_generation",
        "mcp",
    ],
)
def test_built_in_tools_are_rejected_naming_the_type(kind: str) -> None:
    tools = [{"type": "function", "name": "f"}, {"type": kind}]
    with pytest.raises(InvalidRequest) as raised:
        decode_request({"input": "hi", "tools": tools})
    assert raised.value.param == "tools[1].type"
    assert f"'{kind}'" in raised.value.message


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]"),
        ({"input": [{"type": "web_search_call", "id": "ws_1"}]}, "input[0].type"),
        (
            {
                "input": [
                    {"role": "user", "content": [{"type": "input_image", "file_id": "file-1"}]}
                ]
            },
            "input[0].content[0].file_id",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "file-2"}]}]},
            "input[0].content[0].file_id",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_video"}]}]},
            "input[0].content[0].type",
        ),
        ({"input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
        ({"input": 5}, "input"),
        ({"input": [{"type": "function_call", "name": "f"}]}, "input[0].call_id"),
        ({"input": "hi", "tool_choice": {"type": "web_search_preview"}}, "tool_choice.type"),
        ({"input": "hi", "tool_choice": "sometimes"}, "tool_choice"),
        ({"input": "hi", "reasoning": {"effort": "ultra"}}, "reasoning.effort"),
        ({"input": "hi", "text": {"format": {"type": "yaml"}}}, "text.format.type"),
        ({"input": "hi", "temperature": "hot"}, "temperature"),
        ({"input": "hi", "instructions": ["a"]}, "instructions"),
    ],
)
def test_untranslatable_input_names_the_field(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        decode_request({"model": "m", **body})
    assert raised.value.param == param


def test_allowed_tools_with_a_built_in_is_rejected() -> None:
    choice = {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "file_search"}]}
    with pytest.raises(InvalidRequest) as raised:
        decode_request({"input": "hi", "tool_choice": choice})
    assert raised.value.param == "tool_choice.tools[0].type"


def test_unknown_top_level_fields_are_dropped() -> None:
    request = decode_request(
        {"model": "m", "input": "hi", "brand_new_option": {"x": 1}, "store": True}
    )
    assert request.messages == [Message(Role.USER, [TextPart("hi")])]
