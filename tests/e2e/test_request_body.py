"""Request bodies as they arrive over a real socket: in one packet, in several packets with
a Content-Length, or cut short by a client that leaves; the gateway reads each whole once
and passes it upstream unchanged, or refuses it without a crash."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.e2e.clients import CHAT, only_request
from tests.e2e.harness import CLIENT_KEY, Gateway
from tests.fake_upstream import FakeUpstream

pytestmark = pytest.mark.e2e

_PAUSE = 0.05  # seconds between packets: long enough for each to be its own ASGI message


def _address(gateway: Gateway) -> tuple[str, int]:
    parts = urlsplit(gateway.url)
    assert parts.hostname == "127.0.0.1" and parts.port is not None
    return parts.hostname, parts.port


def _head(gateway: Gateway, length: int) -> bytes:
    return (
        f"POST {CHAT.path()} HTTP/1.1\r\n"
        f"host: {urlsplit(gateway.url).netloc}\r\n"
        f"authorization: Bearer {CLIENT_KEY}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {length}\r\n"
        "connection: close\r\n\r\n"
    ).encode()


def _reply(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _body() -> bytes:
    # The key order and spacing are the client's own: the upstream must see these bytes.
    payload = CHAT.body() | {"temperature": 0.5, "user": "packet-test"}
    return json.dumps(payload, indent=1).encode()


def test_a_body_sent_in_several_packets_reaches_the_upstream_whole(
    gateway: Gateway, upstream: FakeUpstream
) -> None:
    body = _body()
    third = len(body) // 3
    with socket.create_connection(_address(gateway)) as sock:
        sock.sendall(_head(gateway, len(body)))
        for start in (0, third, 2 * third):
            time.sleep(_PAUSE)
            sock.sendall(body[start : start + third] if start < 2 * third else body[start:])
        reply = _reply(sock)
    assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
    assert only_request(upstream)["body"] == body.decode()


def test_a_client_that_leaves_mid_body_costs_nothing_upstream(
    gateway: Gateway, upstream: FakeUpstream
) -> None:
    body = _body()
    with socket.create_connection(_address(gateway)) as sock:
        sock.sendall(_head(gateway, len(body)) + body[: len(body) // 2])
        time.sleep(_PAUSE)
    time.sleep(0.3)  # what the gateway does with the cut request happens now
    assert upstream.requests() == []
    assert "unhandled error" not in gateway.log_text()
    assert "Traceback" not in gateway.log_text()
