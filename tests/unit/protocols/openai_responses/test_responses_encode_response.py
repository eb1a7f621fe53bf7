"""Canonical replies rendered for Responses clients, checked with the official OpenAI SDK."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.responses import Response as SDKResponse

from app.canonical.content import (
    Part,
    Provider,
    ReasoningPart,
    RefusalPart,
    Signature,
    TextPart,
    ToolCallPart,
    carry,
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
from app.protocols.openai_responses.decode import decode_request, decode_response
from app.protocols.openai_responses.encode import (
    ResponsesStreamEncoder,
    encode_response,
    stream_failure,
)
from tests.unit.protocols.openai_responses.responses_cases import (
    RESPONSES,
    request_body,
    response_body,
    sse_payloads,
)

CODEX = request_body("codex")
PATCH = "*** Begin Patch\n*** Update File: a.txt\n-a\n+b\n*** End Patch\n"
GEMINI_SIG = Signature(Provider.GEMINI, "CiQBgeminisig")
USAGE = Usage(
    input_tokens=900,
    output_tokens=120,
    cache_read_tokens=512,
    cache_write_tokens=64,
    reasoning_tokens=80,
)

EVERY_PART: list[Part] = [
    ReasoningPart("Thinking it over.", Signature(Provider.OPENAI, "gAAAA-native")),
    ReasoningPart("Claude's thought.", Signature(Provider.ANTHROPIC, "EqQBsig")),
    ReasoningPart(redacted="EmwKredacted"),
    TextPart("Here is the plan."),
    RefusalPart("I won't do the other thing."),
    ToolCallPart("call_1", "shell", '{"command":["ls"]}'),
    ToolCallPart("call_2", "apply_patch", json.dumps({"input": PATCH})),
    ToolCallPart("call_3", "shell", "{}", signature=GEMINI_SIG),
]


def reply(parts: list[Part], finish: FinishReason = FinishReason.TOOL_CALLS) -> Response:
    return Response("resp_abc", "gpt-5-codex", 1756300000, parts, finish, usage=USAGE)


def body(response: Response, request: dict[str, Any] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(
        encode_response(response, CODEX if request is None else request)
    )
    return result


def stream(events: list[StreamEvent], request: dict[str, Any] | None = None) -> bytes:
    encoder = ResponsesStreamEncoder(CODEX if request is None else request)
    return b"".join(encoder.encode(event) for event in events)


def sdk_events(data: bytes) -> Iterator[Any]:
    """The stream read by the official SDK, through its SSE parser and stream state."""
    transport = httpx.MockTransport(
        lambda _request: httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=data
        )
    )
    with httpx.Client(transport=transport) as http:
        client = openai.OpenAI(api_key="test", base_url="http://gateway.test/v1", http_client=http)
        with client.responses.stream(model="gpt-5-codex", input="hi") as events:
            yield from events


def sdk_final(data: bytes) -> SDKResponse:
    transport = httpx.MockTransport(
        lambda _request: httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=data
        )
    )
    with httpx.Client(transport=transport) as http:
        client = openai.OpenAI(api_key="test", base_url="http://gateway.test/v1", http_client=http)
        with client.responses.stream(model="gpt-5-codex", input="hi") as events:
            return events.get_final_response()


def without_ids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k != "id"} for item in items]


# Non-stream bodies


def test_every_part_kind_as_output_items_the_sdk_accepts() -> None:
    encoded = body(reply(EVERY_PART))
    SDKResponse.model_validate(encoded)
    assert encoded["status"] == "completed"
    assert without_ids(encoded["output"]) == [
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "Thinking it over."}],
            "encrypted_content": "gAAAA-native",
        },
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "Claude's thought."}],
            "encrypted_content": carry(Signature(Provider.ANTHROPIC, "EqQBsig")),
        },
        {
            "type": "reasoning",
            "summary": [],
            "encrypted_content": "swy1.anthropic.redacted.EmwKredacted",
        },
        {
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [
                {
                    "type": "output_text",
                    "text": "Here is the plan.",
                    "annotations": [],
                    "logprobs": [],
                }
            ],
        },
        {
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "refusal", "refusal": "I won't do the other thing."}],
        },
        {
            "type": "function_call",
            "status": "completed",
            "call_id": "call_1",
            "name": "shell",
            "arguments": '{"command":["ls"]}',
        },
        # apply_patch is a custom tool in the client's request: back as custom_tool_call.
        {"type": "custom_tool_call", "call_id": "call_2", "name": "apply_patch", "input": PATCH},
        # The Gemini call signature rides on an empty reasoning item right before the call.
        {"type": "reasoning", "summary": [], "encrypted_content": carry(GEMINI_SIG)},
        {
            "type": "function_call",
            "status": "completed",
            "call_id": "call_3",
            "name": "shell",
            "arguments": "{}",
        },
    ]
    prefixes = [item["id"].split("_")[0] for item in encoded["output"]]
    assert prefixes == ["rs", "rs", "rs", "msg", "msg", "fc", "ctc", "rs", "fc"]
    assert encoded["usage"] == {
        "input_tokens": 900,
        "input_tokens_details": {"cache_write_tokens": 64, "cached_tokens": 512},
        "output_tokens": 120,
        "output_tokens_details": {"reasoning_tokens": 80},
        "total_tokens": 1020,
    }
    assert (encoded["id"], encoded["model"], encoded["created_at"]) == (
        "resp_abc",
        "gpt-5-codex",
        1756300000,
    )


def test_echoed_items_decode_back_to_the_same_opaque_state() -> None:
    """Codex sends the output items back as input: every signature must survive."""
    items = body(reply(EVERY_PART))["output"]
    request = decode_request({"model": "gpt-5-codex", "input": items, "tools": CODEX["tools"]})
    (turn,) = request.messages
    assert turn.parts == [
        ReasoningPart(
            "Thinking it over.", Signature(Provider.OPENAI, "gAAAA-native"), item_id=items[0]["id"]
        ),
        ReasoningPart(
            "Claude's thought.", Signature(Provider.ANTHROPIC, "EqQBsig"), item_id=items[1]["id"]
        ),
        ReasoningPart(redacted="EmwKredacted", item_id=items[2]["id"]),
        TextPart("Here is the plan."),
        RefusalPart("I won't do the other thing."),
        ToolCallPart("call_1", "shell", '{"command":["ls"]}'),
        ToolCallPart("call_2", "apply_patch", json.dumps({"input": PATCH}, separators=(",", ":"))),
        ReasoningPart(signature=GEMINI_SIG, item_id=items[7]["id"]),
        ToolCallPart("call_3", "shell", "{}"),
    ]


@pytest.mark.parametrize(
    ("finish", "status", "details"),
    [
        (FinishReason.STOP, "completed", None),
        (FinishReason.LENGTH, "incomplete", {"reason": "max_output_tokens"}),
        (FinishReason.CONTENT_FILTER, "incomplete", {"reason": "content_filter"}),
        (FinishReason.REFUSAL, "completed", None),
        (FinishReason.ERROR, "failed", None),
    ],
)
def test_finish_reasons_become_status(finish: FinishReason, status: str, details: Any) -> None:
    encoded = body(reply([TextPart("x")], finish), {})
    SDKResponse.model_validate(encoded)
    assert (encoded["status"], encoded["incomplete_details"]) == (status, details)
    assert (encoded["error"] is not None) is (status == "failed")


def test_custom_call_without_a_custom_tool_declared_stays_a_function_call() -> None:
    (item,) = body(reply([EVERY_PART[6]]), {})["output"]
    assert item["type"] == "function_call"


@pytest.mark.parametrize("case", RESPONSES)
def test_upstream_fixtures_render_for_the_sdk(case: str) -> None:
    decoded = decode_response(response_body(case), names=openai_names())
    SDKResponse.model_validate(body(decoded, {}))


# Streams


@pytest.mark.parametrize("case", RESPONSES)
def test_fixture_replies_stream_in_a_form_the_sdk_accepts(case: str) -> None:
    decoded = decode_response(response_body(case), names=openai_names())
    data = stream(response_events(decoded), {})
    events = list(sdk_events(data))
    payloads = sse_payloads(data)
    assert [e.type for e in events] == [p["type"] for p in payloads]
    assert [p["sequence_number"] for p in payloads] == list(range(len(payloads)))
    terminal = payloads[-1]
    expected = {
        FinishReason.LENGTH: "response.incomplete",
        FinishReason.CONTENT_FILTER: "response.incomplete",
    }.get(decoded.finish, "response.completed")
    assert terminal["type"] == expected
    done = [p["item"] for p in payloads if p["type"] == "response.output_item.done"]
    assert terminal["response"]["output"] == done
    assert without_ids(done) == without_ids(body(decoded, {})["output"])


def test_every_part_kind_streams_and_the_sdk_final_response_matches_the_body() -> None:
    # Stream events have no way to say "redacted" (canonical PartStart/SignatureDelta
    # carry no redacted data), so Anthropic redacted thinking only survives non-stream.
    response = reply([part for part in EVERY_PART if not getattr(part, "redacted", None)])
    data = stream(response_events(response))
    final = sdk_final(data)
    payloads = sse_payloads(data)
    assert final.status == "completed"
    assert final.usage is not None and final.usage.output_tokens_details.reasoning_tokens == 80
    expected = without_ids(body(response)["output"])
    assert [item.type for item in final.output] == [item["type"] for item in expected]
    assert without_ids(payloads[-1]["response"]["output"]) == expected
    names = [p["type"] for p in payloads]
    assert names.count("response.custom_tool_call_input.delta") == 1
    assert names.count("response.function_call_arguments.done") == 2
    assert names.count("response.reasoning_summary_part.added") == 2  # not for empty reasoning
    assert names.count("response.refusal.delta") == 1
    _assert_items_closed_in_order(payloads)


def _assert_items_closed_in_order(payloads: list[dict[str, Any]]) -> None:
    open_index = None
    for payload in payloads:
        if payload["type"] == "response.output_item.added":
            assert open_index is None, "an item opened while another is open"
            open_index = payload["output_index"]
        elif payload["type"] == "response.output_item.done":
            assert payload["output_index"] == open_index
            open_index = None
        elif "output_index" in payload:
            assert payload["output_index"] == open_index


def test_foreign_event_patterns() -> None:
    """Text after a tool call, reasoning between texts, args in fragments, zero usage."""
    events: list[StreamEvent] = [
        StreamStart("msg_01anthropic", "claude-sonnet-4-6", 5),
        PartStart(0, PartKind.TEXT),
        TextDelta(0, "Let me"),
        TextDelta(0, " look."),
        PartStop(0),
        PartStart(1, PartKind.TOOL_CALL, "toolu_01", "shell"),
        ToolArgsDelta(1, ""),
        ToolArgsDelta(1, '{"command":'),
        ToolArgsDelta(1, '["ls"]}'),
        PartStop(1),
        PartStart(2, PartKind.REASONING),
        ReasoningDelta(2, "Hmm."),
        SignatureDelta(2, Signature(Provider.ANTHROPIC, "sig")),
        PartStop(2),
        PartStart(3, PartKind.TEXT),
        TextDelta(3, "Done."),
        PartStop(3),
        Finish(FinishReason.TOOL_CALLS),
        UsageReport(Usage()),
        StreamEnd(),
    ]
    data = stream(events)
    final = sdk_final(data)
    assert [item.type for item in final.output] == [
        "message",
        "function_call",
        "reasoning",
        "message",
    ]
    call = final.output[1]
    assert call.type == "function_call"
    assert (call.call_id, call.arguments) == ("toolu_01", '{"command":["ls"]}')
    reasoning = final.output[2]
    assert reasoning.type == "reasoning"
    assert reasoning.encrypted_content == "swy1.anthropic.sig"
    assert final.usage is not None and final.usage.total_tokens == 0
    assert final.id == "msg_01anthropic"


def test_gemini_signed_call_gets_its_carrier_item_first() -> None:
    call = ToolCallPart("call_g", "shell", '{"a":1}', signature=GEMINI_SIG)
    payloads = sse_payloads(stream(response_events(reply([call]))))
    done = [p["item"] for p in payloads if p["type"] == "response.output_item.done"]
    assert [item["type"] for item in done] == ["reasoning", "function_call"]
    assert done[0]["encrypted_content"] == carry(GEMINI_SIG)


def test_custom_tool_call_streams_its_input() -> None:
    call = ToolCallPart("call_p", "apply_patch", json.dumps({"input": PATCH}))
    data = stream(response_events(reply([call])))
    payloads = sse_payloads(data)
    delta = next(p for p in payloads if p["type"] == "response.custom_tool_call_input.delta")
    assert delta["delta"] == PATCH
    final = sdk_final(data)
    (item,) = final.output
    assert item.type == "custom_tool_call" and item.input == PATCH


def test_stream_error_mid_part_ends_with_error_and_response_failed() -> None:
    encoder = ResponsesStreamEncoder({})
    frames = b"".join(
        encoder.encode(e)
        for e in [
            StreamStart("resp_1", "m", 1),
            PartStart(0),
            TextDelta(0, "Hel"),
            PartStop(0),
            PartStart(1),
            TextDelta(1, "lo"),
            StreamError(529, "overloaded", "Overloaded"),
        ]
    )
    assert encoder.encode(StreamEnd()) == b""  # nothing after the terminal event
    payloads = sse_payloads(frames)
    assert [p["type"] for p in payloads[-2:]] == ["error", "response.failed"]
    assert payloads[-2] == {
        "type": "error",
        "sequence_number": len(payloads) - 2,
        "code": "overloaded",
        "message": "Overloaded",
        "param": None,
    }
    failed = payloads[-1]["response"]
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "server_error", "message": "Overloaded"}
    assert [item["content"][0]["text"] for item in failed["output"]] == ["Hel"]
    SDKResponse.model_validate(failed)
    assert [e.type for e in sdk_events(frames)][-2:] == ["error", "response.failed"]


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("rate_limit", "rate_limit_exceeded"),
        ("rate_limit_exceeded", "rate_limit_exceeded"),
        ("context_length_exceeded", "context_length_exceeded"),
        ("timeout", "server_error"),
    ],
)
def test_failure_codes_clients_classify(kind: str, code: str) -> None:
    payloads = sse_payloads(
        stream_failure("resp_9", "m", {}, next_sequence=12, code=kind, message="x")
    )
    assert [p["sequence_number"] for p in payloads] == [12, 13]
    assert payloads[0]["code"] == kind
    assert payloads[1]["response"]["id"] == "resp_9"
    assert payloads[1]["response"]["error"]["code"] == code


def test_length_finish_ends_with_response_incomplete_and_error_finish_with_failed() -> None:
    for finish, name in [
        (FinishReason.LENGTH, "response.incomplete"),
        (FinishReason.ERROR, "response.failed"),
    ]:
        payloads = sse_payloads(stream(response_events(reply([TextPart("x")], finish)), {}))
        assert payloads[-1]["type"] == name
        SDKResponse.model_validate(payloads[-1]["response"])


def test_empty_reply_still_completes() -> None:
    final = sdk_final(stream(response_events(reply([], FinishReason.STOP)), {}))
    assert (final.status, final.output) == ("completed", [])
