"""Upstream Gemini streams into canonical events: splits, framings, folding, ends."""

import json

import pytest

from app.canonical.content import Provider, Signature
from app.canonical.names import gemini_names
from app.canonical.response import (
    Finish,
    FinishReason,
    PartKind,
    PartStart,
    PartStop,
    ReasoningDelta,
    SignatureDelta,
    StreamEnd,
    StreamError,
    StreamStart,
    TextDelta,
    ToolArgsDelta,
    UsageReport,
)
from app.canonical.usage import Usage
from app.protocols.gemini.decode import decode_response
from tests.unit.protocols.folding import fold_events
from tests.unit.protocols.gemini.gemini_cases import (
    CREATED,
    FAILING_STREAMS,
    STREAM_BODY,
    STREAMS,
    array_bytes,
    decode_stream,
    response_body,
    stream_bytes,
)


def test_every_stream_fixture_is_classified_and_uses_crlf() -> None:
    assert set(STREAMS) == set(STREAM_BODY) | set(FAILING_STREAMS)
    for case in STREAMS:
        data = stream_bytes(case)
        assert data.endswith(b"\r\n\r\n") and data.count(b"\n") == data.count(b"\r\n")


@pytest.mark.parametrize("case", STREAMS)
def test_same_events_at_every_split_point_and_byte_by_byte(case: str) -> None:
    data = stream_bytes(case)
    whole = decode_stream([data])
    for cut in range(1, len(data)):
        assert decode_stream([data[:cut], data[cut:]]) == whole, f"split at {cut}"
    assert decode_stream([data[i : i + 1] for i in range(len(data))]) == whole


@pytest.mark.parametrize("case", STREAMS)
def test_the_json_array_framing_gives_the_same_events_at_every_split(case: str) -> None:
    data = array_bytes(case)
    whole = decode_stream([stream_bytes(case)])
    assert decode_stream([data], sse=False) == whole
    for cut in range(1, len(data)):
        assert decode_stream([data[:cut], data[cut:]], sse=False) == whole, f"split at {cut}"
    assert decode_stream([data[i : i + 1] for i in range(len(data))], sse=False) == whole


@pytest.mark.parametrize("case", sorted(STREAM_BODY))
def test_fold_invariant(case: str) -> None:
    events = decode_stream([stream_bytes(case)])
    expected = decode_response(
        response_body(STREAM_BODY[case]), names=gemini_names(), created=CREATED
    )
    assert fold_events(events) == expected


@pytest.mark.parametrize("case", sorted(STREAM_BODY))
def test_usage_reported_once_after_finish_then_end(case: str) -> None:
    events = decode_stream([stream_bytes(case)])
    assert isinstance(events[0], StreamStart)
    assert [type(e) for e in events[-3:]] == [Finish, UsageReport, StreamEnd]
    assert sum(isinstance(e, UsageReport) for e in events) == 1


def test_tool_calls_stream_whole_and_the_late_finish_still_says_tool_calls() -> None:
    events = decode_stream([stream_bytes("tool_calls")])
    body = response_body("tool_calls")
    signature = body["candidates"][0]["content"]["parts"][1]["thoughtSignature"]
    first, second = decode_response(body, names=gemini_names()).tool_calls
    assert events[0] == StreamStart(
        "mK9aZ-tools", "gemini-2.5-pro", CREATED, Usage(input_tokens=230, cache_read_tokens=128)
    )
    assert events[1:] == [
        PartStart(0, PartKind.REASONING),
        ReasoningDelta(0, "**Choosing tools**\n"),
        ReasoningDelta(0, "I need both files."),
        PartStop(0),
        PartStart(1, PartKind.TOOL_CALL, first.id, "read_file"),
        ToolArgsDelta(1, '{"path":"a.txt"}'),
        SignatureDelta(1, Signature(Provider.GEMINI, signature)),
        PartStop(1),
        PartStart(2, PartKind.TOOL_CALL, second.id, "read_file"),
        ToolArgsDelta(2, '{"path":"b.txt"}'),
        PartStop(2),
        Finish(FinishReason.TOOL_CALLS),
        UsageReport(
            Usage(input_tokens=230, output_tokens=125, cache_read_tokens=128, reasoning_tokens=85)
        ),
        StreamEnd(),
    ]


