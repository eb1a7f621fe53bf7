"""Canonical replies rendered for Gemini clients, checked with the official SDK's models."""

import base64
import json
from typing import Any

import pytest
from google.genai import types

from app.canonical.content import (
    Part,
    Provider,
    ReasoningPart,
    RefusalPart,
    Signature,
    TextPart,
    ToolCallPart,
)
from app.canonical.names import gemini_names
from app.canonical.request import Role
from app.canonical.response import (
    Finish,
    FinishReason,
    PartKind,
    PartStart,
    PartStop,
    ReasoningDelta,
    Response,
    SignatureDelta,
    StreamEnd,
    StreamError,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolArgsDelta,
    UsageReport,
    response_events,
)
from app.canonical.usage import Usage
from app.core.sse import event_data, split_events
from app.protocols.gemini.decode import decode_request, decode_response
from app.protocols.gemini.encode import GeminiStreamEncoder, encode_response
from tests.unit.protocols.folding import fold_events
from tests.unit.protocols.gemini.gemini_cases import (
    CREATED,
    RESPONSES,
    decode_stream,
    response_body,
)

GEMINI_SIG = Signature(Provider.GEMINI, "Z2VtaW5p")
ANTHROPIC_SIG = Signature(Provider.ANTHROPIC, "EqQBCkYIBxgCKkA+sig/==")
OPENAI_SIG = Signature(Provider.OPENAI, "gAAAAABencrypted")
USAGE = Usage(input_tokens=100, output_tokens=30, cache_read_tokens=60, reasoning_tokens=10)


def reply(*parts: Part, finish: FinishReason = FinishReason.STOP) -> Response:
    return Response("resp-1", "claude-sonnet-4-6", CREATED, list(parts), finish, usage=USAGE)


def body_of(response: Response, **options: Any) -> dict[str, Any]:
    raw = encode_response(response, **options)
    types.GenerateContentResponse.model_validate_json(raw)  # the SDK accepts it
    result: dict[str, Any] = json.loads(raw)
    return result


def parts_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    content = body["candidates"][0].get("content") or {"parts": []}
    parts: list[dict[str, Any]] = content["parts"]
    return parts


def carried(signature: Signature) -> str:
    return base64.b64encode(f"swy1.{signature.provider.value}.{signature.value}".encode()).decode()


def stream(events: list[StreamEvent], *, sse: bool = True, **options: Any) -> list[dict[str, Any]]:
    """The chunks a Gemini client receives, each validated by the SDK."""
    encoder = GeminiStreamEncoder(sse=sse, **options)
    data = b"".join(encoder.encode(event) for event in events)
    if sse:
        assert data.endswith(b"\r\n\r\n")
        chunks = [json.loads(event_data(event)) for event in split_events(data)]
    else:
        chunks = json.loads(data)  # one complete JSON array
    for chunk in chunks:
        if "error" not in chunk:
            types.GenerateContentResponse.model_validate(chunk)
    return chunks


def test_every_part_kind_in_a_body() -> None:
    call = ToolCallPart("toolu_1", "get_weather", '{"city": "Paris"}')
    signed_call = ToolCallPart("toolu_2", "get_time", "{}", GEMINI_SIG)
    body = body_of(
        reply(
            ReasoningPart("Plan the answer.", ANTHROPIC_SIG),
            TextPart("Let me check."),
            ReasoningPart(signature=OPENAI_SIG),
            call,
            signed_call,
            TextPart(""),
            finish=FinishReason.TOOL_CALLS,
        )
    )
    assert body == {
        "candidates": [
            {
                "index": 0,
                "content": {
                    "role": "model",
                    "parts": [
                        {
                            "text": "Plan the answer.",
                            "thought": True,
                            "thoughtSignature": carried(ANTHROPIC_SIG),
                        },
                        {"text": "Let me check."},
                        # A reasoning signature rides on the unsigned call right after it.
                        {
                            "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                            "thoughtSignature": carried(OPENAI_SIG),
                        },
                        {
                            "functionCall": {"name": "get_time", "args": {}},
                            "thoughtSignature": GEMINI_SIG.value,
                        },
                    ],
                },
                "finishReason": "STOP",
            }
        ],
        "modelVersion": "claude-sonnet-4-6",
        "responseId": "resp-1",
        "usageMetadata": {
            "promptTokenCount": 100,
            "candidatesTokenCount": 20,
            "totalTokenCount": 130,
            "cachedContentTokenCount": 60,
            "thoughtsTokenCount": 10,
        },
    }


