"""Canonical requests as Chat bodies for an upstream: the "→ OC" checklist (PROTOCOLS.md 7.3)."""

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
from app.protocols.openai_chat.decode import decode_request
from app.protocols.openai_chat.encode import encode_request
from app.protocols.openai_chat.encode_messages import INTERRUPTED, MEDIA_FOLLOWS
from tests.unit.protocols.openai_chat.chat_cases import request_body

PNG = "iVBORw0KGgo="


def encode(request: Request, **options: Any) -> dict[str, Any]:
    return encode_request(request, model="gpt-up", names=openai_names(), **options)


def user(text: str) -> Message:
    return Message(Role.USER, [TextPart(text)])


def call(call_id: str, name: str = "f", arguments: str = "{}") -> ToolCallPart:
    return ToolCallPart(call_id, name, arguments)


def result(call_id: str, *content: Any, is_error: bool = False) -> ToolResultPart:
    return ToolResultPart(call_id, list(content), is_error=is_error)


def test_system_joined_first_and_mid_conversation_system_in_place() -> None:
    request = Request(
        model="client-model",
        system=["Be brief.", "Be kind."],
        messages=[user("hi"), Message(Role.SYSTEM, [TextPart("Now formal.")]), user("again")],
    )
    body = encode(request)
    assert body["model"] == "gpt-up"
    assert body["messages"] == [
        {"role": "system", "content": "Be brief.\n\nBe kind."},
        {"role": "user", "content": "hi"},
        {"role": "system", "content": "Now formal."},
        {"role": "user", "content": "again"},
    ]


def test_consecutive_assistants_merge_and_reasoning_and_signatures_are_dropped() -> None:
    gemini = Signature(Provider.GEMINI, "sig")
    request = Request(
        model="m",
        messages=[
            user("go"),
            Message(
                Role.ASSISTANT,
                [
                    ReasoningPart("thinking", Signature(Provider.ANTHROPIC, "a")),
                    TextPart("Step one."),
                ],
            ),
            Message(
                Role.ASSISTANT,
                [
                    TextPart("Step two."),
                    RefusalPart(" Not that."),
                    ToolCallPart("c1", "f", '{"a":1}', gemini),
                ],
            ),
            Message(Role.TOOL, [result("c1", TextPart("ok"))]),
        ],
    )
    messages = encode(request)["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": "Step one.\n\nStep two. Not that.",
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}
        ],
    }
    assert "reasoning_content" not in messages[1]
    assert messages[2] == {"role": "tool", "tool_call_id": "c1", "content": "ok"}


def test_only_tool_calls_give_null_content_and_empty_turns_vanish() -> None:
    request = Request(
        model="m",
        messages=[
            Message(Role.USER, [TextPart(""), TextPart("q")]),
            Message(Role.ASSISTANT, [ReasoningPart("only thoughts")]),
            Message(Role.USER, [TextPart("")]),
            Message(Role.ASSISTANT, [TextPart(""), call("c1")]),
            Message(Role.TOOL, [result("c1", TextPart("r"))]),
        ],
    )
    messages = encode(request)["messages"]
    assert messages == [
        {"role": "user", "content": "q"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "r"},
    ]


def test_results_follow_their_calls_in_call_order_before_user_text() -> None:
    request = Request(
        model="m",
        messages=[
            user("both"),
            Message(Role.ASSISTANT, [call("a"), call("b")]),
            user("and also this"),
            Message(Role.TOOL, [result("b", TextPart("B1"))]),
            Message(Role.TOOL, [result("a", TextPart("A")), result("b", TextPart("B2"))]),
        ],
    )
    messages = encode(request)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "tool", "user"]
    assert messages[2] == {"role": "tool", "tool_call_id": "a", "content": "A"}
    assert messages[3] == {"role": "tool", "tool_call_id": "b", "content": "B2"}  # last wins
    assert messages[4] == {"role": "user", "content": "and also this"}


def test_orphan_call_gets_a_synthetic_result_and_orphan_result_becomes_user_text() -> None:
    request = Request(
        model="m",
        messages=[
            Message(Role.TOOL, [result("ghost", TextPart("lost"))]),
            Message(Role.ASSISTANT, [call("a"), call("b")]),
            Message(Role.TOOL, [result("a", TextPart("A")), result("zz", TextPart("stray"))]),
        ],
    )
    messages = encode(request)["messages"]
    assert messages[0] == {
        "role": "user",
        "content": "Result of tool call ghost:\nlost",
    }
    assert messages[2] == {"role": "tool", "tool_call_id": "a", "content": "A"}
    assert messages[3] == {"role": "tool", "tool_call_id": "b", "content": INTERRUPTED}
    assert messages[4] == {"role": "user", "content": "Result of tool call zz:\nstray"}


def test_trailing_call_without_result_still_gets_one() -> None:
    request = Request(model="m", messages=[user("x"), Message(Role.ASSISTANT, [call("a")])])
    assert encode(request)["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "a",
        "content": INTERRUPTED,
    }


