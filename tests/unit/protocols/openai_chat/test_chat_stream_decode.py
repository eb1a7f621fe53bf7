"""Upstream Chat chunk streams into canonical events: splits, folding, interleaving, ends."""

import json
from typing import Any

import pytest

from app.canonical.content import TextPart, ToolCallPart
from app.canonical.names import openai_names
from app.canonical.response import (
    Finish,
    FinishReason,
    PartKind,
    PartStart,
    PartStop,
    StreamEnd,
    StreamError,
    StreamEvent,
    StreamStart,
    ToolArgsDelta,
    UsageReport,
)
from app.canonical.usage import Usage
from app.protocols.openai_chat.decode import StreamDecoder, decode_response
from tests.unit.protocols.folding import fold_events
from tests.unit.protocols.openai_chat.chat_cases import (
    FAILING_STREAMS,
    STREAM_BODY,
    STREAMS,
    decode_stream,
    response_body,
    stream_bytes,
)


def test_every_stream_fixture_is_classified() -> None:
    assert set(STREAMS) == set(STREAM_BODY) | set(FAILING_STREAMS)


@pytest.mark.parametrize("case", STREAMS)
def test_same_events_at_every_split_point_and_byte_by_byte(case: str) -> None:
    data = stream_bytes(case)
    whole = decode_stream([data])
    for cut in range(1, len(data)):
        assert decode_stream([data[:cut], data[cut:]]) == whole, f"split at {cut}"
    assert decode_stream([data[i : i + 1] for i in range(len(data))]) == whole


@pytest.mark.parametrize("case", sorted(STREAM_BODY))
def test_fold_invariant(case: str) -> None:
    events = decode_stream([stream_bytes(case)])
    expected = decode_response(response_body(STREAM_BODY[case]), names=openai_names())
    assert fold_events(events) == expected


@pytest.mark.parametrize("case", sorted(STREAM_BODY))
def test_usage_reported_once_after_finish_then_end(case: str) -> None:
    events = decode_stream([stream_bytes(case)])
    assert isinstance(events[0], StreamStart)
    assert [type(e) for e in events[-3:]] == [Finish, UsageReport, StreamEnd]
    assert sum(isinstance(e, UsageReport) for e in events) == 1


def test_interleaved_calls_never_interleave_in_canonical_events() -> None:
    events = decode_stream([stream_bytes("tool_calls_interleaved")])
    opened: int | None = None
    for event in events:
        if isinstance(event, PartStart):
            assert opened is None
            opened = event.index
        elif isinstance(event, ToolArgsDelta):
            assert event.index == opened
        elif isinstance(event, PartStop):
            assert event.index == opened
            opened = None


def test_first_call_streams_live_before_the_finish() -> None:
    data = stream_bytes("tool_calls")
    decoder = StreamDecoder(names=openai_names())
    before_finish = decoder.feed(data[: data.index(b'"index":1,"id"')])
    assert PartStart(0, PartKind.TOOL_CALL, "call_Pa1", "get_weather") in before_finish
    assert ToolArgsDelta(0, '{"ci') in before_finish


def test_in_band_error_becomes_a_stream_error_and_nothing_follows() -> None:
    data = stream_bytes("error_midstream") + _chunk({"content": "late"}) + b"data: [DONE]\n\n"
    events = decode_stream([data])
    assert events[-1] == StreamError(
        500,
        "server_error",
        "The server had an error while processing your request. Sorry about that!",
    )
    assert not any(isinstance(e, Finish | StreamEnd) for e in events)


def test_eof_before_any_finish_is_an_error() -> None:
    events = decode_stream([stream_bytes("truncated")])
    assert isinstance(events[-1], StreamError)
    assert events[-1].status == 502
    assert not any(isinstance(e, Finish | StreamEnd) for e in events)
    assert decode_stream([b""]) == [events[-1]]


