"""Anthropic upstream replies into the canonical form: bodies, streams split anywhere, the fold."""

import pytest

from app.canonical.content import (
    Provider,
    ReasoningPart,
    RefusalPart,
    Signature,
    TextPart,
    ToolCallPart,
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
    StreamStart,
    TextDelta,
    ToolArgsDelta,
    UsageReport,
)
from app.canonical.usage import Usage
from app.protocols.anthropic.decode import decode_response
from app.protocols.anthropic.signatures import REDACTED_PREFIX
from tests.unit.protocols.anthropic.anthropic_cases import (
    COMPLETE_STREAMS,
    CREATED,
    RESPONSES,
    STREAMS,
    decode_stream,
    response_body,
    stream_bytes,
    tool_names,
)
from tests.unit.protocols.folding import fold_events


def decoded(case: str) -> Response:
    return decode_response(response_body(case), names=tool_names(), created=CREATED)


def test_text_reply_counts_cache_tokens_into_the_input() -> None:
    assert decoded("text") == Response(
        id="msg_01XFDUDYJgAACzvnptvVoYEL",
        model="claude-sonnet-4-5-20250929",
        created=CREATED,
        parts=[TextPart("Hello! The capital of France is Paris.")],
        finish=FinishReason.STOP,
        usage=Usage(
            input_tokens=21 + 100 + 1800,
            output_tokens=12,
            cache_read_tokens=1800,
            cache_write_tokens=100,
        ),
    )


def test_parallel_tool_calls_become_compact_json() -> None:
    response = decoded("tool_use")
    assert response.parts == [
        TextPart("I'll check both cities."),
        ToolCallPart(
            "toolu_01A09q90qw90lq917835lq9", "get_weather", '{"city":"Paris","unit":"celsius"}'
        ),
        ToolCallPart(
            "toolu_01B7hZ2mYpLk3Qw8Rt5Vx1Nc", "get_weather", '{"city":"Rome","unit":"celsius"}'
        ),
    ]
    assert response.finish is FinishReason.TOOL_CALLS
    assert response.usage == Usage(input_tokens=412, output_tokens=96)


def test_thinking_redacted_thinking_and_restored_tool_names() -> None:
    response = decoded("thinking")
    assert response.parts == [
        ReasoningPart(
            "The user asks about the 2022 final. I should search.",
            signature=Signature(Provider.ANTHROPIC, "EqQBCkgIARABGAIiQL8Zp2m0r1VhQ2xvdWRz"),
        ),
        ReasoningPart(
            signature=Signature(
                Provider.ANTHROPIC, REDACTED_PREFIX + "EmwKAhgBEgy3va3pzix/LafPsn4aDFq"
            )
        ),
        TextPart("Let me look that up."),
        # The upstream saw web_lookup; the client named the tool web.lookup.
        ToolCallPart(
            "toolu_01Sr5pKqW3mJ8uYtVb2Nc4Xe",
            "web.lookup",
            '{"q":"2022 World Cup final score","limit":3}',
        ),
    ]
    assert response.finish is FinishReason.TOOL_CALLS
    assert response.usage == Usage(
        input_tokens=530 + 2048, output_tokens=240, cache_read_tokens=2048, reasoning_tokens=180
    )


@pytest.mark.parametrize(
    ("case", "finish", "stop_sequence"),
    [
        ("max_tokens", FinishReason.LENGTH, None),
        ("refusal", FinishReason.REFUSAL, None),
        ("stop_sequence", FinishReason.STOP_SEQUENCE, "###"),
        ("text", FinishReason.STOP, None),
    ],
)
def test_stop_reasons(case: str, finish: FinishReason, stop_sequence: str | None) -> None:
    response = decoded(case)
    assert (response.finish, response.stop_sequence) == (finish, stop_sequence)


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("pause_turn", FinishReason.PAUSE),
        ("model_context_window_exceeded", FinishReason.CONTEXT_OVERFLOW),
        ("something_new", FinishReason.STOP),
        (None, FinishReason.STOP),
    ],
)
def test_other_stop_reasons(stop_reason: str | None, finish: FinishReason) -> None:
    body = response_body("text") | {"stop_reason": stop_reason}
    assert decode_response(body, names=tool_names()).finish is finish


def test_a_tool_call_makes_the_finish_tool_calls_whatever_the_upstream_said() -> None:
    body = response_body("tool_use") | {"stop_reason": "end_turn"}
    assert decode_response(body, names=tool_names()).finish is FinishReason.TOOL_CALLS


def test_server_tool_blocks_are_dropped() -> None:
    body = response_body("text")
    body["content"] = [
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search"},
        *body["content"],
    ]
    assert decode_response(body, names=tool_names()).parts == [
        TextPart("Hello! The capital of France is Paris.")
    ]


@pytest.mark.parametrize("case", COMPLETE_STREAMS)
def test_a_folded_stream_equals_the_decoded_body(case: str) -> None:
    assert fold_events(decode_stream([stream_bytes(case)])) == decoded(case)


