"""Chat client requests into the canonical form: each fixture field by field; the rejections."""

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
from app.protocols.openai_chat.decode import DROPPED_FIELDS, REJECTED_FIELDS, decode_request
from tests.unit.protocols.openai_chat.chat_cases import REQUESTS, request_body

PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg"
    "=="
)
PDF = "JVBERi0xLjQKJeLjz9MKMSAwIG9iaiA8PD4+IGVuZG9iagp0cmFpbGVyIDw8Pj4KJSVFT0YK"


def body(*messages: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "model": "m",
        "messages": list(messages) or [{"role": "user", "content": "hi"}],
        **fields,
    }


def test_every_request_fixture_decodes() -> None:
    assert len(REQUESTS) >= 9
    for case in REQUESTS:
        assert decode_request(request_body(case)).messages, case


def test_text_system_leading_system_and_developer_become_system_later_ones_stay() -> None:
    request = decode_request(request_body("text_system"))
    assert request.model == "gpt-4.1"
    assert request.system == [
        "You are a terse assistant.",
        "Answer in English.",
        "Never use emoji.",
    ]
    assert request.messages == [
        Message(Role.USER, [TextPart("Say hello.")]),
        Message(Role.ASSISTANT, [TextPart("Hello.")]),
        Message(Role.SYSTEM, [TextPart("The user is now in a hurry.")]),
        Message(Role.USER, [TextPart("Again, shorter.")]),
    ]
    assert request.stream is False
    assert request.include_usage is False
    assert request.tools == []
    assert request.tool_choice is None


def test_tool_calls_parallel_calls_results_and_tool_config() -> None:
    request = decode_request(request_body("tool_calls"))
    assert request.messages[1] == Message(
        Role.ASSISTANT,
        [
            ToolCallPart("call_1", "get_weather", '{"city":"Paris"}'),
            ToolCallPart("call_2", "get_weather", '{"city":"Rome"}'),
        ],
    )
    # Two consecutive tool messages: one TOOL message, results in order, names resolved.
    assert request.messages[2] == Message(
        Role.TOOL,
        [
            ToolResultPart("call_1", [TextPart("18C sunny")], name="get_weather"),
            ToolResultPart("call_2", [TextPart("24C"), TextPart("clear")], name="get_weather"),
        ],
    )
    assert request.messages[3] == Message(
        Role.ASSISTANT, [TextPart("Paris: 18C sunny. Rome: 24C clear.")]
    )
    assert request.messages[4] == Message(Role.USER, [TextPart("And Oslo?")])
    assert request.tools == [
        Tool(
            "get_weather",
            "Current weather",
            {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
                "additionalProperties": False,
            },
            strict=True,
        ),
        Tool("get_time"),
    ]
    assert request.tool_choice == ToolChoice(ToolChoiceMode.TOOL, name="get_weather")
    assert request.parallel_tool_calls is False
    assert request.stream is True
    assert request.include_usage is True


def test_images_data_url_and_https_url() -> None:
    request = decode_request(request_body("images"))
    assert request.messages == [
        Message(
            Role.USER,
            [
                TextPart("Compare these two images."),
                ImagePart(media_type="image/png", data=PNG),
                ImagePart(url="https://example.com/cat.jpg", detail="high"),
            ],
        )
    ]
    assert request.max_output_tokens == 300  # from the legacy max_tokens


def test_document_file_data_file_id_and_audio() -> None:
    (message,) = decode_request(request_body("document")).messages
    assert message.parts == [
        FilePart(media_type="application/pdf", data=PDF, filename="spec.pdf"),
        FilePart(file_id="file-abc123"),
        AudioPart(data="UklGRiQAAABXQVZFZm10IA==", format="wav"),
        TextPart("Summarize the document and the recording."),
    ]


def test_reasoning_history_and_signature_carried_in_the_call_id() -> None:
    request = decode_request(request_body("reasoning"))
    signature = Signature(Provider.GEMINI, "c2lnLWdlbWluaQ==")
    assert request.messages[1] == Message(
        Role.ASSISTANT,
        [
            ReasoningPart(text="The user wants a product; the calculator is safer."),
            TextPart("Let me compute that."),
            ToolCallPart("call_9f2", "calculator", '{"expression":"17*23"}', signature),
        ],
    )
    assert request.messages[2] == Message(
        Role.TOOL, [ToolResultPart("call_9f2", [TextPart("391")], name="calculator")]
    )
    assert request.reasoning == Reasoning(enabled=True, effort=Effort.HIGH, summary=True)
    assert request.max_output_tokens == 4096


