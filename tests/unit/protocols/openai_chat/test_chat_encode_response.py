"""Canonical replies as Chat bodies and chunk streams, read back by the official OpenAI SDK."""

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from openai import APIError, OpenAI
from openai._streaming import Stream
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletion, ChatCompletionChunk

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
from app.protocols.openai_chat.decode import decode_request, decode_response
from app.protocols.openai_chat.encode import ChatStreamEncoder, encode_response
from tests.unit.protocols.openai_chat.chat_cases import RESPONSES, response_body

GEMINI_SIGNATURE = Signature(Provider.GEMINI, "Cg4Gemini/sig==")
USAGE = Usage(
    input_tokens=1000,
    output_tokens=70,
    cache_read_tokens=600,
    cache_write_tokens=300,
    reasoning_tokens=20,
)

EVERY_KIND = Response(
    id="chatcmpl-all",
    model="client-model",
    created=1700000000,
    parts=[
        ReasoningPart("Plan: look it up.", Signature(Provider.ANTHROPIC, "anthropic-sig")),
        TextPart("Let me check."),
        ToolCallPart("toolu_01", "get_weather", '{"city":"Paris"}'),
        ReasoningPart("", GEMINI_SIGNATURE),
        TextPart(" Also this."),
        ToolCallPart("call_g1", "search", '{"q":"x"}', GEMINI_SIGNATURE),
        RefusalPart("Not the rest."),
    ],
    finish=FinishReason.STOP,
    usage=USAGE,
)


@pytest.fixture(scope="module")
def client() -> Iterator[OpenAI]:
    with OpenAI(api_key="test", base_url="http://gateway.test/v1") as sdk:
        yield sdk


def sdk_chunks(client: OpenAI, data: bytes) -> list[ChatCompletionChunk]:
    """The chunks the OpenAI SDK's own stream reader yields for ``data``."""
    request = httpx2.Request("POST", "http://gateway.test/v1/chat/completions")
    response = httpx2.Response(200, content=data, request=request)
    return list(Stream(cast_to=ChatCompletionChunk, response=response, client=client))


def accumulate(chunks: list[ChatCompletionChunk]) -> Any:
    """The SDK's accumulated completion (its ``get_final_completion`` refuses to
    parse length and content-filter finishes, so read the snapshot)."""
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState()
    for chunk in chunks:
        state.handle_chunk(chunk)
    return state.current_completion_snapshot


def calls(message: Any) -> list[tuple[str, str, str, str]]:
    return [
        (call.id, call.type, call.function.name, call.function.arguments)
        for call in message.tool_calls or []
    ]


def stream(events: list[StreamEvent], *, include_usage: bool = True) -> bytes:
    encoder = ChatStreamEncoder(include_usage=include_usage)
    return b"".join(encoder.encode(event) for event in events)


def payloads(data: bytes) -> list[Any]:
    return [json.loads(line[6:]) for line in data.split(b"\n\n") if line.startswith(b"data: {")]


def test_body_with_every_part_kind_validates_and_reads_right() -> None:
    completion = ChatCompletion.model_validate_json(encode_response(EVERY_KIND))
    assert completion.id == "chatcmpl-all"
    assert completion.model == "client-model"
    (choice,) = completion.choices
    assert choice.finish_reason == "tool_calls"  # a call was emitted, whatever the upstream said
    assert choice.message.content == "Let me check. Also this."
    assert choice.message.refusal == "Not the rest."
    assert getattr(choice.message, "reasoning_content") == "Plan: look it up."  # noqa: B009
    calls = choice.message.tool_calls or []
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [  # type: ignore[union-attr]
        ("toolu_01", "get_weather", '{"city":"Paris"}'),
        ("call_g1~swy1.gemini.Cg4Gemini/sig==", "search", '{"q":"x"}'),
    ]
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 1000
    assert completion.usage.completion_tokens == 70
    assert completion.usage.total_tokens == 1070
    assert completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cached_tokens == 600
    assert completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens == 20
    assert b"anthropic-sig" not in encode_response(EVERY_KIND)  # no Chat field echoes it