@pytest.mark.parametrize("case", STREAMS)
def test_streams_decode_the_same_split_at_every_byte(case: str) -> None:
    data = stream_bytes(case)
    whole = decode_stream([data])
    for cut in range(1, len(data)):
        assert decode_stream([data[:cut], data[cut:]]) == whole, f"split at {cut}"
    assert decode_stream([data[i : i + 1] for i in range(len(data))]) == whole


def test_the_tool_stream_event_by_event() -> None:
    events = decode_stream([stream_bytes("tool_use")])
    start = events[0]
    assert isinstance(start, StreamStart)
    # message_start usage already counts the prompt; message_delta completes it.
    assert start.usage == Usage(input_tokens=412, output_tokens=2)
    assert events[1:] == [
        PartStart(0, PartKind.TEXT),
        TextDelta(0, "I'll check both cities."),
        PartStop(0),
        PartStart(1, PartKind.TOOL_CALL, "toolu_01A09q90qw90lq917835lq9", "get_weather"),
        ToolArgsDelta(1, '{"city":"Paris","unit":"celsius"}'),
        PartStop(1),
        PartStart(2, PartKind.TOOL_CALL, "toolu_01B7hZ2mYpLk3Qw8Rt5Vx1Nc", "get_weather"),
        ToolArgsDelta(2, '{"city":"Rome","unit":"celsius"}'),
        PartStop(2),
        Finish(FinishReason.TOOL_CALLS),
        UsageReport(Usage(input_tokens=412, output_tokens=96)),
        StreamEnd(),
    ]


def test_the_thinking_stream_carries_signatures_and_redacted_data() -> None:
    events = decode_stream([stream_bytes("thinking")])
    assert events[1:6] == [
        PartStart(0, PartKind.REASONING),
        ReasoningDelta(0, "The user asks about the 2022 final."),
        ReasoningDelta(0, " I should search."),
        SignatureDelta(0, Signature(Provider.ANTHROPIC, "EqQBCkgIARABGAIiQL8Zp2m0r1VhQ2xvdWRz")),
        PartStop(0),
    ]
    redacted = Signature(Provider.ANTHROPIC, REDACTED_PREFIX + "EmwKAhgBEgy3va3pzix/LafPsn4aDFq")
    assert events[6:9] == [
        PartStart(1, PartKind.REASONING),
        SignatureDelta(1, redacted),
        PartStop(1),
    ]
    assert events[-2] == UsageReport(
        Usage(input_tokens=2578, output_tokens=240, cache_read_tokens=2048, reasoning_tokens=180)
    )


def test_an_in_band_error_ends_the_events() -> None:
    events = decode_stream([stream_bytes("overloaded")])
    assert events[1:] == [
        PartStart(0, PartKind.TEXT),
        TextDelta(0, "Partial ans"),
        StreamError(529, "overloaded_error", "Overloaded"),
    ]


def test_a_stream_cut_before_message_stop_ends_in_an_error() -> None:
    events = decode_stream([stream_bytes("truncated")])
    assert isinstance(events[0], StreamStart)
    assert events[1] == PartStart(0, PartKind.TOOL_CALL, "toolu_01Cut", "get_weather")
    assert len(events) == 3
    assert isinstance(events[2], StreamError)
    assert events[2].status == 502


def test_nothing_follows_the_end() -> None:
    data = stream_bytes("text")
    events = decode_stream([data, data])
    assert events == decode_stream([data])


def test_garbage_data_is_an_error() -> None:
    data = (
        stream_bytes("text").split(b"\n\n")[0] + b"\n\nevent: content_block_start\ndata: {nope\n\n"
    )
    events = decode_stream([data])
    assert isinstance(events[-1], StreamError)
    assert len(events) == 2


def test_input_in_the_start_block_counts_when_no_fragments_come() -> None:
    data = b"".join(
        b"event: " + name + b"\ndata: " + payload + b"\n\n"
        for name, payload in [
            (
                b"message_start",
                b'{"type":"message_start","message":{"id":"msg_1","model":"c","usage":{"input_tokens":3,"output_tokens":1}}}',
            ),
            (
                b"content_block_start",
                b'{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}}}',
            ),
            (b"content_block_stop", b'{"type":"content_block_stop","index":0}'),
            (
                b"message_delta",
                b'{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":5}}',
            ),
            (b"message_stop", b'{"type":"message_stop"}'),
        ]
    )
    response = fold_events(decode_stream([data]))
    assert response.parts == [ToolCallPart("toolu_1", "f", '{"a":1}')]
    assert response.usage == Usage(input_tokens=3, output_tokens=5)


@pytest.mark.parametrize("case", RESPONSES)
def test_every_response_fixture_has_its_stream(case: str) -> None:
    assert case in COMPLETE_STREAMS


def test_refusal_parts_are_not_produced_from_text() -> None:
    # Messages refuses with a stop reason; its text stays text.
    assert not any(isinstance(part, RefusalPart) for part in decoded("refusal").parts)