def test_structured_output() -> None:
    request = decode_request(request_body("structured_output"))
    assert request.response_format == ResponseFormat(
        FormatKind.JSON_SCHEMA,
        name="person",
        schema={
            "type": "object",
            "properties": {"name": {"type": "string"}, "born": {"type": "integer"}},
            "required": ["name", "born"],
            "additionalProperties": False,
        },
        strict=True,
        description="A person and their birth year",
    )


def test_sampling_limits_identity_and_dropped_hints() -> None:
    request = decode_request(request_body("sampling"))
    assert request.temperature == 0.7
    assert request.top_p == 0.9
    assert request.max_output_tokens == 200  # max_completion_tokens wins over max_tokens
    assert request.stop == ["\n\n", "END"]
    assert request.n == 1
    assert request.seed == 42
    assert request.presence_penalty == 0.5
    assert request.frequency_penalty == -0.25
    assert request.user == "user-7f3a"  # safety_identifier over the deprecated user
    assert request.metadata == {"team": "poetry", "run": "17"}
    assert request.cache_key == "haiku-session-1"
    # stream_options without stream: lenient, and no usage chunk to ask for.
    assert request.stream is False
    assert request.include_usage is False


def test_legacy_functions_and_function_call() -> None:
    request = decode_request(request_body("legacy_functions"))
    assert request.tools == [
        Tool(
            "get_time",
            "Local time",
            {"type": "object", "properties": {"zone": {"type": "string"}}},
        )
    ]
    assert request.tool_choice == ToolChoice(ToolChoiceMode.TOOL, name="get_time")
    assert request.stop == ["STOP"]
    call = request.messages[1].parts[0]
    assert isinstance(call, ToolCallPart)
    assert call == ToolCallPart(call.id, "get_time", '{"zone":"Asia/Tokyo"}')
    assert request.messages[2] == Message(
        Role.TOOL, [ToolResultPart(call.id, [TextPart("09:30")], name="get_time")]
    )
    # Ids derive from the position, so the same history gives the same prompt.
    assert decode_request(request_body("legacy_functions")).messages == request.messages


def test_allowed_tools_refusal_history_json_mode_and_no_reasoning() -> None:
    request = decode_request(request_body("allowed_tools"))
    assert request.tool_choice == ToolChoice(ToolChoiceMode.REQUIRED, allowed=["search", "fetch"])
    assert [tool.name for tool in request.tools] == ["search", "fetch", "delete_all"]
    assert request.messages[1] == Message(
        Role.ASSISTANT,
        [TextPart("Searching is not possible."), RefusalPart("I can't help with that.")],
    )
    assert request.response_format == ResponseFormat(FormatKind.JSON_OBJECT)
    assert request.reasoning == Reasoning(enabled=False, effort=Effort.NONE, summary=False)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", ToolChoice(ToolChoiceMode.AUTO)),
        ("none", ToolChoice(ToolChoiceMode.NONE)),
        ("required", ToolChoice(ToolChoiceMode.REQUIRED)),
        (
            {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}},
            ToolChoice(ToolChoiceMode.AUTO, allowed=[]),
        ),
    ],
)
def test_tool_choice_forms(choice: Any, expected: ToolChoice) -> None:
    assert decode_request(body(tool_choice=choice)).tool_choice == expected


