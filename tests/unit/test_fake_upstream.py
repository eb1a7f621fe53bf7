"""The fake upstream used by end-to-end tests: default replies, scripting, drops, disconnects."""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.fake_upstream import FakeUpstream, FakeUpstreamError

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_TEXT = "Hello from the fake upstream."
_WORDS = ["Hello", " from", " the", " fake", " upstream."]
_ANTHROPIC = {"anthropic-version": "2023-06-01"}
_GEMINI_STREAM = "/v1beta/models/gemini-2.5-pro:streamGenerateContent"


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream.start() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _fresh_upstream(upstream: FakeUpstream) -> None:
    upstream.reset()


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    upstream: FakeUpstream,
    path: str,
    payload: object = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """POST `payload` as JSON (GET when it is None) and return the answer, errors included."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        upstream.url + path,
        data=data,
        headers={"content-type": "application/json", **(headers or {})},
    )
    try:
        with _OPENER.open(request, timeout=5) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, error.headers, error.read())


def parse_sse(body: bytes) -> list[tuple[str | None, str]]:
    """(event name, data) per SSE event; enough of WHATWG's algorithm for these streams."""
    events = []
    for block in body.decode().replace("\r\n", "\n").split("\n\n"):
        if not block:
            continue
        name, data = None, []
        for line in block.split("\n"):
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        events.append((name, "\n".join(data)))
    return events


def open_raw(upstream: FakeUpstream, path: str, payload: object) -> socket.socket:
    """Send a request on a bare socket, so the test decides when the connection closes."""
    address = urlsplit(upstream.url)
    assert address.hostname is not None and address.port is not None
    body = json.dumps(payload).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    sock = socket.create_connection((address.hostname, address.port), timeout=5)
    sock.sendall(head.encode() + body)
    return sock


def receive_all(sock: socket.socket) -> bytes:
    received = b""
    while data := sock.recv(65536):
        received += data
    return received


def http_chunks(raw: bytes) -> tuple[list[bytes], bool]:
    """The HTTP/1.1 chunks of a raw response, and whether the terminating chunk arrived."""
    _, _, rest = raw.partition(b"\r\n\r\n")
    chunks: list[bytes] = []
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return chunks, True
        chunks.append(rest[:size])
        rest = rest[size + 2 :]
    return chunks, False


# Default replies, one protocol at a time.


def test_openai_chat_default_completion(upstream: FakeUpstream) -> None:
    payload = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}
    answer = call(upstream, "/v1/chat/completions", payload)
    body = answer.json()
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4.1"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": _TEXT,
        "refusal": None,
        "annotations": [],
    }
    assert body["choices"][0]["finish_reason"] == "stop"
    input_tokens = len(json.dumps(payload).encode()) // 4
    assert body["usage"]["prompt_tokens"] == input_tokens
    assert body["usage"]["completion_tokens"] == len(_WORDS)
    assert body["usage"]["total_tokens"] == input_tokens + len(_WORDS)
    assert body["usage"]["prompt_tokens_details"]["cached_tokens"] == 0


@pytest.mark.parametrize("include_usage", [True, False])
def test_openai_chat_stream(upstream: FakeUpstream, include_usage: bool) -> None:
    payload = {"model": "m", "stream": True, "stream_options": {"include_usage": include_usage}}
    answer = call(upstream, "/v1/chat/completions", payload)
    assert answer.headers["content-type"] == "text/event-stream"
    events = parse_sse(answer.body)
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert {chunk["id"] for chunk in chunks} == {chunks[0]["id"]}
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text_chunks = [c for c in chunks if c["choices"] and "content" in c["choices"][0]["delta"]]
    assert [c["choices"][0]["delta"]["content"] for c in text_chunks[1:]] == _WORDS
    usage_chunks = [chunk for chunk in chunks if chunk["choices"] == []]
    if include_usage:
        assert len(usage_chunks) == 1 and chunks[-1] is usage_chunks[0]
        assert usage_chunks[0]["usage"]["completion_tokens"] == len(_WORDS)
        assert chunks[-2]["choices"][0] == {
            "index": 0,
            "delta": {},
            "logprobs": None,
            "finish_reason": "stop",
        }
    else:
        assert usage_chunks == []
        assert all("usage" not in chunk for chunk in chunks)