def test_eof_after_finish_without_done_is_a_clean_end() -> None:
    events = decode_stream([stream_bytes("length")])
    assert b"[DONE]" not in stream_bytes("length")
    assert events[-3:] == [
        Finish(FinishReason.LENGTH),
        UsageReport(Usage(input_tokens=15, output_tokens=5)),
        StreamEnd(),
    ]


def test_done_without_finish_ends_cleanly_and_done_without_blank_line_counts() -> None:
    events = decode_stream([_chunk({"role": "assistant", "content": "hi"}) + b"data: [DONE]"])
    assert events[-3:] == [Finish(FinishReason.STOP), UsageReport(Usage()), StreamEnd()]


def test_usage_chunk_before_the_finish_and_keep_alives() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    data = (
        b": keep-alive\n\n"
        + _chunk({"content": "x"})
        + _payload({"choices": [], "usage": usage})
        + b": ping\r\n\r\n"
        + _chunk({}, "stop")
        + b"data: [DONE]\n\n"
    )
    response = fold_events(decode_stream([data]))
    assert response.usage == Usage(input_tokens=3, output_tokens=2)
    assert response.parts == [TextPart("x")]


def test_text_after_a_call_is_held_and_emitted_after_it() -> None:
    data = (
        _chunk({"tool_calls": [_fragment(0, "c1", "f", '{"a":')]})
        + _chunk({"content": "and then"})
        + _chunk({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]})
        + _chunk({"content": " text"}, "tool_calls")
        + b"data: [DONE]\n\n"
    )
    response = fold_events(decode_stream([data]))
    assert response.parts == [ToolCallPart("c1", "f", '{"a":1}'), TextPart("and then text")]
    assert response.finish is FinishReason.TOOL_CALLS


def test_missing_index_repeated_ids_names_and_restored_names() -> None:
    names = openai_names()
    sent = names.outbound("weather.get")
    data = (
        _chunk({"tool_calls": [{"id": "c1", "function": {"name": sent, "arguments": "{}"}}]})
        + _chunk({"tool_calls": [{"id": "c2", "function": {"name": "g", "arguments": "{"}}]})
        + _chunk({"tool_calls": [{"id": "c2", "function": {"name": "g", "arguments": "}"}}]})
        + _chunk({}, "tool_calls")
        + b"data: [DONE]\n\n"
    )
    response = fold_events(decode_stream([data], names))
    assert response.parts == [
        ToolCallPart("c1", "weather.get", "{}"),
        ToolCallPart("c2", "g", "{}"),
    ]


def test_other_choices_and_content_after_the_finish_are_ignored() -> None:
    other = _payload({"choices": [{"index": 1, "delta": {"content": "B"}, "finish_reason": None}]})
    data = (
        _chunk({"content": "A"}, "stop") + other + _chunk({"content": "late"}) + b"data: [DONE]\n\n"
    )
    assert fold_events(decode_stream([data])).parts == [TextPart("A")]


def test_unreadable_chunk_is_an_error() -> None:
    events = decode_stream([_chunk({"content": "A"}) + b"data: {not json\n\n"])
    assert isinstance(events[-1], StreamError)
    assert events[-1].status == 502


def test_error_status_from_the_error_body() -> None:
    error = {
        "error": {"message": "slow down", "type": "rate_limit_error", "code": "rate_limit_exceeded"}
    }
    assert decode_stream([_payload(error)]) == [
        StreamError(429, "rate_limit_exceeded", "slow down")
    ]


def test_nothing_after_the_end() -> None:
    decoder = StreamDecoder(names=openai_names())
    events: list[StreamEvent] = decoder.feed(_chunk({}, "stop") + b"data: [DONE]\n\n")
    assert isinstance(events[-1], StreamEnd)
    assert decoder.feed(_chunk({"content": "x"})) == []
    assert decoder.finish() == []


def _fragment(index: int, call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {
        "index": index,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return _payload({"choices": [choice]})


def _payload(fields: dict[str, Any]) -> bytes:
    chunk = {"id": "chatcmpl-t", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    return b"data: " + json.dumps({**chunk, **fields}).encode() + b"\n\n"