def test_hidden_thoughts_keep_their_signatures() -> None:
    body = body_of(
        reply(
            ReasoningPart("secret", ANTHROPIC_SIG),
            TextPart("Answer."),
            ReasoningPart("unsigned and hidden"),
            ReasoningPart("after text", OPENAI_SIG),
        ),
        include_thoughts=False,
    )
    assert parts_of(body) == [
        {"text": "", "thought": True, "thoughtSignature": carried(ANTHROPIC_SIG)},
        # After answer text, on that text: where Gemini itself puts it.
        {"text": "Answer.", "thoughtSignature": carried(OPENAI_SIG)},
    ]


def test_a_gemini_client_echo_decodes_back_to_the_same_parts() -> None:
    original = [
        ReasoningPart("Plan.", ANTHROPIC_SIG),
        TextPart("Checking."),
        ReasoningPart(signature=OPENAI_SIG),
        ToolCallPart("toolu_1", "get_weather", '{"city":"Paris"}'),
        TextPart("Then this."),
        ReasoningPart(signature=GEMINI_SIG),
    ]
    content = body_of(reply(*original))["candidates"][0]["content"]
    echoed = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}, content]}
    request = decode_request(echoed, model="m")
    assert request.messages[1].role is Role.ASSISTANT
    expected = [*original]
    expected[3] = ToolCallPart("call_1_2", "get_weather", '{"city":"Paris"}')  # Gemini has no ids
    assert request.messages[1].parts == expected


@pytest.mark.parametrize(
    ("finish", "raw"),
    [
        (FinishReason.STOP, "STOP"),
        (FinishReason.STOP_SEQUENCE, "STOP"),
        (FinishReason.LENGTH, "MAX_TOKENS"),
        (FinishReason.TOOL_CALLS, "STOP"),
        (FinishReason.CONTENT_FILTER, "SAFETY"),
        (FinishReason.REFUSAL, "SAFETY"),
        (FinishReason.PAUSE, "STOP"),
        (FinishReason.CONTEXT_OVERFLOW, "MAX_TOKENS"),
        (FinishReason.ERROR, "OTHER"),
    ],
)
def test_finish_reasons(finish: FinishReason, raw: str) -> None:
    body = body_of(reply(TextPart("x"), finish=finish))
    assert body["candidates"][0]["finishReason"] == raw
    chunks = stream(response_events(reply(TextPart("x"), finish=finish)))
    assert chunks[-1]["candidates"][0]["finishReason"] == raw


def test_a_refusal_is_text_with_safety() -> None:
    body = body_of(reply(RefusalPart("I can't help with that.")))
    assert parts_of(body) == [{"text": "I can't help with that."}]
    assert body["candidates"][0]["finishReason"] == "SAFETY"
    chunks = stream(response_events(reply(RefusalPart("No."))))
    assert chunks[0]["candidates"][0]["content"]["parts"] == [{"text": "No."}]
    assert chunks[-1]["candidates"][0]["finishReason"] == "SAFETY"


@pytest.mark.parametrize("case", RESPONSES)
def test_streams_and_bodies_read_back_alike(case: str) -> None:
    # A Gemini reply rendered for a Gemini client, read back by the Gemini decoders:
    # the stream and the body say the same thing, and both say what the reply said.
    original = decode_response(response_body(case), names=gemini_names(), created=CREATED)
    body = encode_response(original)
    events = response_events(original)
    for sse in (True, False):
        encoder = GeminiStreamEncoder(sse=sse)
        data = b"".join(encoder.encode(event) for event in events)
        folded = fold_events(decode_stream([data], sse=sse))
        again = decode_response(json.loads(body), names=gemini_names(), created=CREATED)
        assert folded == again
        assert folded.parts == original.parts or case == "tool_calls"  # ids are minted again
        assert folded.usage == original.usage


