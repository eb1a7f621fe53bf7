"""Upstream Responses bodies and streams into canonical replies: fixtures, splits, folding, ends."""

from typing import Any

import pytest

from app.canonical.content import (
    Provider,
    ReasoningPart,
    RefusalPart,
    Signature,
    TextPart,
    ToolCallPart,
)
from app.canonical.names import openai_names
from app.canonical.response import (
    Finish,
    FinishReason,
    PartKind,
    PartStart,
    PartStop,
    Response,
    StreamEnd,
    StreamError,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolArgsDelta,
    UsageReport,
)
from app.canonical.usage import Usage
from app.core import json
from app.protocols.openai_responses.decode import StreamDecoder, decode_response
from tests.unit.protocols.folding import fold_events
from tests.unit.protocols.openai_responses.responses_cases import (
    FAILING_STREAMS,
    RESPONSES,
    STREAM_BODY,
    STREAMS,
    decode_stream,
    response_body,
    sse,
    stream_bytes,
)

MODEL = "gpt-5-2025-08-07"
CREATED = 1756300000


def decoded(case: str) -> Response:
    return decode_response(response_body(case), names=openai_names())


def test_fixture_sets_match() -> None:
    assert set(RESPONSES) == set(STREAM_BODY.values())
    assert set(STREAMS) == set(STREAM_BODY) | set(FAILING_STREAMS)


def test_text_with_cache_usage() -> None:
    assert decoded("text") == Response(
        "resp_68ae0001text",
        MODEL,
        CREATED,
        [TextPart("Hello! How can I help today?")],
        FinishReason.STOP,
        usage=Usage(
            input_tokens=1250, output_tokens=12, cache_read_tokens=1024, cache_write_tokens=128
        ),
    )


def test_parallel_tool_calls_finish_as_tool_calls() -> None:
    response = decoded("tool_calls")
    assert response.parts == [
        TextPart("Checking both cities."),
        ToolCallPart("call_Vx1Paris", "get_weather", '{"city":"Paris"}'),
        ToolCallPart("call_Vx2Rome", "get_weather", '{"city":"Rome"}'),
    ]
    assert response.finish is FinishReason.TOOL_CALLS
    assert response.usage == Usage(input_tokens=320, output_tokens=58)


def test_reasoning_summary_parts_joined_and_encrypted_content_as_signature() -> None:
    response = decoded("reasoning")
    assert response.parts == [
        ReasoningPart(
            "**Checking the math**\n\nTwo plus two.\n\nIt is four.",
            Signature(Provider.OPENAI, "gAAAAABorlC3xYz-encrypted-reasoning-state_0123456789=="),
        ),
        TextPart("2 + 2 = 4."),
    ]
    assert response.finish is FinishReason.STOP
    assert response.usage == Usage(
        input_tokens=860, output_tokens=402, cache_read_tokens=512, reasoning_tokens=384
    )


@pytest.mark.parametrize(
    ("case", "parts", "finish"),
    [
        ("length", [TextPart("Once upon a time")], FinishReason.LENGTH),
        ("refusal", [RefusalPart("I'm sorry, but I can't help with that.")], FinishReason.REFUSAL),
        ("content_filter", [TextPart("Here is")], FinishReason.CONTENT_FILTER),
    ],
)
def test_finish_follows_status_and_items(case: str, parts: list[Any], finish: FinishReason) -> None:
    response = decoded(case)
    assert (response.parts, response.finish) == (parts, finish)


def test_tool_names_are_restored() -> None:
    names = openai_names()
    long = "mcp__filesystem__" + "read_a_very_long_file_name_" * 3
    short = names.outbound(long)
    assert short != long
    item = {"type": "function_call", "call_id": "c1", "name": short, "arguments": "{}"}
    body = {"id": "r", "model": "m", "status": "completed", "output": [item]}
    assert decode_response(body, names=names).parts == [ToolCallPart("c1", long, "{}")]
    stream = sse(
        {"type": "response.created", "response": {"id": "r", "model": "m", "output": []}},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**item, "arguments": ""},
        },
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed", "response": body},
    )
    starts = [e for e in decode_stream([stream], names) if isinstance(e, PartStart)]
    assert starts == [PartStart(0, PartKind.TOOL_CALL, "c1", long)]


# Streams


def split_points(data: bytes, *, window: int = 3, stride: int = 6) -> list[int]:
    """Every offset within ``window`` bytes of a line break, where SSE framing is
    decided, and every ``stride``-th offset inside lines.

    Responses streams repeat the whole response object three times, so two-piece
    splits at literally every offset cost seconds; byte-by-byte feeding below
    still splits the stream at every offset at once.
    """
    points = set(range(1, len(data), stride))
    for at, byte in enumerate(data):
        if byte in b"\r\n":
            points.update(range(max(1, at - window), min(len(data), at + window + 1)))
    return sorted(points)