def test_openai_responses_default_and_stream(upstream: FakeUpstream) -> None:
    body = call(upstream, "/v1/responses", {"model": "gpt-5", "input": "hi"}).json()
    assert body["object"] == "response" and body["status"] == "completed"
    assert body["output"][0]["content"][0]["text"] == _TEXT
    assert body["usage"]["output_tokens"] == len(_WORDS)

    answer = call(upstream, "/v1/responses", {"model": "gpt-5", "input": "hi", "stream": True})
    events = parse_sse(answer.body)
    payloads = [json.loads(data) for _, data in events]
    assert [name for name, _ in events] == [payload["type"] for payload in payloads]
    assert [name for name, _ in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * len(_WORDS),
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [payload["sequence_number"] for payload in payloads] == list(range(len(payloads)))
    deltas = [p["delta"] for p in payloads if p["type"] == "response.output_text.delta"]
    assert deltas == _WORDS
    completed = payloads[-1]["response"]
    assert completed["status"] == "completed" and completed["model"] == "gpt-5"
    assert completed["usage"]["output_tokens"] == len(_WORDS)


def test_openai_models_and_input_tokens(upstream: FakeUpstream) -> None:
    models = call(upstream, "/v1/models").json()
    assert models["object"] == "list" and models["data"][0]["object"] == "model"
    counted = call(upstream, "/v1/responses/input_tokens", {"model": "m", "input": "x"}).json()
    assert counted["object"] == "response.input_tokens" and counted["input_tokens"] >= 1


def test_anthropic_messages_default_and_stream(upstream: FakeUpstream) -> None:
    payload = {"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": []}
    answer = call(upstream, "/v1/messages", payload, headers=_ANTHROPIC)
    body = answer.json()
    assert answer.headers["request-id"].startswith("req_")
    assert body["type"] == "message" and body["stop_reason"] == "end_turn"
    assert body["content"] == [{"type": "text", "text": _TEXT}]
    assert body["usage"]["cache_read_input_tokens"] == 0
    assert body["usage"]["cache_creation_input_tokens"] == 0

    events = parse_sse(call(upstream, "/v1/messages", {**payload, "stream": True}).body)
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * len(_WORDS),
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    payloads = [json.loads(data) for _, data in events]
    assert [payload["type"] for payload in payloads] == names
    assert [p["delta"]["text"] for p in payloads if p["type"] == "content_block_delta"] == _WORDS
    assert payloads[-2]["usage"] == {"output_tokens": len(_WORDS)}


def test_anthropic_count_tokens_and_models(upstream: FakeUpstream) -> None:
    payload = {"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "hi"}]}
    counted = call(upstream, "/v1/messages/count_tokens", payload, headers=_ANTHROPIC).json()
    assert counted == {"input_tokens": len(json.dumps(payload).encode()) // 4}
    models = call(upstream, "/v1/models", headers=_ANTHROPIC).json()
    assert models["has_more"] is False and models["data"][0]["type"] == "model"


@pytest.mark.parametrize("version", ["v1beta", "v1"])
def test_gemini_generate_content(upstream: FakeUpstream, version: str) -> None:
    path = f"/{version}/models/gemini-2.5-flash:generateContent"
    body = call(upstream, path, {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}).json()
    candidate = body["candidates"][0]
    assert candidate["content"] == {"role": "model", "parts": [{"text": _TEXT}]}
    assert candidate["finishReason"] == "STOP"
    assert body["modelVersion"] == "gemini-2.5-flash"
    usage = body["usageMetadata"]
    assert usage["candidatesTokenCount"] == len(_WORDS)
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + len(_WORDS)


def test_gemini_sse_stream_uses_crlf_and_cumulative_usage(upstream: FakeUpstream) -> None:
    answer = call(upstream, _GEMINI_STREAM + "?alt=sse", {"contents": []})
    assert answer.headers["content-type"] == "text/event-stream"
    assert answer.body.count(b"\r\n\r\n") == len(_WORDS)
    assert b"\n\n" not in answer.body.replace(b"\r\n", b"")
    chunks = [json.loads(data) for _, data in parse_sse(answer.body)]
    texts = [chunk["candidates"][0]["content"]["parts"][0]["text"] for chunk in chunks]
    assert texts == _WORDS
    counts = [chunk["usageMetadata"]["candidatesTokenCount"] for chunk in chunks]
    assert counts == sorted(counts) and counts[-1] == len(_WORDS)
    assert [c["candidates"][0].get("finishReason") for c in chunks][-2:] == [None, "STOP"]


def test_gemini_array_stream_is_one_json_array(upstream: FakeUpstream) -> None:
    sock = open_raw(upstream, _GEMINI_STREAM, {"contents": []})
    with sock:
        chunks, complete = http_chunks(receive_all(sock))
    assert complete
    assert chunks[0].startswith(b"[") and chunks[-1] == b"]"
    assert all(chunk.startswith(b",\r\n") for chunk in chunks[1:-1])
    elements = json.loads(b"".join(chunks))
    assert [e["candidates"][0]["content"]["parts"][0]["text"] for e in elements] == _WORDS


def test_gemini_count_tokens_and_models(upstream: FakeUpstream) -> None:
    path = "/v1beta/models/gemini-2.5-pro:countTokens"
    assert call(upstream, path, {"contents": []}).json()["totalTokens"] >= 1
    models = call(upstream, "/v1beta/models").json()["models"]
    assert models[0]["name"].startswith("models/")


# Scripting.


def test_scripted_chunks_are_relayed_byte_for_byte_one_write_each(upstream: FakeUpstream) -> None:
    chunks = ['event: a\r\ndata: {"x":', "1}\r\n\r\n", ": comment\n\n", "data: é ✓\n\n"]
    upstream.script({"chunks": chunks, "headers": {"x-extra": "yes"}})
    sock = open_raw(upstream, "/v1/messages", {"model": "m", "stream": True})
    with sock:
        raw = receive_all(sock)
    received, complete = http_chunks(raw)
    assert complete
    assert received == [chunk.encode() for chunk in chunks]
    assert b"content-type: text/event-stream" in raw.lower()
    assert b"x-extra: yes" in raw.lower()


def test_scripted_429_keeps_its_headers_and_body(upstream: FakeUpstream) -> None:
    error = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    upstream.script({"status": 429, "headers": {"retry-after": "7"}, "body": error})
    answer = call(upstream, "/v1/messages", {"model": "m"}, headers=_ANTHROPIC)
    assert answer.status == 429
    assert answer.headers["retry-after"] == "7"
    assert answer.json() == error


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        ("/v1/chat/completions", 429, {"type": "requests", "code": "rate_limit_exceeded"}),
        ("/v1/messages", 529, {"type": "overloaded_error"}),
        ("/v1beta/models/g:generateContent", 503, {"code": 503, "status": "UNAVAILABLE"}),
    ],
)
def test_scripted_status_gets_the_protocols_error_body(
    upstream: FakeUpstream, path: str, status: int, expected: dict[str, Any]
) -> None:
    upstream.script({"status": status})
    answer = call(upstream, path, {"model": "m"})
    assert answer.status == status
    error = answer.json()["error"]
    assert {key: error[key] for key in expected} == expected


def test_gemini_stream_error_without_sse_is_an_array(upstream: FakeUpstream) -> None:
    upstream.script({"status": 429})
    body = call(upstream, _GEMINI_STREAM, {"contents": []}).json()
    assert body[0]["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_drop_after_chunks_truncates_without_terminator(upstream: FakeUpstream) -> None:
    upstream.script({"drop": "after_chunks", "drop_after": 2})
    sock = open_raw(upstream, "/v1/chat/completions", {"model": "m", "stream": True})
    with sock:
        received, complete = http_chunks(receive_all(sock))
    assert not complete
    assert len(received) == 2
    assert b"[DONE]" not in b"".join(received)
    event = upstream.wait_for_event("dropped")
    assert event["chunks_sent"] == 2
    assert not [e for e in upstream.events() if e["type"] != "dropped"]


def test_drop_before_headers_sends_nothing(upstream: FakeUpstream) -> None:
    upstream.script({"drop": "before_headers"})
    address = urlsplit(upstream.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=5)
    try:
        connection.request("POST", "/v1/messages", body=b"{}")
        with pytest.raises(http.client.RemoteDisconnected):
            connection.getresponse()
    finally:
        connection.close()
    assert upstream.wait_for_event("dropped")["chunks_sent"] == 0


def test_client_closing_mid_stream_is_reported(upstream: FakeUpstream) -> None:
    upstream.script({"chunk_delay_ms": 300})
    sock = open_raw(upstream, "/v1/messages", {"model": "m", "stream": True})
    with sock:
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    event = upstream.wait_for_event("client_disconnected", timeout=2)
    request_id = upstream.requests()[0]["id"]
    assert event == {
        "type": "client_disconnected",
        "request_id": request_id,
        "path": "/v1/messages",
        "chunks_sent": 1,
    }
    time.sleep(0.4)  # past the next chunk's slot: the handler must not carry on writing
    assert [e["type"] for e in upstream.events()] == ["client_disconnected"]


def test_client_closing_during_a_hang_is_reported_promptly(upstream: FakeUpstream) -> None:
    upstream.script({"hang_ms": 5000})
    sock = open_raw(upstream, "/v1/chat/completions", {"model": "m"})
    with sock:
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    started = time.monotonic()
    event = upstream.wait_for_event("client_disconnected", timeout=2)
    assert event["chunks_sent"] == 0
    assert time.monotonic() - started < 2


def test_hang_comes_after_the_headers(upstream: FakeUpstream) -> None:
    upstream.script({"hang_ms": 600, "hang_after": 1})
    address = urlsplit(upstream.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=5)
    started = time.monotonic()
    try:
        connection.request("POST", "/v1/chat/completions", body=b'{"stream": true}')
        response = connection.getresponse()
        headers_at = time.monotonic() - started
        body = response.read()
    finally:
        connection.close()
    assert headers_at < 0.5 <= time.monotonic() - started
    assert body.endswith(b"data: [DONE]\n\n")
    completed = upstream.wait_for_event("completed")
    assert completed["status"] == 200 and completed["chunks_sent"] == len(_WORDS) + 3


def test_delay_ms_delays_the_headers(upstream: FakeUpstream) -> None:
    upstream.script({"delay_ms": 300})
    started = time.monotonic()
    assert call(upstream, "/v1/models").status == 200
    assert time.monotonic() - started >= 0.3


def test_text_words_and_usage_overrides(upstream: FakeUpstream) -> None:
    usage = {"input": 10, "output": 7, "cache_read": 3, "cache_write": 2, "reasoning": 4}
    upstream.script(
        {"words": ["Hel", "lo"], "usage": usage},
        {"text": "Bonjour tout", "usage": usage},
        {"usage": usage},
        {"usage": usage},
    )
    chat = call(upstream, "/v1/chat/completions", {"model": "m"}).json()
    assert chat["choices"][0]["message"]["content"] == "Hello"
    assert chat["usage"]["prompt_tokens"] == 15
    assert chat["usage"]["prompt_tokens_details"]["cached_tokens"] == 3
    assert chat["usage"]["completion_tokens_details"]["reasoning_tokens"] == 4

    stream = call(upstream, "/v1/messages", {"model": "m", "stream": True}).body
    payloads = [json.loads(data) for _, data in parse_sse(stream)]
    deltas = [p["delta"]["text"] for p in payloads if p["type"] == "content_block_delta"]
    assert deltas == ["Bonjour", " tout"]
    start_usage = payloads[0]["message"]["usage"]
    assert (start_usage["input_tokens"], start_usage["cache_read_input_tokens"]) == (10, 3)
    assert start_usage["cache_creation_input_tokens"] == 2
    assert payloads[-2]["usage"]["output_tokens"] == 7

    gemini = call(upstream, "/v1beta/models/g:generateContent", {"contents": []}).json()
    assert gemini["usageMetadata"] == {
        "promptTokenCount": 15,
        "candidatesTokenCount": 3,
        "cachedContentTokenCount": 3,
        "thoughtsTokenCount": 4,
        "totalTokenCount": 22,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 15}],
    }
    responses = call(upstream, "/v1/responses", {"model": "m"}).json()
    assert responses["usage"]["input_tokens"] == 15
    assert responses["usage"]["output_tokens_details"] == {"reasoning_tokens": 4}