@pytest.mark.parametrize("case", RESPONSES)
def test_every_decoded_fixture_encodes_to_a_valid_body(case: str) -> None:
    response = decode_response(response_body(case), names=openai_names())
    completion = ChatCompletion.model_validate_json(encode_response(response))
    message = completion.choices[0].message
    assert (message.content or "") == response.text
    assert len(message.tool_calls or []) == len(response.tool_calls)
    if response.tool_calls:
        assert message.content is None or message.content != ""


def test_content_is_null_beside_calls_and_empty_without_anything() -> None:
    only_call = Response("r", "m", 1, [ToolCallPart("c", "f")])
    assert json.loads(encode_response(only_call))["choices"][0]["message"]["content"] is None
    empty = json.loads(encode_response(Response("r", "m", 1)))["choices"][0]
    assert empty["message"]["content"] == ""
    assert empty["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("finish", "expected"),
    [
        (FinishReason.LENGTH, "length"),
        (FinishReason.CONTENT_FILTER, "content_filter"),
        (FinishReason.REFUSAL, "content_filter"),
        (FinishReason.PAUSE, "stop"),
        (FinishReason.CONTEXT_OVERFLOW, "length"),
        (FinishReason.STOP_SEQUENCE, "stop"),
    ],
)
def test_finish_reasons_are_the_five_literals(finish: FinishReason, expected: str) -> None:
    body = encode_response(Response("r", "m", 1, [TextPart("x")], finish=finish))
    assert ChatCompletion.model_validate_json(body).choices[0].finish_reason == expected


def test_a_carried_call_signature_comes_back_on_the_next_turn() -> None:
    message = json.loads(encode_response(EVERY_KIND))["choices"][0]["message"]
    echoed = {
        "role": "assistant",
        "content": message["content"],
        "tool_calls": message["tool_calls"],
    }
    request = decode_request(
        {
            "model": "m",
            "messages": [
                {"role": "user", "content": "go"},
                echoed,
                {"role": "tool", "tool_call_id": message["tool_calls"][1]["id"], "content": "ok"},
            ],
        }
    )
    calls = [part for part in request.messages[1].parts if isinstance(part, ToolCallPart)]
    assert calls[1] == ToolCallPart("call_g1", "search", '{"q":"x"}', GEMINI_SIGNATURE)
    assert calls[0].signature is None
    assert request.messages[2].parts[0].call_id == "call_g1"  # type: ignore[union-attr]


def test_stream_of_every_part_kind_accumulates_to_the_body(client: OpenAI) -> None:
    data = stream(response_events(EVERY_KIND))
    chunks = sdk_chunks(client, data)
    final = accumulate(chunks)
    body = ChatCompletion.model_validate_json(encode_response(EVERY_KIND))
    (choice,) = final.choices
    assert choice.finish_reason == body.choices[0].finish_reason
    assert choice.message.content == body.choices[0].message.content
    assert choice.message.refusal == body.choices[0].message.refusal
    assert getattr(choice.message, "reasoning_content") == "Plan: look it up."  # noqa: B009
    assert calls(choice.message) == calls(body.choices[0].message)
    assert final.usage == body.usage
    assert data.endswith(b"data: [DONE]\n\n")


@pytest.mark.parametrize("case", RESPONSES)
def test_fake_streaming_each_fixture_accumulates_to_its_body(client: OpenAI, case: str) -> None:
    response = decode_response(response_body(case), names=openai_names())
    final = accumulate(sdk_chunks(client, stream(response_events(response))))
    body = ChatCompletion.model_validate_json(encode_response(response))
    # The role chunk opens content with "" (PROTOCOLS.md 8.2): "" where the body has null.
    assert (final.choices[0].message.content or None) == body.choices[0].message.content
    assert final.choices[0].message.refusal == body.choices[0].message.refusal
    assert final.choices[0].finish_reason == body.choices[0].finish_reason
    assert calls(final.choices[0].message) == calls(body.choices[0].message)
    assert final.usage == body.usage


