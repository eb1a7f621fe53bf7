"""Canonical replies as Messages bodies and SSE, checked with the official ``anthropic`` SDK."""

import importlib
from typing import Any

import anthropic
import pytest
from anthropic.types import Message

from app.canonical.content import (
    CARRIER_PREFIX,
    Part,
    Provider,
    ReasoningPart,
    RefusalPart,
    Signature,
    TextPart,
    ToolCallPart,
    carry,
)
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
from app.core import json
from app.protocols.anthropic.decode import decode_response
from app.protocols.anthropic.encode import MessagesStreamEncoder, encode_response
from tests.unit.protocols.anthropic.anthropic_cases import (
    CREATED,
    RESPONSES,
    response_body,
    sse_payloads,
    tool_names,
)

# The SDK's own HTTP library, which may not be the httpx the tests import.
_HTTP = importlib.import_module(
    anthropic.DefaultHttpxClient.__mro__[1].__module__.partition(".")[0]
)

GEMINI = Signature(Provider.GEMINI, "CiQBcsjafQ0lGvxTz")
USAGE = Usage(input_tokens=1000, output_tokens=70, cache_read_tokens=600, cache_write_tokens=300)


def sdk_final_message(data: bytes) -> Message:
    """``data`` served as a Messages stream to the SDK's ``messages.stream`` helper."""

    def serve(request: Any) -> Any:
        return _HTTP.Response(200, headers={"content-type": "text/event-stream"}, content=data)

    http = anthropic.DefaultHttpxClient(transport=_HTTP.MockTransport(serve))
    client = anthropic.Anthropic(
        api_key="sk-test", base_url="http://gateway.test", http_client=http, max_retries=0
    )
    with (
        client,
        client.messages.stream(
            model="m", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
        ) as stream,
    ):
        return Message.model_validate(stream.get_final_message().to_dict())


def body_message(response: Response, **options: bool) -> Message:
    return Message.model_validate(json.loads(encode_response(response, **options)))


def stream_of(events: list[StreamEvent], **options: bool) -> bytes:
    encoder = MessagesStreamEncoder(**options)
    return b"".join(encoder.encode(event) for event in events)


def reply(*parts: Part, finish: FinishReason = FinishReason.STOP, usage: Usage = USAGE) -> Response:
    return Response("msg_1", "claude-alias", CREATED, list(parts), finish, usage=usage)


def content(message: Message) -> list[dict[str, Any]]:
    return [block.to_dict() for block in message.content]


@pytest.mark.parametrize("case", RESPONSES)
def test_an_anthropic_reply_round_trips_to_its_own_content(case: str) -> None:
    original = response_body(case)
    message = body_message(decode_response(original, names=tool_names(), created=CREATED))
    expected = [
        {key: value for key, value in block.items() if key != "citations"}
        for block in original["content"]
    ]
    for block in expected:  # the client named the tool web.lookup (tool_names)
        if block.get("name") == "web_lookup":
            block["name"] = "web.lookup"
    assert content(message) == expected
    assert message.id == original["id"]
    assert message.stop_reason == original["stop_reason"]
    assert message.stop_sequence == original["stop_sequence"]
    for key in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
        assert getattr(message.usage, key) == original["usage"][key]
    assert message.usage.output_tokens == original["usage"]["output_tokens"]


@pytest.mark.parametrize("case", RESPONSES)
def test_the_stream_of_a_reply_accumulates_to_its_body(case: str) -> None:
    response = decode_response(response_body(case), names=tool_names(), created=CREATED)
    streamed = sdk_final_message(stream_of(response_events(response)))
    assert streamed == body_message(response)


