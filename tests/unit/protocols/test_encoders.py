"""Encoders against the gateway's own readers: what one writes, the other reads back."""

import json
from typing import Any

import pytest

from app.canonical.content import TextPart
from app.canonical.protocol import WireProtocol
from app.canonical.response import (
    FinishReason,
    PartKind,
    PartStart,
    ReasoningDelta,
    Response,
    StreamStart,
    TextDelta,
    response_events,
)
from app.canonical.usage import Usage
from app.core.sse import event_data, split_events
from app.protocols.anthropic.encode import MessagesStreamEncoder
from app.protocols.anthropic.encode import encode_response as anthropic_body
from app.protocols.gemini.encode import GeminiStreamEncoder
from app.protocols.gemini.encode import encode_response as gemini_body
from app.protocols.openai_chat.encode import ChatStreamEncoder
from app.protocols.openai_chat.encode import encode_response as chat_body
from app.protocols.openai_responses.encode import ResponsesStreamEncoder
from app.protocols.openai_responses.encode import encode_response as responses_body
from app.services.wires import BODY_USAGE, stream_tap

REPLY = Response(
    id="r1",
    model="m",
    created=1,
    parts=[TextPart("Hello"), TextPart(" world")],
    finish=FinishReason.LENGTH,
    usage=Usage(
        input_tokens=1000,
        output_tokens=70,
        cache_read_tokens=600,
        cache_write_tokens=300,
        reasoning_tokens=20,
    ),
)


def body(protocol: WireProtocol) -> bytes:
    if protocol is WireProtocol.OPENAI_CHAT:
        return chat_body(REPLY)
    if protocol is WireProtocol.OPENAI_RESPONSES:
        return responses_body(REPLY, {})
    if protocol is WireProtocol.ANTHROPIC:
        return anthropic_body(REPLY)
    return gemini_body(REPLY)


def stream(protocol: WireProtocol) -> bytes:
    encoder: Any
    if protocol is WireProtocol.OPENAI_CHAT:
        encoder = ChatStreamEncoder(include_usage=True)
    elif protocol is WireProtocol.OPENAI_RESPONSES:
        encoder = ResponsesStreamEncoder({})
    elif protocol is WireProtocol.ANTHROPIC:
        encoder = MessagesStreamEncoder()
    else:
        encoder = GeminiStreamEncoder(sse=True)
    return b"".join(encoder.encode(event) for event in response_events(REPLY))


def streamed_text(protocol: WireProtocol, data: bytes) -> str:
    texts = []
    for event in split_events(data):
        raw = event_data(event)
        if raw == b"[DONE]":
            continue
        payload = json.loads(raw)
        if protocol is WireProtocol.OPENAI_CHAT:
            texts += [c["delta"].get("content") or "" for c in payload["choices"]]
        elif protocol is WireProtocol.OPENAI_RESPONSES:
            if payload["type"] == "response.output_text.delta":
                texts.append(payload["delta"])
        elif protocol is WireProtocol.ANTHROPIC:
            if payload["type"] == "content_block_delta":
                texts.append(payload["delta"]["text"])
        else:
            for candidate in payload["candidates"]:
                texts += [p["text"] for p in candidate.get("content", {}).get("parts", [])]
    return "".join(texts)


# Anthropic cannot carry reasoning tokens apart; Gemini cannot carry cache writes.
LOST = {
    WireProtocol.ANTHROPIC: {"reasoning_tokens"},
    WireProtocol.GEMINI: {"cache_write_tokens"},
}


def expected_usage(protocol: WireProtocol) -> Usage:
    usage = Usage(**{k: getattr(REPLY.usage, k) for k in Usage.__slots__})
    if "reasoning_tokens" in LOST.get(protocol, ()):
        usage.reasoning_tokens = 0
    if "cache_write_tokens" in LOST.get(protocol, ()):
        usage.cache_write_tokens = 0  # still counted in the input total
    return usage


@pytest.mark.parametrize("protocol", list(WireProtocol))
def test_response_body_usage_reads_back(protocol: WireProtocol) -> None:
    assert BODY_USAGE[protocol](body(protocol)) == expected_usage(protocol)