def test_role_once_dense_indices_and_id_name_type_only_in_the_first_fragment() -> None:
    # An Anthropic-style stream: text, a call streamed in fragments (the first
    # one empty) at canonical index 1, text after it, then a second call.
    events: list[StreamEvent] = [
        StreamStart("msg_1", "m", 5),
        PartStart(0),
        TextDelta(0, "Hi"),
        PartStop(0),
        PartStart(1, PartKind.TOOL_CALL, "toolu_a", "f"),
        ToolArgsDelta(1, ""),
        ToolArgsDelta(1, '{"a"'),
        ToolArgsDelta(1, ":1}"),
        PartStop(1),
        PartStart(2, PartKind.REASONING),
        ReasoningDelta(2, "hmm"),
        PartStop(2),
        PartStart(3),
        TextDelta(3, " more"),
        PartStop(3),
        PartStart(4, PartKind.TOOL_CALL, "toolu_b", "g"),
        ToolArgsDelta(4, "{}"),
        PartStop(4),
        Finish(FinishReason.STOP),
        UsageReport(Usage()),
        StreamEnd(),
    ]
    chunks = payloads(stream(events))
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert sum("role" in d for d in deltas) == 1
    fragments = [f for d in deltas for f in d.get("tool_calls", [])]
    assert [f["index"] for f in fragments] == [0, 0, 1]
    assert [("id" in f, "type" in f, "name" in f["function"]) for f in fragments] == [
        (True, True, True),
        (False, False, False),
        (True, True, True),
    ]
    assert (
        fragments[0]["function"]["arguments"] + fragments[1]["function"]["arguments"] == '{"a":1}'
    )
    assert chunks[-2]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "tool_calls",
    }
    assert chunks[-1]["usage"]["total_tokens"] == 0  # usage may be zero: still a valid chunk


def test_a_whole_call_with_a_signature_carries_it_in_the_id(client: OpenAI) -> None:
    events: list[StreamEvent] = [
        StreamStart("r", "m", 1),
        PartStart(0, PartKind.TOOL_CALL, "call_g", "f"),
        ToolArgsDelta(0, '{"x":1}'),
        SignatureDelta(0, GEMINI_SIGNATURE),
        PartStop(0),
        Finish(FinishReason.STOP),
        UsageReport(Usage(input_tokens=1)),
        StreamEnd(),
    ]
    final = accumulate(sdk_chunks(client, stream(events)))
    (call,) = final.choices[0].message.tool_calls
    assert call.id == "call_g~swy1.gemini.Cg4Gemini/sig=="
    assert call.function.arguments == '{"x":1}'


def test_usage_chunk_only_when_asked() -> None:
    events = response_events(Response("r", "m", 1, [TextPart("x")], usage=USAGE))
    with_usage = payloads(stream(events, include_usage=True))
    assert with_usage[-1]["choices"] == []
    assert with_usage[-1]["usage"]["prompt_tokens"] == 1000
    without = stream(events, include_usage=False)
    assert b'"usage"' not in without
    assert without.endswith(b"data: [DONE]\n\n")


def test_stream_error_is_in_band_and_ends_the_stream(client: OpenAI) -> None:
    encoder = ChatStreamEncoder(include_usage=True)
    opening: list[StreamEvent] = [StreamStart("r", "m", 1), PartStart(0), TextDelta(0, "par")]
    data = b"".join(encoder.encode(event) for event in opening)
    data += encoder.encode(StreamError(529, "overloaded_error", "Overloaded"))
    assert encoder.encode(StreamEnd()) == b""
    assert b"[DONE]" not in data
    with pytest.raises(APIError, match="Overloaded"):
        sdk_chunks(client, data)
    error = payloads(data)[-1]["error"]
    assert error == {
        "message": "Overloaded",
        "type": "server_error",
        "param": None,
        "code": "overloaded_error",
    }


def test_stream_error_before_any_start_and_its_type() -> None:
    data = ChatStreamEncoder(include_usage=False).encode(StreamError(429, "rate_limit", "slow"))
    assert payloads(data) == [
        {
            "error": {
                "message": "slow",
                "type": "rate_limit_error",
                "param": None,
                "code": "rate_limit",
            }
        }
    ]