def test_a_foreign_stream_shape_is_rendered_chunk_by_chunk() -> None:
    events: list[StreamEvent] = [
        StreamStart("msg_1", "claude-sonnet-4-6", CREATED),
        PartStart(0, PartKind.REASONING),
        ReasoningDelta(0, "Think"),
        ReasoningDelta(0, "ing."),
        SignatureDelta(0, ANTHROPIC_SIG),
        PartStop(0),
        PartStart(1, PartKind.TOOL_CALL, "toolu_1", "get_weather"),
        ToolArgsDelta(1, ""),
        ToolArgsDelta(1, '{"city":'),
        ToolArgsDelta(1, ' "Paris"}'),
        PartStop(1),
        PartStart(2, PartKind.TEXT),
        TextDelta(2, "After the call, "),
        TextDelta(2, ""),
        PartStop(2),
        PartStart(3, PartKind.REASONING),
        ReasoningDelta(3, "More thought."),
        SignatureDelta(3, ANTHROPIC_SIG),
        PartStop(3),
        PartStart(4, PartKind.TEXT),
        TextDelta(4, "text again."),
        PartStop(4),
        Finish(FinishReason.TOOL_CALLS),
        UsageReport(Usage()),
        StreamEnd(),
    ]
    chunks = stream(events)
    assert [chunk["candidates"][0].get("content", {}).get("parts") for chunk in chunks] == [
        [{"text": "Think", "thought": True}],
        [{"text": "ing.", "thought": True}],
        # The call comes whole, carrying the reasoning signature before it.
        [
            {
                "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                "thoughtSignature": carried(ANTHROPIC_SIG),
            }
        ],
        [{"text": "After the call, "}],
        [{"text": "More thought.", "thought": True}],
        [{"text": "", "thought": True, "thoughtSignature": carried(ANTHROPIC_SIG)}],
        [{"text": "text again."}],
        None,
    ]
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"] == {
        "promptTokenCount": 0,
        "candidatesTokenCount": 0,
        "totalTokenCount": 0,
    }
    assert all(chunk["responseId"] == "msg_1" for chunk in chunks)
    assert all("finishReason" not in chunk["candidates"][0] for chunk in chunks[:-1])


def test_hidden_thoughts_in_a_stream() -> None:
    events = response_events(
        reply(
            ReasoningPart("secret", GEMINI_SIG),
            TextPart("Answer."),
            ReasoningPart(signature=OPENAI_SIG),
        )
    )
    chunks = stream(events, include_thoughts=False)
    assert [chunk["candidates"][0].get("content", {}).get("parts") for chunk in chunks] == [
        [{"text": "", "thought": True, "thoughtSignature": GEMINI_SIG.value}],
        [{"text": "Answer."}],
        [{"text": "", "thoughtSignature": carried(OPENAI_SIG)}],  # after text, as Gemini does
        None,
    ]


def test_a_calls_own_signature_wins_and_the_reasoning_one_goes_before_it() -> None:
    events = response_events(
        reply(ReasoningPart(signature=OPENAI_SIG), ToolCallPart("c", "f", "{}", GEMINI_SIG))
    )
    chunks = stream(events)
    assert [chunk["candidates"][0].get("content", {}).get("parts") for chunk in chunks[:2]] == [
        [{"text": "", "thought": True, "thoughtSignature": carried(OPENAI_SIG)}],
        [{"functionCall": {"name": "f", "args": {}}, "thoughtSignature": GEMINI_SIG.value}],
    ]


def test_the_array_framing_is_one_json_array() -> None:
    chunks = stream(response_events(reply(TextPart("Hi"))), sse=False)
    assert [chunk["candidates"][0].get("finishReason") for chunk in chunks] == [None, "STOP"]
    assert chunks[1]["usageMetadata"]["promptTokenCount"] == 100


def test_an_error_mid_stream_ends_it() -> None:
    events: list[StreamEvent] = [
        StreamStart("r", "m", CREATED),
        PartStart(0),
        TextDelta(0, "Hal"),
        StreamError(529, "overloaded", "Overloaded"),
        TextDelta(0, "f"),
        StreamEnd(),
    ]
    for sse in (True, False):
        chunks = stream(events, sse=sse)
        assert chunks[-1] == {
            "error": {"code": 503, "message": "Overloaded", "status": "UNAVAILABLE"}
        }
        assert len(chunks) == 2


@pytest.mark.parametrize(("sse", "expected"), [(True, b"data: "), (False, b"[")])
def test_an_error_before_anything_else(sse: bool, expected: bytes) -> None:
    # The relay's in-band error for a stream that broke: no StreamStart came first.
    frame = GeminiStreamEncoder(sse=sse).encode(StreamError(504, "timeout", "Upstream timed out."))
    assert frame.startswith(expected)
    error = {
        "error": {"code": 504, "message": "Upstream timed out.", "status": "DEADLINE_EXCEEDED"}
    }
    if sse:
        assert frame == b"data: " + json.dumps(error, separators=(",", ":")).encode() + b"\r\n\r\n"
    else:
        assert json.loads(frame) == [error]


def test_an_end_without_usage_still_finishes() -> None:
    chunks = stream(
        [
            StreamStart("r", "m", CREATED),
            PartStart(0),
            TextDelta(0, "x"),
            PartStop(0),
            Finish(FinishReason.LENGTH),
            StreamEnd(),
        ]
    )
    assert chunks[-1]["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert "usageMetadata" not in chunks[-1]