@pytest.mark.parametrize("case", STREAMS)
def test_stream_split_in_two_anywhere_gives_the_same_events(case: str) -> None:
    data = stream_bytes(case)
    whole = decode_stream([data])
    for cut in split_points(data):
        assert decode_stream([data[:cut], data[cut:]]) == whole, f"split at {cut}"


@pytest.mark.parametrize("case", STREAMS)
def test_stream_fed_byte_by_byte_gives_the_same_events(case: str) -> None:
    data = stream_bytes(case)
    pieces = [data[i : i + 1] for i in range(len(data))]
    assert decode_stream(pieces) == decode_stream([data])


@pytest.mark.parametrize(("stream", "body"), sorted(STREAM_BODY.items()))
def test_stream_folds_to_the_non_stream_reply(stream: str, body: str) -> None:
    assert fold_events(decode_stream([stream_bytes(stream)])) == decoded(body)


def test_text_stream_events_in_order() -> None:
    events = decode_stream([stream_bytes("text")])
    assert events[0] == StreamStart("resp_68ae0001text", MODEL, CREATED)
    assert events[1] == PartStart(0, PartKind.TEXT)
    assert [e.text for e in events if isinstance(e, TextDelta)] == [
        "Hello",
        "!",
        " How",
        " can",
        " I",
        " help",
        " today",
        "?",
    ]
    assert events[-4:-1] == [
        PartStop(0),
        Finish(FinishReason.STOP),
        UsageReport(Usage(1250, 12, 1024, 128)),
    ]
    assert events[-1] == StreamEnd()


def test_tool_call_stream_streams_argument_fragments_live() -> None:
    events = decode_stream([stream_bytes("tool_calls")])
    paris = [e.fragment for e in events if isinstance(e, ToolArgsDelta) and e.index == 1]
    assert paris == ['{"', "city", '":"', "Paris", '"}']
    assert PartStart(2, PartKind.TOOL_CALL, "call_Vx2Rome", "get_weather") in events


@pytest.mark.parametrize(
    ("case", "error"),
    [
        (
            "failed",
            StreamError(
                500, "server_error", "The server had an error while processing your request."
            ),
        ),
        (
            "error_event",
            StreamError(
                429, "rate_limit_exceeded", "Rate limit reached for gpt-5. Please try again in 20s."
            ),
        ),
        (
            "truncated",
            StreamError(502, "upstream_unavailable", "stream closed before response.completed"),
        ),
    ],
)
def test_failing_streams_end_with_one_stream_error(case: str, error: StreamError) -> None:
    events = decode_stream([stream_bytes(case)])
    assert isinstance(events[0], StreamStart)
    assert events[-1] == error
    assert sum(isinstance(e, StreamError) for e in events) == 1
    assert not any(isinstance(e, Finish | StreamEnd) for e in events)


def test_nothing_after_the_terminal_event() -> None:
    decoder = StreamDecoder(names=openai_names())
    data = stream_bytes("text")
    assert decoder.feed(data)[-1] == StreamEnd()
    assert decoder.feed(data) == []
    assert decoder.finish() == []


def test_empty_stream_is_an_error() -> None:
    assert decode_stream([b""]) == [
        StreamError(502, "upstream_unavailable", "stream closed before response.completed")
    ]


def test_unreadable_event_is_an_error() -> None:
    events = decode_stream([b"event: response.created\ndata: {not json\n\n"])
    assert events == [StreamError(502, "upstream_unavailable", "unreadable stream event")]


def _body(*output: dict[str, Any], status: str = "completed") -> dict[str, Any]:
    return {"id": "resp_x", "model": "m", "created_at": 7, "status": status, "output": list(output)}


MESSAGE = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "status": "completed",
    "content": [{"type": "output_text", "text": "Hi there", "annotations": []}],
}
CALL = {
    "type": "function_call",
    "id": "fc_1",
    "call_id": "call_1",
    "name": "f",
    "arguments": '{"a":1}',
}
REASONING = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [],
    "content": [{"type": "reasoning_text", "text": "raw"}],
    "encrypted_content": "enc",
}


def test_items_only_in_done_events_fold_like_the_body() -> None:
    body = _body(REASONING, MESSAGE, CALL)
    stream = sse(
        {"type": "response.created", "response": {**body, "output": [], "status": "in_progress"}},
        *(
            {"type": "response.output_item.done", "output_index": i, "item": item}
            for i, item in enumerate(body["output"])
        ),
        {"type": "response.completed", "response": body},
    )
    folded = fold_events(decode_stream([stream]))
    assert folded == decode_response(body, names=openai_names())
    assert folded.parts == [
        ReasoningPart("raw", Signature(Provider.OPENAI, "enc")),
        TextPart("Hi there"),
        ToolCallPart("call_1", "f", '{"a":1}'),
    ]