def test_images_in_results_move_to_one_user_message_after_all_tool_messages() -> None:
    image = ImagePart(media_type="image/png", data=PNG)
    request = Request(
        model="m",
        messages=[
            Message(Role.ASSISTANT, [call("a"), call("b")]),
            Message(
                Role.TOOL,
                [
                    result("a", TextPart("screenshot:"), image, is_error=True),
                    result("b", ImagePart(url="https://example.com/b.png")),
                ],
            ),
        ],
    )
    messages = encode(request)["messages"]
    assert messages[1] == {
        "role": "tool",
        "tool_call_id": "a",
        "content": f"Error: screenshot:\n{MEDIA_FOLLOWS}",
    }
    assert messages[2] == {"role": "tool", "tool_call_id": "b", "content": MEDIA_FOLLOWS}
    assert messages[3] == {
        "role": "user",
        "content": [
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/b.png"}},
        ],
    }


def test_multi_block_results_are_joined_and_errors_marked() -> None:
    request = Request(
        model="m",
        messages=[
            Message(Role.ASSISTANT, [call("a")]),
            Message(Role.TOOL, [result("a", TextPart("one"), TextPart("two"), is_error=True)]),
        ],
    )
    assert encode(request)["messages"][1]["content"] == "Error: one\ntwo"


def test_long_ids_shrink_the_same_way_on_calls_and_results() -> None:
    long_id = "fc_" + "9" * 60
    request = Request(
        model="m",
        messages=[
            Message(Role.ASSISTANT, [call(long_id)]),
            Message(Role.TOOL, [result(long_id, TextPart("ok"))]),
        ],
    )
    messages = encode(request)["messages"]
    sent = messages[0]["tool_calls"][0]["id"]
    assert len(sent) <= 40
    assert sent != long_id
    assert messages[1]["tool_call_id"] == sent
    assert encode(request)["messages"][0]["tool_calls"][0]["id"] == sent  # deterministic


def test_tool_names_go_through_the_name_map() -> None:
    names = openai_names()
    long_name = "mcp__server__" + "x" * 70
    request = Request(
        model="m",
        messages=[user("x"), Message(Role.ASSISTANT, [call("c", "weather.get")])],
        tools=[Tool("weather.get", "Weather", {"type": "object"}), Tool(long_name)],
        tool_choice=ToolChoice(ToolChoiceMode.TOOL, name=long_name),
    )
    body = encode_request(request, model="m", names=names)
    sent = [tool["function"]["name"] for tool in body["tools"]]
    assert sent[0] == "weather_get"
    assert len(sent[1]) == 64
    assert body["tools"][0]["function"] == {
        "name": "weather_get",
        "description": "Weather",
        "parameters": {"type": "object"},
    }
    assert body["tools"][1]["function"] == {"name": sent[1]}  # no parameters: no arguments
    assert body["tool_choice"] == {"type": "function", "function": {"name": sent[1]}}
    assert body["messages"][1]["tool_calls"][0]["function"]["name"] == "weather_get"
    assert names.inbound(sent[1]) == long_name


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (ToolChoice(ToolChoiceMode.AUTO), "auto"),
        (ToolChoice(ToolChoiceMode.NONE), "none"),
        (ToolChoice(ToolChoiceMode.REQUIRED), "required"),
        (
            ToolChoice(ToolChoiceMode.REQUIRED, allowed=["f"]),
            {
                "type": "allowed_tools",
                "allowed_tools": {
                    "mode": "required",
                    "tools": [{"type": "function", "function": {"name": "f"}}],
                },
            },
        ),
    ],
)
def test_tool_choice(choice: ToolChoice, expected: Any) -> None:
    request = Request(model="m", messages=[user("x")], tools=[Tool("f")], tool_choice=choice)
    assert encode(request)["tool_choice"] == expected


def test_tool_choice_and_parallel_flag_need_tools() -> None:
    request = Request(
        model="m",
        messages=[user("x")],
        tool_choice=ToolChoice(ToolChoiceMode.REQUIRED),
        parallel_tool_calls=False,
    )
    body = encode(request)
    assert "tool_choice" not in body
    assert "parallel_tool_calls" not in body
    request.tools = [Tool("f")]
    assert encode(request)["parallel_tool_calls"] is False


def test_max_tokens_field_default_legacy_and_clamp() -> None:
    request = Request(model="m", messages=[user("x")], max_output_tokens=50_000)
    assert encode(request)["max_completion_tokens"] == 50_000
    assert encode(request, max_output_tokens=32_000)["max_completion_tokens"] == 32_000
    legacy = encode(request, legacy_max_tokens=True)
    assert legacy["max_tokens"] == 50_000
    assert "max_completion_tokens" not in legacy
    request.max_output_tokens = None
    body = encode(request, max_output_tokens=32_000)
    assert "max_completion_tokens" not in body
    assert "max_tokens" not in body


def test_streams_always_ask_for_usage() -> None:
    request = Request(model="m", messages=[user("x")], stream=True, include_usage=False)
    body = encode(request)
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert "stream" not in encode(Request(model="m", messages=[user("x")]))