@pytest.mark.parametrize("protocol", list(WireProtocol))
def test_stream_folds_to_the_same_text_and_usage_as_the_body(protocol: WireProtocol) -> None:
    data = stream(protocol)
    tap = stream_tap(protocol, hide_usage_chunk=False, gemini_sse=True)
    assert tap.feed(data) + tap.finish() == data
    assert tap.usage() == BODY_USAGE[protocol](body(protocol))
    assert streamed_text(protocol, data) == REPLY.text


def test_chat_stream_sends_role_once_and_usage_only_when_asked() -> None:
    without = b"".join(
        ChatStreamEncoder(include_usage=False).encode(e) for e in response_events(REPLY)
    )
    assert without.count(b'"role"') == 1
    assert b'"usage"' not in without
    assert without.endswith(b"data: [DONE]\n\n")


def test_responses_stream_numbers_events_and_ends_incomplete_on_length() -> None:
    events = [
        json.loads(event_data(e)) for e in split_events(stream(WireProtocol.OPENAI_RESPONSES))
    ]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert events[-1]["response"]["output"] == done


def test_anthropic_stream_block_indices_follow_emission_order() -> None:
    events = [json.loads(event_data(e)) for e in split_events(stream(WireProtocol.ANTHROPIC))]
    starts = [e["index"] for e in events if e["type"] == "content_block_start"]
    assert starts == [0, 1]
    assert events[0]["type"] == "message_start"
    assert events[-1]["type"] == "message_stop"
    delta = next(e for e in events if e["type"] == "message_delta")
    assert delta["delta"]["stop_reason"] == "max_tokens"


def test_anthropic_text_and_thinking_deltas_are_exact_json_whatever_the_text() -> None:
    awkward = 'quote " backslash \\ newline \n tab \t nul \x00 é 漢 🚀 </script>'
    encoder = MessagesStreamEncoder()
    frames = encoder.encode(StreamStart("m1", "model", 1))
    frames += encoder.encode(PartStart(0, PartKind.REASONING))
    frames += encoder.encode(ReasoningDelta(0, awkward))
    frames += encoder.encode(PartStart(1))
    frames += encoder.encode(TextDelta(1, awkward))
    frames += encoder.encode(TextDelta(1, "more"))
    deltas = [
        (event.split(b"\n", 1)[0], json.loads(event_data(event)))
        for event in split_events(frames)
        if b"content_block_delta" in event.split(b"\n", 1)[0]
    ]
    assert deltas == [
        (
            b"event: content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": awkward},
            },
        ),
        (
            b"event: content_block_delta",
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "text_delta", "text": awkward},
            },
        ),
        (
            b"event: content_block_delta",
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "text_delta", "text": "more"},
            },
        ),
    ]


def test_chat_text_chunks_are_exact_json_whatever_the_text() -> None:
    awkward = 'quote " backslash \\ newline \n nul \x00 é 漢 🚀'
    encoder = ChatStreamEncoder(include_usage=False)
    # A delta before any start still makes a whole chunk (no id prefix yet).
    early = json.loads(event_data(encoder.encode(TextDelta(0, "early"))))
    frames = encoder.encode(StreamStart("c1", "model", 7))
    frames += encoder.encode(PartStart(0, PartKind.REASONING))
    frames += encoder.encode(ReasoningDelta(0, awkward))
    frames += encoder.encode(PartStart(1, PartKind.REFUSAL))
    frames += encoder.encode(TextDelta(1, awkward))
    frames += encoder.encode(PartStart(2))
    frames += encoder.encode(TextDelta(2, awkward))
    chunks = [json.loads(event_data(event)) for event in split_events(frames)]
    prefix = {"id": "c1", "object": "chat.completion.chunk", "created": 7, "model": "model"}

    def chunk(delta: dict[str, str]) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
        return {**prefix, "choices": [choice]}

    assert early == {
        "choices": [
            {"index": 0, "delta": {"content": "early"}, "logprobs": None, "finish_reason": None}
        ]
    }
    assert chunks == [
        chunk({"role": "assistant", "content": ""}),
        chunk({"reasoning_content": awkward}),
        chunk({"refusal": awkward}),
        chunk({"content": awkward}),
    ]
