"""Gemini upstream bodies into canonical responses: every fixture field by field."""

from typing import Any

import pytest
from google.genai import types

from app.canonical.content import Provider, ReasoningPart, Signature, TextPart, ToolCallPart
from app.canonical.names import gemini_names
from app.canonical.response import FinishReason, Response
from app.canonical.usage import Usage
from app.protocols.gemini.decode import decode_response
from tests.unit.protocols.gemini.gemini_cases import CREATED, RESPONSES, response_body


def decode(body: dict[str, Any]) -> Response:
    return decode_response(body, names=gemini_names(), created=CREATED)


def signature(body: dict[str, Any], part: int) -> Signature:
    value = body["candidates"][0]["content"]["parts"][part]["thoughtSignature"]
    return Signature(Provider.GEMINI, value)


def test_every_response_fixture_has_a_test() -> None:
    tested = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    assert set(RESPONSES) <= tested


@pytest.mark.parametrize("case", RESPONSES)
def test_fixture_is_a_valid_gemini_response(case: str) -> None:
    types.GenerateContentResponse.model_validate(response_body(case))


def test_text() -> None:
    response = decode(response_body("text"))
    assert response == Response(
        id="mK9aZ-text",
        model="gemini-2.5-flash",
        created=CREATED,
        parts=[TextPart("Paris is the capital of France.")],
        finish=FinishReason.STOP,
        usage=Usage(input_tokens=12, output_tokens=7),
    )


def test_tool_calls() -> None:
    body = response_body("tool_calls")
    response = decode(body)
    thought, first, second = response.parts
    assert thought == ReasoningPart("**Choosing tools**\nI need both files.")
    assert isinstance(first, ToolCallPart) and isinstance(second, ToolCallPart)
    assert (first.name, first.arguments, first.signature) == (
        "read_file",
        '{"path":"a.txt"}',
        signature(body, 1),
    )
    assert (second.name, second.arguments, second.signature) == (
        "read_file",
        '{"path":"b.txt"}',
        None,
    )
    # Gemini sends no ids: stable minted ones, distinct per call.
    assert first.id.startswith("call_") and len(first.id) == len("call_") + 24
    assert first.id != second.id
    assert decode(body).tool_calls[1].id == second.id
    # STOP with calls is tool_calls (E9); thoughts count as output (7.13).
    assert response.finish is FinishReason.TOOL_CALLS
    assert response.usage == Usage(
        input_tokens=230,
        output_tokens=40 + 85,
        cache_read_tokens=128,
        reasoning_tokens=85,
    )
    assert response.model == "gemini-2.5-pro"


def test_thinking() -> None:
    body = response_body("thinking")
    response = decode(body)
    assert response.parts == [
        ReasoningPart("**Multiplying**\nSix sevens make forty-two."),
        TextPart("The answer is 42."),
        # A signature on answer text: a signed empty reasoning part after it.
        ReasoningPart(signature=signature(body, 1)),
    ]
    assert response.finish is FinishReason.STOP
    assert response.usage == Usage(
        input_tokens=1200, output_tokens=216, cache_read_tokens=1024, reasoning_tokens=210
    )


def test_length() -> None:
    response = decode(response_body("length"))
    assert response.parts == [TextPart("Once upon a time there")]
    assert response.finish is FinishReason.LENGTH
    assert response.usage == Usage(input_tokens=9, output_tokens=5)


def test_safety() -> None:
    response = decode(response_body("safety"))
    assert response.parts == []
    assert response.finish is FinishReason.CONTENT_FILTER
    assert response.usage == Usage(input_tokens=15)


def test_blocked() -> None:
    response = decode(response_body("blocked"))
    assert (response.id, response.parts, response.finish) == (
        "mK9aZ-block",
        [],
        FinishReason.CONTENT_FILTER,
    )
    assert response.usage == Usage(input_tokens=21)


def test_malformed_call() -> None:
    response = decode(response_body("malformed_call"))
    assert response.parts == []
    assert response.finish is FinishReason.ERROR


@pytest.mark.parametrize(
    ("raw", "finish"),
    [
        ("RECITATION", FinishReason.CONTENT_FILTER),
        ("PROHIBITED_CONTENT", FinishReason.CONTENT_FILTER),
        ("UNEXPECTED_TOOL_CALL", FinishReason.ERROR),
        ("OTHER", FinishReason.ERROR),
        ("SOME_NEW_REASON", FinishReason.STOP),
    ],
)
def test_finish_reasons(raw: str, finish: FinishReason) -> None:
    body = {"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": raw}]}
    assert decode(body).finish is finish


def test_a_call_makes_tool_calls_whatever_the_raw_reason() -> None:
    body = {
        "candidates": [
            {"content": {"parts": [{"functionCall": {"name": "f"}}]}, "finishReason": "MAX_TOKENS"}
        ]
    }
    response = decode(body)
    assert response.finish is FinishReason.TOOL_CALLS
    assert response.tool_calls[0].arguments == "{}"  # args absent: an empty object


def test_parts_join_and_signatures_close_thoughts() -> None:
    body = {
        "candidates": [
            {
                "content": {
                    "parts": [
                        {"text": "a", "thought": True},
                        {"text": "b", "thought": True, "thoughtSignature": "czE="},
                        {"text": "c", "thought": True},
                        {"thoughtSignature": "czI="},
                        {"text": "x"},
                        {"text": "y"},
                        {"text": ""},
                        {"inlineData": {"mimeType": "image/png", "data": "AA=="}},
                        {"text": "z", "thought": True, "thoughtSignature": ""},
                    ]
                },
                "finishReason": "STOP",
            }
        ],
        "responseId": "r",
    }
    assert decode(body).parts == [
        ReasoningPart("ab", Signature(Provider.GEMINI, "czE=")),
        ReasoningPart("c", Signature(Provider.GEMINI, "czI=")),
        TextPart("xy"),
        ReasoningPart("z"),  # an empty signature is no signature
    ]


def test_missing_ids_and_timestamps_are_filled() -> None:
    response = decode_response({"candidates": []}, names=gemini_names())
    assert response.id.startswith("gemini-")
    assert response.created > CREATED
    vertex = {"candidates": [], "createTime": "2025-01-02T03:04:05.123456Z"}
    assert decode_response(vertex, names=gemini_names()).created == 1735787045
