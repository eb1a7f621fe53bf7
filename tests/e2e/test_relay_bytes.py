"""Same-protocol relay: the client gets the upstream's stream byte for byte, however the
upstream split it into packets, and the gateway reads usage from those bytes on the way.

Each stream is written out by hand (``streams.py``) and sent by the fake as the exact chunks
given, so the expected bytes are known without asking the gateway.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.e2e.clients import (
    ANTHROPIC,
    ANTHROPIC_HEADERS,
    GEMINI,
    RESPONSES,
    bearer,
    only_request,
    split_every,
)
from tests.e2e.harness import CLIENT_KEY, Gateway
from tests.e2e.streams import (
    ANTHROPIC_EVENTS,
    ANTHROPIC_LOGGED_USAGE,
    CHAT_DONE,
    CHAT_FRAMES,
    CHAT_LOGGED_USAGE,
    CHAT_USAGE_FRAME,
    GEMINI_LOGGED_USAGE,
    RESPONSES_LOGGED_USAGE,
    data_frame,
    gemini_array,
    gemini_chunks,
    named_frame,
    responses_events,
    split_after_first_cr,
)
from tests.fake_upstream import FakeUpstream

pytestmark = pytest.mark.e2e

# A few milliseconds between chunks, so they leave the fake as separate packets and the
# gateway really meets the odd boundaries.
_CHUNK_DELAY_MS = 2
_GEMINI_KEY = {"x-goog-api-key": CLIENT_KEY}


def _usage_of(gateway: Gateway, response: httpx.Response) -> dict[str, int]:
    record = gateway.access_record(response.headers["x-switchyard-request-id"])
    assert record["outcome"] == "ok"
    usage: dict[str, int] = record["usage"]
    return usage


def _post_bytes(
    http: httpx.Client, path: str, content: bytes, headers: dict[str, str]
) -> httpx.Response:
    headers = {"content-type": "application/json", **headers}
    return http.post(path, content=content, headers=headers)


def test_anthropic_stream_split_mid_line(
    gateway: Gateway, upstream: FakeUpstream, http: httpx.Client
) -> None:
    chunks = split_every("".join(named_frame(event) for event in ANTHROPIC_EVENTS), 37)
    upstream.script({"chunks": chunks, "chunk_delay_ms": _CHUNK_DELAY_MS})
    body = json.dumps(ANTHROPIC.body(stream=True)).encode()
    headers = {"x-api-key": CLIENT_KEY, **ANTHROPIC_HEADERS}
    response = _post_bytes(http, "/v1/messages", body, headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.content == "".join(chunks).encode()
    assert only_request(upstream)["body"] == body.decode()  # the request went up untouched
    assert _usage_of(gateway, response) == ANTHROPIC_LOGGED_USAGE


def _chat_request(**extra: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": "bytes please"}]
    return {"model": "gpt-test", "messages": messages, "stream": True, **extra}


def test_chat_stream_with_usage_requested(
    gateway: Gateway, upstream: FakeUpstream, http: httpx.Client
) -> None:
    chunks = split_every("".join([*CHAT_FRAMES, CHAT_USAGE_FRAME, CHAT_DONE]), 29)
    upstream.script({"chunks": chunks, "chunk_delay_ms": _CHUNK_DELAY_MS})
    body = json.dumps(_chat_request(stream_options={"include_usage": True})).encode()
    response = _post_bytes(http, "/v1/chat/completions", body, bearer())
    assert response.status_code == 200
    assert response.content == "".join(chunks).encode()
    assert only_request(upstream)["body"] == body.decode()
    assert _usage_of(gateway, response) == CHAT_LOGGED_USAGE


def test_chat_stream_without_usage_requested_hides_only_the_usage_chunk(
    gateway: Gateway, upstream: FakeUpstream, http: httpx.Client
) -> None:
    # What the upstream sends once the gateway has asked it for usage.
    chunks = split_every("".join([*CHAT_FRAMES, CHAT_USAGE_FRAME, CHAT_DONE]), 29)
    upstream.script({"chunks": chunks, "chunk_delay_ms": _CHUNK_DELAY_MS})
    request = _chat_request()
    response = _post_bytes(http, "/v1/chat/completions", json.dumps(request).encode(), bearer())
    assert response.status_code == 200
    assert response.content == "".join([*CHAT_FRAMES, CHAT_DONE]).encode()
    forwarded = only_request(upstream)["json"]
    assert forwarded == {**request, "stream_options": {"include_usage": True}}
    # The chunk the client did not see still reached the ledger.
    assert _usage_of(gateway, response) == CHAT_LOGGED_USAGE


def test_responses_stream(gateway: Gateway, upstream: FakeUpstream, http: httpx.Client) -> None:
    chunks = split_every("".join(named_frame(event) for event in responses_events()), 53)
    upstream.script({"chunks": chunks, "chunk_delay_ms": _CHUNK_DELAY_MS})
    body = json.dumps(RESPONSES.body(stream=True)).encode()
    response = _post_bytes(http, "/v1/responses", body, bearer())
    assert response.status_code == 200
    assert response.content == "".join(chunks).encode()
    assert _usage_of(gateway, response) == RESPONSES_LOGGED_USAGE


def test_gemini_sse_stream_with_crlf_split_inside_separators(
    gateway: Gateway, upstream: FakeUpstream, http: httpx.Client
) -> None:
    chunks = split_after_first_cr([data_frame(chunk, "\r\n") for chunk in gemini_chunks()])
    upstream.script({"chunks": chunks, "chunk_delay_ms": _CHUNK_DELAY_MS})
    body = json.dumps(GEMINI.body()).encode()
    response = _post_bytes(http, GEMINI.path(stream=True), body, _GEMINI_KEY)
    assert response.status_code == 200
    assert response.content == "".join(chunks).encode()
    assert only_request(upstream)["query"] == {"alt": "sse"}
    assert _usage_of(gateway, response) == GEMINI_LOGGED_USAGE


def test_gemini_json_array_stream(
    gateway: Gateway, upstream: FakeUpstream, http: httpx.Client
) -> None:
    array = "".join(gemini_array(gemini_chunks()))
    chunks = split_every(array, 41)
    content_type = "application/json; charset=UTF-8"
    upstream.script(
        {"chunks": chunks, "chunk_delay_ms": _CHUNK_DELAY_MS, "content_type": content_type}
    )
    body = json.dumps(GEMINI.body()).encode()
    response = _post_bytes(http, GEMINI.path(stream=True, sse=False), body, _GEMINI_KEY)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content == array.encode()
    assert only_request(upstream)["query"] == {}
    assert _usage_of(gateway, response) == GEMINI_LOGGED_USAGE