def test_actions_are_taken_by_the_first_matching_request(upstream: FakeUpstream) -> None:
    upstream.script({"match": "claude", "text": "for claude"}, {"match": "/v1beta/", "status": 500})
    assert call(upstream, "/v1/chat/completions", {"model": "gpt"}).status == 200
    assert upstream.pending() == [
        {"match": "claude", "text": "for claude"},
        {"match": "/v1beta/", "status": 500},
    ]
    assert call(upstream, "/v1beta/models/g:countTokens", {"contents": []}).status == 500
    claude = call(upstream, "/v1/messages", {"model": "claude-x"}).json()
    assert claude["content"][0]["text"] == "for claude"
    assert upstream.pending() == []


def test_require_key_checks_every_provider_auth_header(upstream: FakeUpstream) -> None:
    upstream.script({"require_key": "sk-good"}, {"require_key": "sk-good"})
    wrong = call(upstream, "/v1/messages", {"model": "m"}, headers={"x-api-key": "sk-bad"})
    assert wrong.status == 401
    assert wrong.json()["error"]["type"] == "authentication_error"
    right = call(upstream, "/v1/chat/completions", {}, headers={"authorization": "Bearer sk-good"})
    assert right.status == 200


def test_malformed_actions_are_refused(upstream: FakeUpstream) -> None:
    with pytest.raises(FakeUpstreamError, match="unknown action fields"):
        upstream.script({"stauts": 500})
    with pytest.raises(FakeUpstreamError, match="drop must be one of"):
        upstream.script({"drop": "later"})
    assert upstream.pending() == []


