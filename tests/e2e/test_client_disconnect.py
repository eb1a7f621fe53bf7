"""A client that goes away mid-stream stops the upstream request, and the request is still
recorded, as a client disconnect, with whatever usage had arrived."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.clients import ANTHROPIC, CHAT, Wire, http_client, only_request
from tests.e2e.harness import Gateway
from tests.fake_upstream import FakeUpstream

pytestmark = pytest.mark.e2e

_WORDS = 200
_CHUNK_DELAY_MS = 200  # the whole stream would take 40 s


@pytest.mark.parametrize("wire", [ANTHROPIC, CHAT], ids=["anthropic", "chat"])
def test_client_disconnect_stops_the_upstream_request(
    gateway: Gateway, upstream: FakeUpstream, wire: Wire
) -> None:
    upstream.script(
        {
            "words": [f" word{number}" for number in range(_WORDS)],
            "chunk_delay_ms": _CHUNK_DELAY_MS,
            "usage": {"input": 77, "cache_read": 3},
        }
    )
    with (
        http_client(gateway.url) as client,
        client.stream(
            "POST", wire.path(stream=True), json=wire.body(stream=True), headers=wire.headers
        ) as response,
    ):
        assert response.status_code == 200
        request_id = response.headers["x-switchyard-request-id"]
        first = next(response.iter_raw())
        assert first.startswith(b"event: message_start" if wire is ANTHROPIC else b"data: {")
    # Leaving the block closed the connection with almost all of the stream unread.

    disconnected = upstream.wait_for_event(
        "client_disconnected", request_id=only_request(upstream)["id"]
    )
    assert disconnected["chunks_sent"] < _WORDS
    record = gateway.access_record(request_id)
    assert record["outcome"] == "client_disconnected"
    assert record["stream"] is True
    if wire is ANTHROPIC:
        # message_start had been relayed: its input count is in the record.
        assert record["usage"]["input"] == 77 + 3
        assert record["usage"]["cache_read"] == 3


@pytest.mark.parametrize("stream", [False, True], ids=["non-stream", "stream-before-headers"])
def test_client_leaving_before_the_reply_stops_the_upstream_request(
    gateway: Gateway, upstream: FakeUpstream, stream: bool
) -> None:
    upstream.script({"delay_ms": 8000})
    with http_client(gateway.url) as client, pytest.raises(httpx.ReadTimeout):
        client.post(
            CHAT.path(stream=stream),
            json=CHAT.body(stream=stream),
            headers=CHAT.headers,
            timeout=httpx.Timeout(10, read=0.5),
        )
    upstream_id = only_request(upstream)["id"]
    disconnected = upstream.wait_for_event("client_disconnected", request_id=upstream_id)
    assert disconnected["request_id"] == upstream_id
    deadline = time.monotonic() + 5
    while not any(r["outcome"] == "client_disconnected" for r in gateway.access_records()):
        assert time.monotonic() < deadline, gateway.log_text()[-2000:]
        time.sleep(0.05)