def test_only_a_completed_event_still_yields_its_output() -> None:
    body = _body(MESSAGE, CALL)
    folded = fold_events(decode_stream([sse({"type": "response.completed", "response": body})]))
    assert folded == decode_response(body, names=openai_names())
    assert folded.finish is FinishReason.TOOL_CALLS


def test_interleaved_items_are_released_one_after_the_other() -> None:
    first = {**CALL, "arguments": ""}
    second = {**CALL, "id": "fc_2", "call_id": "call_2", "arguments": ""}
    stream = sse(
        {"type": "response.created", "response": _body(status="in_progress")},
        {"type": "response.output_item.added", "output_index": 0, "item": first},
        {"type": "response.output_item.added", "output_index": 1, "item": second},
        {"type": "response.function_call_arguments.delta", "output_index": 1, "delta": '{"b"'},
        {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": '{"a"'},
        {"type": "response.function_call_arguments.delta", "output_index": 1, "delta": ":2}"},
        {
            "type": "response.output_item.done",
            "output_index": 1,
            "item": {**second, "arguments": '{"b":2}'},
        },
        {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": ":1}"},
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {**first, "arguments": '{"a":1}'},
        },
        {"type": "response.completed", "response": _body()},
    )
    events = decode_stream([stream])
    folded = fold_events(events)  # checks one open part at a time
    assert folded.parts == [
        ToolCallPart("call_1", "f", '{"a":1}'),
        ToolCallPart("call_2", "f", '{"b":2}'),
    ]
    assert folded.finish is FinishReason.TOOL_CALLS


def test_custom_tool_call_input_streams_as_json_arguments() -> None:
    text = 'line "one"\n\ttab \\ slash é'
    item = {
        "type": "custom_tool_call",
        "id": "ctc_1",
        "call_id": "call_p",
        "name": "apply_patch",
        "input": "",
    }
    done = {**item, "input": text}
    stream = sse(
        {"type": "response.created", "response": _body(status="in_progress")},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {
            "type": "response.custom_tool_call_input.delta",
            "output_index": 0,
            "item_id": "ctc_1",
            "delta": text[:7],
        },
        {
            "type": "response.custom_tool_call_input.delta",
            "output_index": 0,
            "item_id": "ctc_1",
            "delta": text[7:],
        },
        {
            "type": "response.custom_tool_call_input.done",
            "output_index": 0,
            "item_id": "ctc_1",
            "input": text,
        },
        {"type": "response.output_item.done", "output_index": 0, "item": done},
        {"type": "response.completed", "response": _body(done)},
    )
    folded = fold_events(decode_stream([stream]))
    assert folded == decode_response(_body(done), names=openai_names())
    (call,) = folded.parts
    assert isinstance(call, ToolCallPart)
    assert json.loads(call.arguments) == {"input": text}


def test_unknown_events_comments_and_a_missing_final_blank_line_are_tolerated() -> None:
    body = _body(MESSAGE)
    stream = (
        b": keep-alive\n\n"
        + sse(
            {"type": "response.created", "response": {**body, "output": []}},
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**MESSAGE, "content": []},
            },
            {
                "type": "response.output_text.delta",
                "output_index": 0,
                "content_index": 0,
                "delta": "Hi there",
            },
            {"type": "response.output_text.annotation.added", "output_index": 0, "annotation": {}},
            {"type": "response.completed", "response": body},
        ).rstrip(b"\n")
        + b"\n"
    )
    folded = fold_events(decode_stream([stream]))
    assert folded.parts == [TextPart("Hi there")]


def test_empty_arguments_become_an_empty_object() -> None:
    call = {**CALL, "arguments": ""}
    stream = sse(
        {"type": "response.created", "response": _body(status="in_progress")},
        {"type": "response.output_item.added", "output_index": 0, "item": call},
        {"type": "response.output_item.done", "output_index": 0, "item": call},
        {"type": "response.completed", "response": _body(call)},
    )
    folded = fold_events(decode_stream([stream]))
    assert folded.parts == [ToolCallPart("call_1", "f", "{}")]
    assert folded == decode_response(_body(call), names=openai_names())


def test_nested_error_event_shape() -> None:
    stream = sse(
        {"type": "error", "error": {"code": "context_length_exceeded", "message": "too long"}}
    )
    events: list[StreamEvent] = decode_stream([stream])
    assert events == [StreamError(400, "context_length_exceeded", "too long")]