def test_invalid_json_body_gets_a_400(upstream: FakeUpstream) -> None:
    address = urlsplit(upstream.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=5)
    try:
        connection.request("POST", "/v1/chat/completions", body=b"{not json")
        response = connection.getresponse()
        assert response.status == 400
        assert json.loads(response.read())["error"]["type"] == "invalid_request_error"
    finally:
        connection.close()
    assert upstream.requests()[0]["json"] is None


def test_requests_are_recorded_in_order(upstream: FakeUpstream) -> None:
    before = time.time()
    call(upstream, "/v1/models")
    payload: dict[str, Any] = {"contents": []}
    path = "/v1beta/models/g:generateContent"
    call(upstream, path + "?key=k1", payload, headers={"X-Goog-Api-Key": "k2"})
    after = time.time()
    upstream.script({})  # control calls are not provider requests
    first, second = upstream.requests()
    assert before <= first["received_at"] <= second["received_at"] <= after
    assert (first["method"], first["path"], first["json"]) == ("GET", "/v1/models", None)
    assert second["id"] > first["id"]
    assert second["method"] == "POST"
    assert second["path"] == path
    assert second["query"] == {"key": "k1"}
    assert second["headers"]["x-goog-api-key"] == "k2"
    assert second["body"] == json.dumps(payload)
    assert second["json"] == payload


