"""The benchmark's fast fake upstream answers valid provider replies (no sockets, no timing)."""

from __future__ import annotations

import json

import pytest

from loadtest import canned
from loadtest.upstream import Kind, classify, parse_fault, parse_request


def _sse_payloads(stream: bytes, newline: bytes = b"\n") -> list[dict]:
    events = stream.split(newline + newline)
    payloads = []
    for event in filter(None, events):
        data = [line[6:] for line in event.split(newline) if line.startswith(b"data: ")]
        if data and data[0] != b"[DONE]":
            payloads.append(json.loads(data[0]))
    return payloads


def _joined(segments: list[list[bytes]]) -> bytes:
    return b"".join(frame for segment in segments for frame in segment)


@pytest.mark.parametrize(
    ("path", "kind", "model"),
    [
        (b"/v1/chat/completions", Kind.CHAT, None),
        (b"/v1/responses", Kind.RESPONSES, None),
        (b"/v1/responses/input_tokens", Kind.INPUT_TOKENS, None),
        (b"/v1/messages", Kind.MESSAGES, None),
        (b"/v1/messages/count_tokens", Kind.COUNT_TOKENS, None),
        (b"/v1beta/models/gem-x:generateContent", Kind.GENERATE, "gem-x"),
        (b"/v1beta/models/gem-x:streamGenerateContent", Kind.STREAM_GENERATE, "gem-x"),
        (b"/v1beta/models/gem-x:countTokens", Kind.GEMINI_COUNT, "gem-x"),
    ],
)
def test_paths_are_classified(path: bytes, kind: Kind, model: str | None) -> None:
    assert classify(path) == (kind, model)


def test_unknown_paths_are_not_classified() -> None:
    assert classify(b"/v2/other") is None


def test_a_content_length_request_is_parsed_and_the_rest_left() -> None:
    raw = b'POST /v1/messages?x=1 HTTP/1.1\r\nContent-Length: 13\r\n\r\n{"model":"m"}GET'
    parsed = parse_request(bytearray(raw))
    assert parsed is not None
    request, used = parsed
    assert (request.method, request.path, request.query) == (b"POST", b"/v1/messages", b"x=1")
    assert request.body == b'{"model":"m"}'
    assert raw[used:] == b"GET"


def test_a_chunked_request_body_is_joined() -> None:
    head = b"POST /v1/messages HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    raw = head + b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    parsed = parse_request(bytearray(raw))
    assert parsed is not None
    assert parsed[0].body == b"abcde"
    assert parsed[1] == len(raw)


def test_an_incomplete_request_waits_for_more() -> None:
    assert parse_request(bytearray(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab")) is None


def test_chat_replies_echo_the_model_and_carry_usage() -> None:
    words = canned.pieces(3)
    body = json.loads(canned.chat_body("m-1", words))
    assert body["model"] == "m-1"
    assert body["choices"][0]["message"]["content"] == "".join(words)
    assert body["usage"]["completion_tokens"] == 3
    payloads = _sse_payloads(_joined(canned.chat_stream("m-1", words, True)))
    text = "".join(p["choices"][0]["delta"].get("content", "") for p in payloads if p["choices"])
    assert text == "".join(words)
    assert payloads[-1]["choices"] == [] and payloads[-1]["usage"]["completion_tokens"] == 3


def test_anthropic_stream_is_the_full_event_sequence() -> None:
    stream = _joined(canned.messages_stream("c-1", canned.pieces(4), False))
    kinds = [p["type"] for p in _sse_payloads(stream)]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert kinds.count("content_block_delta") == 4
    assert _sse_payloads(stream)[0]["message"]["model"] == "c-1"


def test_responses_stream_numbers_its_events_and_completes() -> None:
    payloads = _sse_payloads(_joined(canned.responses_stream("r-1", canned.pieces(2), False)))
    assert [p["sequence_number"] for p in payloads] == list(range(len(payloads)))
    assert payloads[-1]["type"] == "response.completed"
    assert payloads[-1]["response"]["usage"]["output_tokens"] == 2


def test_gemini_streams_with_and_without_sse() -> None:
    sse = _sse_payloads(_joined(canned.gemini_stream("g", canned.pieces(3), True)), b"\r\n")
    assert sse[-1]["candidates"][0]["finishReason"] == "STOP"
    array = json.loads(_joined(canned.gemini_stream("g", canned.pieces(3), False)))
    assert len(array) == 3 and array[-1]["usageMetadata"]["candidatesTokenCount"] == 3


def test_a_stream_is_split_into_one_segment_per_piece() -> None:
    segments = canned.chat_stream("m", canned.pieces(5), False)
    assert len(segments) == 5
    assert segments[-1][-1] == b"data: [DONE]\n\n"


def test_faults_are_parsed_and_bad_ones_refused() -> None:
    fault = parse_fault(b'{"mode": "status", "status": 429, "retry_after": 2, "rate": 0.5}')
    assert (fault.mode, fault.status, fault.retry_after, fault.rate) == ("status", 429, 2.0, 0.5)
    with pytest.raises(ValueError, match="mode"):
        parse_fault(b'{"mode": "explode"}')
    with pytest.raises(ValueError, match="rate"):
        parse_fault(b'{"mode": "drop", "rate": 2}')