def test_sampling_identity_and_dropped_fields() -> None:
    request = Request(
        model="m",
        messages=[user("x")],
        temperature=1.5,
        top_p=0.5,
        top_k=40,
        seed=7,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        stop=["a", "b"],
        user="u-1",
        metadata={"k": "v"},
        cache_key="session-9",
    )
    body = encode(request)
    assert body["temperature"] == 1.5
    assert body["top_p"] == 0.5
    assert body["seed"] == 7
    assert body["presence_penalty"] == 0.1
    assert body["frequency_penalty"] == 0.2
    assert body["stop"] == ["a", "b"]
    assert body["user"] == "u-1"
    assert body["prompt_cache_key"] == "session-9"
    assert "top_k" not in body
    assert "metadata" not in body  # OpenAI only takes it with store, which the gateway never sets


@pytest.mark.parametrize(
    ("reasoning", "effort"),
    [
        (Reasoning(effort=Effort.HIGH), "high"),
        (Reasoning(effort=Effort.XHIGH, budget_tokens=100), "xhigh"),
        (Reasoning(enabled=False), "none"),
        (Reasoning(budget_tokens=0), "none"),
        (Reasoning(budget_tokens=512), "minimal"),
        (Reasoning(budget_tokens=1024), "low"),
        (Reasoning(budget_tokens=1025), "medium"),
        (Reasoning(budget_tokens=8192), "medium"),
        (Reasoning(budget_tokens=24576), "high"),
        (Reasoning(budget_tokens=24577), "xhigh"),
        (Reasoning(enabled=None, effort=Effort.LOW), "low"),
    ],
)
def test_reasoning_effort_from_effort_or_budget(reasoning: Reasoning, effort: str) -> None:
    request = Request(model="m", messages=[user("x")], reasoning=reasoning)
    assert encode(request)["reasoning_effort"] == effort


@pytest.mark.parametrize(
    "reasoning", [None, Reasoning(enabled=None), Reasoning(budget_tokens=-1), Reasoning()]
)
def test_reasoning_auto_sends_nothing(reasoning: Reasoning | None) -> None:
    request = Request(model="m", messages=[user("x")], reasoning=reasoning)
    assert "reasoning_effort" not in encode(request)


def test_response_formats() -> None:
    request = Request(model="m", messages=[user("x")])
    request.response_format = ResponseFormat(FormatKind.JSON_OBJECT)
    assert encode(request)["response_format"] == {"type": "json_object"}
    request.response_format = ResponseFormat(
        FormatKind.JSON_SCHEMA, name="my schema!", schema={"type": "object"}, strict=True
    )
    assert encode(request)["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "my_schema_", "schema": {"type": "object"}, "strict": True},
    }
    request.response_format = ResponseFormat(FormatKind.JSON_SCHEMA, schema={"type": "object"})
    assert encode(request)["response_format"]["json_schema"]["name"] == "response"


def test_content_parts() -> None:
    text_doc = FilePart(media_type="text/plain", data="aGVsbG8=", filename="a.txt")
    request = Request(
        model="m",
        messages=[
            Message(
                Role.USER,
                [
                    TextPart("look"),
                    ImagePart(url="https://example.com/x.png", detail="low"),
                    FilePart(media_type="application/pdf", data="JVBERi0="),
                    FilePart(media_type="application/pdf", data="JVBERi0=", filename="s.pdf"),
                    text_doc,
                    AudioPart(data="UklGRg==", format="mp3"),
                ],
            )
        ],
    )
    assert encode(request)["messages"][0]["content"] == [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "https://example.com/x.png", "detail": "low"}},
        {
            "type": "file",
            "file": {
                "filename": "document.pdf",
                "file_data": "data:application/pdf;base64,JVBERi0=",
            },
        },
        {
            "type": "file",
            "file": {"filename": "s.pdf", "file_data": "data:application/pdf;base64,JVBERi0="},
        },
        {"type": "text", "text": "hello"},
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "mp3"}},
    ]


@pytest.mark.parametrize(
    ("request_", "param"),
    [
        (Request(model="m", messages=[user("x")], n=2), "n"),
        (Request(model="m", messages=[user("x")], stop=["1", "2", "3", "4", "5"]), "stop"),
        (
            Request(
                model="m", messages=[Message(Role.USER, [FilePart(url="https://e.com/a.pdf")])]
            ),
            "messages",
        ),
        (
            Request(model="m", messages=[Message(Role.USER, [FilePart(file_id="file-1")])]),
            "messages",
        ),
    ],
)
def test_what_chat_cannot_honour_is_rejected(request_: Request, param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        encode(request_)
    assert caught.value.param == param


def test_a_chat_request_survives_the_round_trip() -> None:
    original = request_body("tool_calls")
    body = encode_request(decode_request(original), model="gpt-4.1", names=openai_names())
    expected = [dict(m) for m in original["messages"]]
    expected[3]["content"] = "24C\nclear"  # multi-block results are joined (E49)
    assert body["messages"] == expected
    assert body["tools"] == original["tools"]
    assert body["tool_choice"] == original["tool_choice"]
    assert body["parallel_tool_calls"] is False