def test_reset_forgets_everything(upstream: FakeUpstream) -> None:
    upstream.script({"status": 500})
    call(upstream, "/v1/models")
    upstream.script({"status": 500})
    upstream.reset()
    assert (upstream.requests(), upstream.events(), upstream.pending()) == ([], [], [])
    assert upstream.load() == {}


def wait_for_load(
    upstream: FakeUpstream, key: str, in_flight: int, *, timeout: float = 5.0
) -> dict[str, Any]:
    """Poll the load until `key` has `in_flight` requests running; handlers start and end
    asynchronously to the client's socket calls."""
    deadline = time.monotonic() + timeout
    while True:
        load: dict[str, Any] = dict(upstream.load())
        if load.get(key, {}).get("in_flight") == in_flight:
            return load
        assert time.monotonic() < deadline, f"{key} never had {in_flight} in flight: {load}"
        time.sleep(0.02)


def test_load_counts_requests_in_flight_per_model_and_their_peak(upstream: FakeUpstream) -> None:
    upstream.script({"match": "model-a", "hang_ms": 5000}, {"match": "model-a", "hang_ms": 5000})
    first = open_raw(upstream, "/v1/messages", {"model": "model-a"})
    second = open_raw(upstream, "/v1/messages", {"model": "model-a"})
    with first, second:
        during = wait_for_load(upstream, "model-a", 2)
        assert call(upstream, "/v1/messages", {"model": "model-b"}).status == 200
        call(upstream, "/v1/models")  # no model named: counted by path
    after = wait_for_load(upstream, "model-a", 0)  # closing the sockets ends both handlers
    assert during == {"model-a": {"in_flight": 2, "max_in_flight": 2}}
    assert after == {
        "/v1/models": {"in_flight": 0, "max_in_flight": 1},
        "model-a": {"in_flight": 0, "max_in_flight": 2},
        "model-b": {"in_flight": 0, "max_in_flight": 1},
    }


def test_reset_forgets_peaks_but_keeps_counting_requests_still_running(
    upstream: FakeUpstream,
) -> None:
    upstream.script({"hang_ms": 5000}, {"hang_ms": 5000})
    first = open_raw(upstream, "/v1/messages", {"model": "m"})
    with first:
        with open_raw(upstream, "/v1/messages", {"model": "m"}):
            wait_for_load(upstream, "m", 2)
        wait_for_load(upstream, "m", 1)
        upstream.reset()
        assert upstream.load() == {"m": {"in_flight": 1, "max_in_flight": 1}}
    assert wait_for_load(upstream, "m", 0) == {"m": {"in_flight": 0, "max_in_flight": 1}}
    upstream.reset()
    assert upstream.load() == {}


def test_process_exits_cleanly_on_stop_right_after_ready() -> None:
    # Stopping at once catches a fake that prints its ready line before it handles SIGTERM.
    with FakeUpstream.start() as fake:
        assert fake.url.startswith("http://127.0.0.1:")
        assert fake.stop() == 0
    assert fake.stop() == 0  # idempotent