def test_legacy_function_call_modes() -> None:
    assert decode_request(body(function_call="none")).tool_choice == ToolChoice(ToolChoiceMode.NONE)


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"audio": {"voice": "alloy", "format": "wav"}}, "audio"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"web_search_options": {}}, "web_search_options"),
        ({"moderation": {"model": "omni-moderation-latest"}}, "moderation"),
        ({"tools": [{"type": "custom", "custom": {"name": "grammar"}}]}, "tools[0].type"),
        ({"tool_choice": {"type": "custom", "custom": {"name": "g"}}}, "tool_choice.type"),
        ({"tool_choice": "sometimes"}, "tool_choice"),
        ({"reasoning_effort": "extreme"}, "reasoning_effort"),
        ({"response_format": {"type": "xml"}}, "response_format.type"),
        ({"temperature": "hot"}, "temperature"),
        ({"metadata": {"run": 17}}, "metadata.run"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        (
            {"messages": [{"role": "user", "content": [{"type": "video"}]}]},
            "messages[0].content[0].type",
        ),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
        (
            {"messages": [{"role": "assistant", "content": None, "audio": {"id": "audio_1"}}]},
            "messages[0].audio",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "file", "file": {}}]}]},
            "messages[0].content[0].file",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image_url", "image_url": {"url": "data:image/png;base64,%%%"}}
                        ],
                    }
                ]
            },
            "messages[0].content[0].image_url.url",
        ),
    ],
)
def test_untranslatable_fields_are_rejected_naming_the_field(
    fields: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        decode_request(body(**fields))
    assert caught.value.param == param


def test_dropped_and_harmless_fields_pass() -> None:
    hints = {field: {"x": 1} for field in DROPPED_FIELDS} | {
        "n": 1,
        "logprobs": False,
        "top_logprobs": 0,
        "modalities": ["text"],
        "some_future_field": True,
    }
    request = decode_request(body(**hints))
    assert request.messages == [Message(Role.USER, [TextPart("hi")])]
    assert DROPPED_FIELDS.isdisjoint(REJECTED_FIELDS)


def test_repeated_tool_result_keeps_the_last_in_place() -> None:
    request = decode_request(
        body(
            {"role": "assistant", "tool_calls": [_call("a"), _call("b")]},
            {"role": "tool", "tool_call_id": "a", "content": "first try"},
            {"role": "tool", "tool_call_id": "b", "content": "b result"},
            {"role": "tool", "tool_call_id": "a", "content": "retry"},
        )
    )
    assert request.messages[1].parts == [
        ToolResultPart("a", [TextPart("retry")], name="f"),
        ToolResultPart("b", [TextPart("b result")], name="f"),
    ]


def test_lenient_shapes_clients_send() -> None:
    request = decode_request(
        body(
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": "https://example.com/a.png"},
                    {"type": "image_url", "image_url": {"url": "data:,hello%20world"}},
                    {"type": "file", "file": {"filename": "a.pdf", "file_data": PDF}},
                    {"type": "text", "text": ""},
                ],
            },
            {
                "role": "assistant",
                "reasoning": "vLLM names the field reasoning",
                "tool_calls": [
                    {"id": "c", "function": {"name": "f", "arguments": {"x": 1}}},
                    {"id": "d", "type": "function", "function": {"name": "g"}},
                ],
            },
        )
    )
    assert request.messages[0].parts == [
        ImagePart(url="https://example.com/a.png"),
        ImagePart(media_type="application/octet-stream", data="aGVsbG8gd29ybGQ="),
        FilePart(media_type="application/pdf", data=PDF, filename="a.pdf"),
    ]
    assert request.messages[1].parts == [
        ReasoningPart(text="vLLM names the field reasoning"),
        ToolCallPart("c", "f", '{"x":1}'),
        ToolCallPart("d", "g", "{}"),
    ]


def test_media_in_a_tool_message_is_kept_in_the_result() -> None:
    request = decode_request(
        body(
            {"role": "assistant", "tool_calls": [_call("a")]},
            {
                "role": "tool",
                "tool_call_id": "a",
                "content": [
                    {"type": "text", "text": "see"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/s.png"}},
                ],
            },
        )
    )
    assert request.messages[1].parts == [
        ToolResultPart("a", [TextPart("see"), ImagePart(url="https://example.com/s.png")], name="f")
    ]


def test_an_id_that_merely_contains_a_tilde_is_kept_whole() -> None:
    request = decode_request(
        body(
            {"role": "assistant", "tool_calls": [_call("call~x"), _call("c~swy1.nobody.v")]},
        )
    )
    assert [part.id for part in request.messages[0].parts if isinstance(part, ToolCallPart)] == [
        "call~x",
        "c~swy1.nobody.v",
    ]


def _call(call_id: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": "f", "arguments": "{}"}}
