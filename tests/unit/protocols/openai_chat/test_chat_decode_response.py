"""Upstream Chat replies into the canonical ``Response``: every fixture, field by field."""

from typing import Any

import pytest

from app.canonical.content import ReasoningPart, RefusalPart, TextPart, ToolCallPart
from app.canonical.names import openai_names
from app.canonical.response import FinishReason, Response
from app.canonical.usage import Usage
from app.protocols.openai_chat.decode import decode_response
from tests.unit.protocols.openai_chat.chat_cases import RESPONSES, response_body


def decode(body: dict[str, Any]) -> Response:
    return decode_response(body, names=openai_names())


def test_every_response_fixture_has_a_test() -> None:
    assert set(RESPONSES) == set(EXPECTED)


EXPECTED: dict[str, Response] = {
    "text": Response(
        id="chatcmpl-BtXt1",
        model="gpt-4.1-2025-04-14",
        created=1741569952,
        parts=[TextPart("Hello! How can I help?")],
        finish=FinishReason.STOP,
        usage=Usage(input_tokens=1200, output_tokens=8, cache_read_tokens=1024),
    ),
    "tool_calls": Response(
        id="chatcmpl-BtXt2",
        model="gpt-4.1-2025-04-14",
        created=1741569960,
        parts=[
            ToolCallPart("call_Pa1", "get_weather", '{"city":"Paris"}'),
            ToolCallPart("call_Ro2", "get_weather", '{"city":"Rome"}'),
        ],
        finish=FinishReason.TOOL_CALLS,
        usage=Usage(input_tokens=82, output_tokens=40),
    ),
    "text_then_tool": Response(
        id="chatcmpl-BtXt3",
        model="gpt-4o-2024-08-06",
        created=1741569970,
        parts=[
            TextPart("Let me check the weather."),
            ToolCallPart("call_Os3", "get_weather", '{"city":"Oslo"}'),
        ],
        finish=FinishReason.TOOL_CALLS,
        usage=Usage(input_tokens=90, output_tokens=22, cache_read_tokens=64),
    ),
    "reasoning": Response(
        id="0f6a2b2e-5c1d-4bd4-9a49-2a6d6c5e7b11",
        model="deepseek-reasoner",
        created=1741570000,
        parts=[
            ReasoningPart(text="17*23 = 17*20 + 17*3 = 340 + 51 = 391."),
            TextPart("17 * 23 = 391."),
        ],
        finish=FinishReason.STOP,
        usage=Usage(input_tokens=20, output_tokens=60, reasoning_tokens=48),
    ),
    "length": Response(
        id="chatcmpl-BtXt5",
        model="gpt-4.1-mini-2025-04-14",
        created=1741570010,
        parts=[TextPart("Once upon a time there")],
        finish=FinishReason.LENGTH,
        usage=Usage(input_tokens=15, output_tokens=5),
    ),
    "refusal": Response(
        id="chatcmpl-BtXt6",
        model="gpt-4o-2024-08-06",
        created=1741570020,
        parts=[RefusalPart("I'm sorry, I can't help with that.")],
        finish=FinishReason.REFUSAL,
        usage=Usage(input_tokens=30, output_tokens=10),
    ),
    "content_filter": Response(
        id="chatcmpl-BtXt7",
        model="gpt-4o-2024-08-06",
        created=1741570030,
        parts=[TextPart("The first step is")],
        finish=FinishReason.CONTENT_FILTER,
        usage=Usage(input_tokens=25, output_tokens=4),
    ),
    # "stop" beside a call is a call (GoModel#124); "" arguments mean none; no usage at all.
    "tool_call_finish_stop": Response(
        id="chatcmpl-BtXt8",
        model="qwen3-coder",
        created=1741570040,
        parts=[ToolCallPart("call_q1", "list_files", "{}")],
        finish=FinishReason.TOOL_CALLS,
        usage=Usage(),
    ),
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_response_fixture(case: str) -> None:
    assert decode(response_body(case)) == EXPECTED[case]


def test_tool_names_are_restored() -> None:
    names = openai_names()
    sent = names.outbound("weather.get")
    body = response_body("tool_calls")
    body["choices"][0]["message"]["tool_calls"][0]["function"]["name"] = sent
    response = decode_response(body, names=names)
    assert [call.name for call in response.tool_calls] == ["weather.get", "get_weather"]


def test_legacy_function_call_and_object_arguments() -> None:
    body = {
        "id": "x",
        "model": "m",
        "created": 1,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "function_call": {"name": "f", "arguments": {"a": 1}},
                },
                "finish_reason": "function_call",
            }
        ],
    }
    response = decode(body)
    (call,) = response.tool_calls
    assert call.name == "f"
    assert call.arguments == '{"a":1}'
    assert call.id.startswith("call_")
    assert response.finish is FinishReason.TOOL_CALLS


@pytest.mark.parametrize(
    ("raw", "finish"),
    [
        ("max_tokens", FinishReason.LENGTH),
        ("end_turn", FinishReason.STOP),
        ("something_new", FinishReason.STOP),
        (None, FinishReason.STOP),
    ],
)
def test_other_finish_reasons(raw: Any, finish: FinishReason) -> None:
    body = {"choices": [{"index": 0, "message": {"content": "x"}, "finish_reason": raw}]}
    assert decode(body).finish is finish


def test_an_empty_reply_still_decodes() -> None:
    response = decode({"id": "chatcmpl-e", "model": "m", "created": 3, "choices": []})
    assert response == Response(id="chatcmpl-e", model="m", created=3)
    assert decode({"choices": []}).id.startswith("chatcmpl-")