def test_stream_layout_follows_the_messages_rules() -> None:
    response = reply(
        ReasoningPart("think", signature=Signature(Provider.ANTHROPIC, "EqQB")),
        TextPart("Hello"),
        ToolCallPart("toolu_1", "f", '{"a": 1}'),
        finish=FinishReason.TOOL_CALLS,
    )
    payloads = sse_payloads(stream_of(response_events(response)))
    types = [payload["type"] for payload in payloads]
    assert types[:2] == ["message_start", "ping"]
    assert types[-2:] == ["message_delta", "message_stop"]
    starts = [p["index"] for p in payloads if p["type"] == "content_block_start"]
    stops = [p["index"] for p in payloads if p["type"] == "content_block_stop"]
    assert starts == stops == [0, 1, 2]
    thinking = [p["delta"]["type"] for p in payloads if p.get("index") == 0 and "delta" in p]
    assert thinking == ["thinking_delta", "signature_delta"]
    start_usage = payloads[0]["message"]["usage"]
    assert start_usage == {
        "input_tokens": 100,
        "cache_creation_input_tokens": 300,
        "cache_read_input_tokens": 600,
        "output_tokens": 0,
    }
    assert payloads[-2]["usage"] == start_usage | {"output_tokens": 70}
    assert payloads[-2]["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}


def test_foreign_signatures_ride_in_thinking_signatures() -> None:
    openai = Signature(Provider.OPENAI, "gAAAAB")
    response = reply(
        ReasoningPart("gemini thought", signature=GEMINI),
        ReasoningPart("plain thought"),
        ReasoningPart("", signature=openai),
        RefusalPart("I won't."),
        ToolCallPart("call_1", "f", '{"x": 1}', signature=GEMINI),
        TextPart("after the call"),
        finish=FinishReason.TOOL_CALLS,
    )
    expected = [
        {"type": "thinking", "thinking": "gemini thought", "signature": carry(GEMINI)},
        {"type": "thinking", "thinking": "plain thought", "signature": ""},
        {"type": "thinking", "thinking": "", "signature": carry(openai)},
        {"type": "text", "text": "I won't."},
        # The call's own signature goes just before it, in an empty thinking block.
        {"type": "thinking", "thinking": "", "signature": carry(GEMINI)},
        {"type": "tool_use", "id": "call_1", "name": "f", "input": {"x": 1}},
        {"type": "text", "text": "after the call"},
    ]
    assert content(body_message(response)) == expected
    streamed = sdk_final_message(stream_of(response_events(response)))
    assert content(streamed) == expected
    assert streamed.stop_reason == "tool_use"
    assert carry(GEMINI).startswith(CARRIER_PREFIX)


def test_include_thinking_false_keeps_signatures_only() -> None:
    response = reply(
        ReasoningPart("secret", signature=Signature(Provider.ANTHROPIC, "EqQB")),
        ReasoningPart("unsigned"),
        TextPart("answer"),
    )
    expected = [
        {"type": "thinking", "thinking": "", "signature": "EqQB"},
        {"type": "text", "text": "answer"},
    ]
    assert content(body_message(response, include_thinking=False)) == expected
    stream = stream_of(response_events(response), include_thinking=False)
    assert content(sdk_final_message(stream)) == expected


def test_an_empty_reply_is_still_a_message_with_content() -> None:
    empty = reply(usage=Usage())
    assert content(body_message(empty)) == [{"type": "text", "text": ""}]
    streamed = sdk_final_message(stream_of(response_events(empty)))
    assert content(streamed) == [{"type": "text", "text": ""}]
    assert streamed.stop_reason == "end_turn"
    assert streamed.usage.input_tokens == 0


@pytest.mark.parametrize(
    ("finish", "tool_called", "stop_reason"),
    [
        (FinishReason.STOP, True, "tool_use"),
        (FinishReason.LENGTH, True, "max_tokens"),
        (FinishReason.CONTENT_FILTER, False, "refusal"),
        (FinishReason.REFUSAL, False, "refusal"),
        (FinishReason.PAUSE, False, "pause_turn"),
        (FinishReason.CONTEXT_OVERFLOW, False, "model_context_window_exceeded"),
        (FinishReason.ERROR, False, "end_turn"),
        (FinishReason.STOP_SEQUENCE, False, "stop_sequence"),
    ],
)
def test_stop_reasons(finish: FinishReason, tool_called: bool, stop_reason: str) -> None:
    parts: list[Part] = [TextPart("x")]
    if tool_called:
        parts.append(ToolCallPart("toolu_1", "f"))
    response = reply(*parts, finish=finish)
    response.stop_sequence = "###" if finish is FinishReason.STOP_SEQUENCE else None
    assert body_message(response).stop_reason == stop_reason
    streamed = sdk_final_message(stream_of(response_events(response)))
    assert streamed.stop_reason == stop_reason
    assert streamed.stop_sequence == response.stop_sequence


def test_events_from_other_protocols_still_make_a_valid_stream() -> None:
    """Interleavings an OpenAI or Gemini decoder may produce, usage known only at the end."""
    events: list[StreamEvent] = [
        StreamStart("chatcmpl-9", "gpt-x", CREATED),
        PartStart(0, PartKind.TEXT),
        TextDelta(0, ""),
        TextDelta(0, "Let me"),
        PartStop(0),
        PartStart(1, PartKind.TOOL_CALL, "call_a", "f"),
        ToolArgsDelta(1, '{"path": '),
        ToolArgsDelta(1, '"a.txt"}'),
        PartStop(1),
        PartStart(2, PartKind.TOOL_CALL, "call_b", "g"),
        ToolArgsDelta(2, '{"broken": '),  # cut short upstream
        PartStop(2),
        PartStart(3, PartKind.TEXT),
        TextDelta(3, "done"),
        PartStop(3),
        PartStart(4, PartKind.REASONING),
        SignatureDelta(4, GEMINI),
        PartStop(4),
        PartStart(5, PartKind.REASONING),
        PartStop(5),
        PartStart(6, PartKind.REFUSAL),
        TextDelta(6, "no"),
        PartStop(6),
        PartStart(7, PartKind.REASONING),
        ReasoningDelta(7, "on reflection"),
        PartStop(7),
        PartStart(8, PartKind.TEXT),
        TextDelta(8, "yes"),
        PartStop(8),
        Finish(FinishReason.STOP),
        UsageReport(Usage(input_tokens=50, output_tokens=9, cache_read_tokens=20)),
        StreamEnd(),
    ]
    message = sdk_final_message(stream_of(events))
    assert content(message) == [
        {"type": "text", "text": "Let me"},
        {"type": "tool_use", "id": "call_a", "name": "f", "input": {"path": "a.txt"}},
        {"type": "tool_use", "id": "call_b", "name": "g", "input": {}},
        {"type": "text", "text": "done"},
        {"type": "thinking", "thinking": "", "signature": carry(GEMINI)},
        {"type": "text", "text": "no"},
        {"type": "thinking", "thinking": "on reflection", "signature": ""},
        {"type": "text", "text": "yes"},
    ]
    assert message.id == "chatcmpl-9"
    assert message.stop_reason == "tool_use"
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens) == (30, 20)
    assert message.usage.output_tokens == 9