def test_a_trailing_signature_opens_a_signed_empty_reasoning_part() -> None:
    events = decode_stream([stream_bytes("thinking")])
    body = response_body("thinking")
    signature = body["candidates"][0]["content"]["parts"][1]["thoughtSignature"]
    assert events[1:-3] == [
        PartStart(0, PartKind.REASONING),
        ReasoningDelta(0, "**Multiplying**\nSix sevens "),
        ReasoningDelta(0, "make forty-two."),
        PartStop(0),
        PartStart(1, PartKind.TEXT),
        TextDelta(1, "The answer"),
        TextDelta(1, " is 42."),
        PartStop(1),
        PartStart(2, PartKind.REASONING),
        SignatureDelta(2, Signature(Provider.GEMINI, signature)),
        PartStop(2),
    ]


def test_in_band_error_becomes_a_stream_error_and_nothing_follows() -> None:
    late = {"candidates": [{"content": {"parts": [{"text": "late"}]}, "finishReason": "STOP"}]}
    late_frame = b"data: " + json.dumps(late).encode() + b"\r\n\r\n"
    events = decode_stream([stream_bytes("error") + late_frame])
    assert events[-1] == StreamError(
        503, "overloaded", "The model is overloaded. Please try again later."
    )
    assert TextDelta(0, "Let me") in events
    assert not any(isinstance(e, Finish | StreamEnd | UsageReport) for e in events)


def test_an_error_first_is_the_only_event() -> None:
    error = {"error": {"code": 429, "message": "Quota exceeded.", "status": "RESOURCE_EXHAUSTED"}}
    assert decode_stream([b"data: " + json.dumps(error).encode() + b"\r\n\r\n"]) == [
        StreamError(429, "rate_limit", "Quota exceeded.")
    ]
    # The array framing, as some proxies answer: [{"error": ...}]
    assert decode_stream([json.dumps([error]).encode()], sse=False) == [
        StreamError(429, "rate_limit", "Quota exceeded.")
    ]


def test_eof_before_any_finish_is_an_error() -> None:
    events = decode_stream([stream_bytes("truncated")])
    assert isinstance(events[-1], StreamError) and events[-1].status == 502
    assert not any(isinstance(e, Finish | StreamEnd) for e in events)
    assert decode_stream([b""]) == [events[-1]]
    assert decode_stream([b""], sse=False) == [events[-1]]


def test_an_array_cut_inside_an_element_is_an_error_even_after_a_finish() -> None:
    data = array_bytes("text")
    events = decode_stream([data[: data.rindex(b'"responseId"')]], sse=False)
    assert isinstance(events[-1], StreamError)
    # A missing closing bracket after the last whole element is harmless.
    events = decode_stream([data[:-1]], sse=False)
    assert isinstance(events[-1], StreamEnd)


def test_a_chunk_that_is_not_json_is_an_error() -> None:
    events = decode_stream([b'data: {"candidates": [\r\n\r\n'])
    assert events == [
        StreamError(502, "upstream_unavailable", "Gemini sent a chunk that is not JSON.")
    ]


def test_a_last_event_without_its_blank_line_still_counts() -> None:
    data = stream_bytes("length")
    assert isinstance(decode_stream([data.removesuffix(b"\r\n\r\n")])[-1], StreamEnd)


def test_lf_framing_and_comments_are_read_too() -> None:
    data = stream_bytes("text").replace(b"\r\n", b"\n")
    assert decode_stream([b": keep-alive\n\n" + data]) == decode_stream([stream_bytes("text")])


def test_usage_keeps_the_last_cumulative_value() -> None:
    events = decode_stream([stream_bytes("text")])
    assert events[-2] == UsageReport(Usage(input_tokens=12, output_tokens=7))


def test_prompt_blocked_is_a_content_filter_finish_with_no_parts() -> None:
    events = decode_stream([stream_bytes("blocked")])
    assert events[1:] == [
        Finish(FinishReason.CONTENT_FILTER),
        UsageReport(Usage(input_tokens=21)),
        StreamEnd(),
    ]


def test_tool_names_are_restored() -> None:
    names = gemini_names()
    names.outbound("mcp__fs__read file")  # registered when the request was encoded
    chunk = {
        "candidates": [
            {
                "content": {
                    "parts": [{"functionCall": {"name": "mcp__fs__read_file", "args": {}}}]
                },
                "finishReason": "STOP",
            }
        ]
    }
    events = decode_stream([b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n"], names=names)
    starts = [e for e in events if isinstance(e, PartStart)]
    assert [s.tool_name for s in starts] == ["mcp__fs__read file"]
