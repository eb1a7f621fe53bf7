"""Failures reach the client in its own protocol's shape, with the right status: the
gateway's own refusals, upstream trouble, upstream error replies, and streams that break."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from google.genai import errors as genai_errors

from tests.e2e.clients import (
    ANTHROPIC,
    ANTHROPIC_HEADERS,
    CHAT,
    GEMINI,
    RESPONSES,
    WIRES,
    Wire,
    anthropic_client,
    assert_error_shape,
    bearer,
    error_kind,
    genai_client,
    only_request,
    openai_client,
    post,
    split_every,
)
from tests.e2e.harness import CLIENT_KEY, Gateway
from tests.e2e.streams import (
    ANTHROPIC_EVENTS,
    CHAT_FRAMES,
    data_frame,
    gemini_array,
    gemini_chunks,
    named_frame,
    responses_events,
)
from tests.fake_upstream import FakeUpstream

pytestmark = pytest.mark.e2e

_WIRE_IDS = [wire.name for wire in WIRES]
_COUNT_TOKENS_PATH = "/v1/messages/count_tokens"
_GEMINI_COUNT_PATH = "/v1beta/models/gemini-test:countTokens"


# --- The gateway's own refusals ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        (CHAT.path(), "openai"),
        (RESPONSES.path(), "openai"),
        (ANTHROPIC.path(), "anthropic"),
        (_COUNT_TOKENS_PATH, "anthropic"),
        (GEMINI.path(), "gemini"),
        (GEMINI.path(stream=True), "gemini"),
        (_GEMINI_COUNT_PATH, "gemini"),
    ],
)
@pytest.mark.parametrize(
    ("body", "wording"),
    [(b'{"model": "gpt-test", "messages": [', "not valid JSON"), (b"[1, 2]", "JSON object")],
    ids=["truncated", "array"],
)
def test_malformed_body_is_400(
    upstream: FakeUpstream, http: httpx.Client, path: str, shape: str, body: bytes, wording: str
) -> None:
    headers = {"x-api-key": CLIENT_KEY, "content-type": "application/json"}
    response = http.post(path, content=body, headers=headers)
    assert wording in assert_error_shape(response, shape, 400)
    assert error_kind(response, shape) in {"invalid_request_error", "INVALID_ARGUMENT"}
    assert upstream.requests() == []


@pytest.mark.parametrize(
    ("path", "shape", "body", "field"),
    [
        (CHAT.path(), "openai", {"model": "gpt-test"}, "messages"),
        (
            ANTHROPIC.path(),
            "anthropic",
            {"model": "claude-test", "messages": [{"role": "user", "content": "hi"}]},
            "max_tokens",
        ),
        (_COUNT_TOKENS_PATH, "anthropic", {"model": "claude-test"}, "messages"),
        (GEMINI.path(), "gemini", {"generationConfig": {}}, "contents"),
        (GEMINI.path(stream=True), "gemini", {}, "contents"),
    ],
)
def test_missing_required_field_is_400_naming_it(
    upstream: FakeUpstream,
    http: httpx.Client,
    path: str,
    shape: str,
    body: dict[str, Any],
    field: str,
) -> None:
    response = http.post(path, json=body, headers={"x-api-key": CLIENT_KEY})
    assert f"'{field}'" in assert_error_shape(response, shape, 400)
    if shape == "openai":
        assert response.json()["error"]["param"] == field
    assert upstream.requests() == []


@pytest.mark.parametrize("wire", WIRES, ids=_WIRE_IDS)
def test_unknown_model_is_404_pointing_at_the_model_list(
    upstream: FakeUpstream, http: httpx.Client, wire: Wire
) -> None:
    response = post(http, wire, model="no-such-model")
    message = assert_error_shape(response, wire.shape, 404)
    models_route = "/v1beta/models" if wire is GEMINI else "/v1/models"
    assert "no-such-model" in message
    assert f"GET {models_route} " in message
    expected = {"openai": "invalid_request_error", "anthropic": "not_found_error"}
    assert error_kind(response, wire.shape) == expected.get(wire.shape, "NOT_FOUND")
    assert upstream.requests() == []


@pytest.mark.parametrize(
    ("path", "shape", "hint"),
    [
        ("/chat/completions", "openai", "'/v1/chat/completions'"),
        ("/v1/v1/messages", "anthropic", "remove it"),
        ("/v1beta/models/gemini-test:embedContent", "gemini", "generateContent"),
    ],
)
def test_unknown_path_is_404_with_a_hint(
    http: httpx.Client, path: str, shape: str, hint: str
) -> None:
    response = http.post(path, json={}, headers=bearer())
    assert hint in assert_error_shape(response, shape, 404)


def test_wrong_method_is_405_with_allow(http: httpx.Client) -> None:
    response = http.get("/v1/chat/completions", headers=bearer())
    assert_error_shape(response, "openai", 405)
    assert response.headers["allow"] == "POST"


def _padded(wire: Wire, size: int) -> dict[str, Any]:
    """A valid request for ``wire`` whose JSON is at least ``size`` bytes."""
    body = wire.body()
    padding = "x" * size
    if wire is GEMINI:
        body["contents"][0]["parts"][0]["text"] = padding
    elif wire is RESPONSES:
        body["input"] = padding
    else:
        body["messages"][0]["content"] = padding
    return body


@pytest.mark.parametrize("wire", WIRES, ids=_WIRE_IDS)
def test_body_over_the_limit_is_413(
    upstream: FakeUpstream, strict_http: httpx.Client, wire: Wire
) -> None:
    # The strict gateway's limit is 2048 bytes.
    response = post(strict_http, wire, body=_padded(wire, 4096))
    assert_error_shape(response, wire.shape, 413)
    expected = {"openai": "invalid_request_error", "anthropic": "request_too_large"}
    assert error_kind(response, wire.shape) == expected.get(wire.shape, "INVALID_ARGUMENT")
    if wire.shape == "openai":
        assert response.json()["error"]["code"] == "request_too_large"
    assert upstream.requests() == []


def test_chunked_body_over_the_limit_is_413(
    upstream: FakeUpstream, strict_http: httpx.Client
) -> None:
    """No Content-Length to refuse up front: the limit holds while reading the stream."""
    payload = json.dumps(_padded(ANTHROPIC, 4096)).encode()

    def pieces() -> Iterator[bytes]:
        yield from (payload[start : start + 512] for start in range(0, len(payload), 512))

    headers = {"x-api-key": CLIENT_KEY, "content-type": "application/json", **ANTHROPIC_HEADERS}
    response = strict_http.post("/v1/messages", content=pieces(), headers=headers)
    assert "content-length" not in response.request.headers
    assert_error_shape(response, "anthropic", 413)
    assert error_kind(response, "anthropic") == "request_too_large"
    assert upstream.requests() == []


def test_body_under_the_limit_passes(upstream: FakeUpstream, strict_http: httpx.Client) -> None:
    assert post(strict_http, ANTHROPIC, body=_padded(ANTHROPIC, 1000)).status_code == 200
    assert only_request(upstream)["path"] == "/v1/messages"


# --- Upstream trouble the gateway reports ----------------------------------------------------

_UPSTREAM_KINDS = {
    502: {"openai": "server_error", "anthropic": "api_error", "gemini": "UNAVAILABLE"},
    504: {"openai": "server_error", "anthropic": "timeout_error", "gemini": "DEADLINE_EXCEEDED"},
}
_OPENAI_CODES = {502: "upstream_unavailable", 504: "timeout"}


def _assert_upstream_failure(
    gateway: Gateway, response: httpx.Response, wire: Wire, status: int
) -> None:
    assert_error_shape(response, wire.shape, status)
    assert error_kind(response, wire.shape) == _UPSTREAM_KINDS[status][wire.shape]
    if wire.shape == "openai":
        assert response.json()["error"]["code"] == _OPENAI_CODES[status]
    record = gateway.access_record(response.headers["x-switchyard-request-id"])
    assert (record["status"], record["outcome"]) == (status, "error")


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("wire", WIRES, ids=_WIRE_IDS)
def test_unreachable_upstream_is_502(
    strict_gateway: Gateway, strict_http: httpx.Client, wire: Wire, stream: bool
) -> None:
    # dead-* accounts point at a loopback port where nothing listens.
    model = {"chat": "dead-gpt", "responses": "dead-gpt", "anthropic": "dead-claude"}
    response = post(strict_http, wire, stream=stream, model=model.get(wire.name, "dead-gemini"))
    _assert_upstream_failure(strict_gateway, response, wire, 502)


@pytest.mark.parametrize("wire", WIRES, ids=_WIRE_IDS)
def test_upstream_slower_than_first_byte_timeout_is_504(
    strict_gateway: Gateway, upstream: FakeUpstream, strict_http: httpx.Client, wire: Wire
) -> None:
    # The strict gateway waits 0.5 s for response headers.
    upstream.script({"delay_ms": 2000})
    response = post(strict_http, wire, stream=wire is ANTHROPIC)
    _assert_upstream_failure(strict_gateway, response, wire, 504)
    # The gateway hung up on the slow upstream rather than leaving the request running.
    upstream.wait_for_event("client_disconnected", request_id=only_request(upstream)["id"])


def test_stalled_stream_ends_with_a_timeout_error_event(
    strict_gateway: Gateway, upstream: FakeUpstream, strict_http: httpx.Client
) -> None:
    frames = [named_frame(event) for event in ANTHROPIC_EVENTS]
    # Silent for longer than the strict gateway's 0.5 s idle timeout after two events.
    upstream.script({"chunks": frames, "hang_after": 2, "hang_ms": 2000})
    response = post(strict_http, ANTHROPIC, stream=True)
    assert response.status_code == 200
    relayed, _, rest = response.text.partition("".join(frames[:2]))
    assert relayed == ""
    assert rest.startswith("event: error\n")
    error = json.loads(rest.split("data: ", 1)[1])
    assert error["error"]["type"] == "timeout_error"
    record = strict_gateway.access_record(response.headers["x-switchyard-request-id"])
    assert record["outcome"] == "upstream_error"


# --- Upstream error replies of the caller's protocol pass through unchanged ---------------

_OPENAI_429 = (
    '{"error":{"message":"Rate limit reached for gpt-test on tokens per min (TPM). '
    'Please try again in 7s.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}'
)
_ANTHROPIC_529 = (
    '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},'
    '"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}'
)
_GEMINI_400 = """{
  "error": {
    "code": 400,
    "message": "* GenerateContentRequest.contents: contents is not specified\\n",
    "status": "INVALID_ARGUMENT"
  }
}
"""


@pytest.mark.parametrize(
    ("wire", "stream", "status", "body", "headers"),
    [
        (CHAT, False, 429, _OPENAI_429, {"retry-after": "7", "x-ratelimit-remaining-tokens": "0"}),
        (RESPONSES, True, 429, _OPENAI_429, {"retry-after": "7", "retry-after-ms": "7000"}),
        (ANTHROPIC, False, 529, _ANTHROPIC_529, {"retry-after": "3", "x-should-retry": "true"}),
        (ANTHROPIC, True, 529, _ANTHROPIC_529, {"retry-after": "3"}),
        (GEMINI, False, 400, _GEMINI_400, {}),
        (GEMINI, True, 400, _GEMINI_400, {}),
    ],
    ids=[
        "chat-429",
        "responses-stream-429",
        "anthropic-529",
        "anthropic-stream-529",
        "gemini-400",
        "gemini-stream-400",
    ],
)
def test_upstream_error_body_passes_through(
    gateway: Gateway,
    upstream: FakeUpstream,
    http: httpx.Client,
    wire: Wire,
    stream: bool,
    status: int,
    body: str,
    headers: dict[str, str],
) -> None:
    upstream.script(
        {
            "status": status,
            "body_text": body,
            "headers": headers,
            "content_type": "application/json; charset=UTF-8",
        }
    )
    response = post(http, wire, stream=stream)
    assert response.status_code == status
    assert response.content == body.encode()
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    for name, value in headers.items():
        assert response.headers[name] == value
    record = gateway.access_record(response.headers["x-switchyard-request-id"])
    assert (record["status"], record["outcome"]) == (status, "upstream_error")


def test_sdks_see_upstream_errors_as_their_own(gateway: Gateway, upstream: FakeUpstream) -> None:
    messages = [{"role": "user", "content": "hi"}]
    upstream.script({"status": 429, "body_text": _OPENAI_429, "headers": {"retry-after": "7"}})
    with openai_client(gateway.url) as client, pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="gpt-test", messages=messages)
    assert limited.value.code == "rate_limit_exceeded"
    assert limited.value.response.headers["retry-after"] == "7"

    upstream.script({"status": 529, "body_text": _ANTHROPIC_529})
    with anthropic_client(gateway.url) as client, pytest.raises(anthropic.APIStatusError) as over:
        client.messages.create(model="claude-test", max_tokens=8, messages=messages)
    assert over.value.status_code == 529
    assert over.value.body == json.loads(_ANTHROPIC_529)

    upstream.script({"status": 400, "body_text": _GEMINI_400})
    with genai_client(gateway.url) as client, pytest.raises(genai_errors.ClientError) as bad:
        client.models.generate_content(model="gemini-test", contents="hi")
    assert (bad.value.code, bad.value.status) == (400, "INVALID_ARGUMENT")


# --- Streams the upstream cuts off -----------------------------------------------------------


def _dropped_stream(
    upstream: FakeUpstream,
    http: httpx.Client,
    wire: Wire,
    frames: list[str],
    keep: int,
    *,
    sse: bool = True,
    content_type: str | None = None,
) -> tuple[str, str]:
    """Send ``frames`` with the connection cut after ``keep`` of them; return the request id
    and what the gateway added after the relayed prefix (checked to be those frames)."""
    action: dict[str, Any] = {"chunks": frames, "drop": "after_chunks", "drop_after": keep}
    if content_type is not None:
        action["content_type"] = content_type
    upstream.script(action)
    response = post(http, wire, stream=True, sse=sse)
    assert response.status_code == 200
    sent = "".join(frames[:keep])
    assert response.text.startswith(sent)
    return response.headers["x-switchyard-request-id"], response.text[len(sent) :]


def test_anthropic_stream_cut_off_ends_with_an_error_event(
    gateway: Gateway, upstream: FakeUpstream, http: httpx.Client
) -> None:
    frames = [named_frame(event) for event in ANTHROPIC_EVENTS]
    request_id, tail = _dropped_stream(upstream, http, ANTHROPIC, frames, 4)
    name, data = tail.removesuffix("\n\n").split("\n")
    assert name == "event: error"
    assert json.loads(data.removeprefix("data: "))["error"]["type"] == "api_error"
    assert "message_stop" not in tail
    record = gateway.access_record(request_id)
    assert record["outcome"] == "upstream_error"
    assert record["usage"]["input"] == 11 + 7 + 5  # message_start had arrived


def test_chat_stream_cut_off_ends_with_an_error_chunk_and_no_done(
    upstream: FakeUpstream, http: httpx.Client
) -> None:
    _, tail = _dropped_stream(upstream, http, CHAT, CHAT_FRAMES, 2)
    assert tail.startswith("data: ") and tail.endswith("\n\n")
    assert "error" in json.loads(tail.removeprefix("data: "))
    assert "[DONE]" not in tail


def test_responses_stream_cut_off_ends_with_response_failed(
    upstream: FakeUpstream, http: httpx.Client
) -> None:
    frames = [named_frame(event) for event in responses_events()]
    _, tail = _dropped_stream(upstream, http, RESPONSES, frames, 5)
    events = [
        json.loads(line.removeprefix("data: "))
        for line in tail.splitlines()
        if line.startswith("data: ")
    ]
    assert [event["type"] for event in events] == ["error", "response.failed"]
    # Numbering continues the upstream's (0-4 were relayed) and the id is the upstream's.
    assert [event["sequence_number"] for event in events] == [5, 6]
    failed = events[1]["response"]
    assert (failed["id"], failed["status"]) == ("resp_bytes", "failed")
    assert "response.completed" not in tail


def test_gemini_sse_stream_cut_off_ends_with_an_error_chunk(
    upstream: FakeUpstream, http: httpx.Client
) -> None:
    frames = [data_frame(chunk, "\r\n") for chunk in gemini_chunks()]
    _, tail = _dropped_stream(upstream, http, GEMINI, frames, 1)
    assert tail.startswith("data: ")
    error = json.loads(tail.removeprefix("data: "))["error"]
    assert set(error) == {"code", "message", "status"}


def test_gemini_array_stream_cut_off_ends_with_an_error_element(
    upstream: FakeUpstream, http: httpx.Client
) -> None:
    frames = gemini_array(gemini_chunks())
    _, tail = _dropped_stream(
        upstream, http, GEMINI, frames, 2, sse=False, content_type="application/json"
    )
    # The array is closed, so the whole body is still one JSON document.
    whole = json.loads("".join(frames[:2]) + tail)
    assert "error" in whole[-1]
    assert len(whole) == 3


def test_stream_cut_mid_event_never_shows_half_an_event(
    upstream: FakeUpstream, http: httpx.Client
) -> None:
    stream = "".join(named_frame(event) for event in ANTHROPIC_EVENTS)
    chunks = split_every(stream, 100)
    upstream.script({"chunks": chunks, "drop": "after_chunks", "drop_after": 5})
    response = post(http, ANTHROPIC, stream=True)
    received = "".join(chunks[:5])
    whole_events = received[: received.rfind("\n\n") + 2]
    assert response.text.startswith(whole_events)
    assert response.text[len(whole_events) :].startswith("event: error\n")


_CUT_OFF = {
    "words": ["one", " two", " three", " four", " five", " six"],
    "drop": "after_chunks",
    "drop_after": 4,
}
_HI = [{"role": "user", "content": "hi"}]


def test_openai_sdk_raises_on_a_cut_off_chat_stream(
    gateway: Gateway, upstream: FakeUpstream
) -> None:
    upstream.script(_CUT_OFF)
    with (
        openai_client(gateway.url) as client,
        client.chat.completions.create(model="gpt-test", messages=_HI, stream=True) as stream,
        pytest.raises(openai.APIError),
    ):
        list(stream)


def test_openai_sdk_raises_on_a_cut_off_responses_stream(
    gateway: Gateway, upstream: FakeUpstream
) -> None:
    upstream.script(_CUT_OFF)
    with (
        openai_client(gateway.url) as client,
        client.responses.stream(model="gpt-test", input="hi") as stream,
        pytest.raises(RuntimeError, match=r"response\.completed"),
    ):
        stream.get_final_response()


def test_anthropic_sdk_raises_on_a_cut_off_stream(gateway: Gateway, upstream: FakeUpstream) -> None:
    upstream.script(_CUT_OFF)
    with (
        anthropic_client(gateway.url) as client,
        client.messages.stream(model="claude-test", max_tokens=8, messages=_HI) as stream,
        pytest.raises(anthropic.APIStatusError, match="closed the connection"),
    ):
        stream.get_final_message()


def test_genai_sdk_raises_on_a_cut_off_stream(gateway: Gateway, upstream: FakeUpstream) -> None:
    upstream.script(_CUT_OFF)
    with genai_client(gateway.url) as client, pytest.raises(genai_errors.APIError):
        list(client.models.generate_content_stream(model="gemini-test", contents="hi"))