def test_redacted_thinking_goes_back_as_its_own_block() -> None:
    response = decode_response(response_body("thinking"), names=tool_names(), created=CREATED)
    payloads = sse_payloads(stream_of(response_events(response)))
    redacted = [p for p in payloads if p["type"] == "content_block_start" and p["index"] == 1]
    assert redacted[0]["content_block"] == {
        "type": "redacted_thinking",
        "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFq",
    }
    # The form decode_request gives a client's redacted_thinking block.
    decoded = ReasoningPart(redacted="EmwK", signature=Signature(Provider.ANTHROPIC, "EmwK"))
    assert content(body_message(reply(decoded))) == [{"type": "redacted_thinking", "data": "EmwK"}]
    unsigned = ReasoningPart(redacted="EmwL")
    assert content(body_message(reply(unsigned))) == [{"type": "redacted_thinking", "data": "EmwL"}]


@pytest.mark.parametrize(
    ("error", "error_type", "exception"),
    [
        (
            StreamError(529, "overloaded_error", "Overloaded"),
            "overloaded_error",
            anthropic.APIStatusError,
        ),
        (StreamError(503, "overloaded", "busy"), "overloaded_error", anthropic.APIStatusError),
        (StreamError(504, "timeout", "slow"), "timeout_error", anthropic.APIStatusError),
        (
            StreamError(429, "rate_limit_exceeded", "slow down"),
            "rate_limit_error",
            anthropic.APIStatusError,
        ),
        (StreamError(502, "upstream_unavailable", "gone"), "api_error", anthropic.APIStatusError),
        (
            StreamError(400, "context_length_exceeded", "too long"),
            "invalid_request_error",
            anthropic.APIStatusError,
        ),
    ],
)
def test_errors_are_in_band_error_events(
    error: StreamError, error_type: str, exception: type[Exception]
) -> None:
    events: list[StreamEvent] = [
        StreamStart("msg_1", "m", CREATED),
        PartStart(0),
        TextDelta(0, "par"),
    ]
    data = stream_of([*events, error, StreamEnd()])
    payloads = sse_payloads(data)
    assert payloads[-1] == {
        "type": "error",
        "error": {"type": error_type, "message": error.message},
    }
    assert data.endswith(b"\n\n")
    with pytest.raises(exception) as raised:
        sdk_final_message(data)
    assert error.message in str(raised.value)


def test_an_error_before_anything_else_is_a_lone_error_event() -> None:
    data = MessagesStreamEncoder().encode(StreamError(500, "internal", "boom"))
    assert data == (
        b'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"boom"}}\n\n'
    )
