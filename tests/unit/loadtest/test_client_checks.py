"""The locust users' verdict on a reply: complete streams pass; cut or errored ones fail.

The streams are the fast upstream's canned provider streams (the bytes a same-protocol relay
hands back), cut and spliced the way a failing gateway would.
"""

from __future__ import annotations

import pytest

from loadtest import canned
from loadtest.client_checks import Client, loopback_url, reply_problem, sse_events

WORDS = canned.pieces(4)
STREAMS = {
    Client.CHAT: canned.chat_stream("m", WORDS, True),
    Client.RESPONSES: canned.responses_stream("m", WORDS, True),
    Client.ANTHROPIC: canned.messages_stream("m", WORDS, True),
    Client.GEMINI: canned.gemini_stream("m", WORDS, True),
}
BODIES = {
    Client.CHAT: canned.chat_body("m", WORDS),
    Client.RESPONSES: canned.responses_body("m", WORDS),
    Client.ANTHROPIC: canned.messages_body("m", WORDS),
    Client.GEMINI: canned.gemini_body("m", WORDS),
}
ERROR_FRAMES = {
    Client.CHAT: canned.chat_stream_error(),
    Client.RESPONSES: canned.responses_stream_error(),
    Client.ANTHROPIC: canned.messages_stream_error(),
    Client.GEMINI: canned.gemini_stream_error(True),
}


def joined(segments: list[list[bytes]]) -> bytes:
    return b"".join(b"".join(segment) for segment in segments)


def without_last_event(stream: bytes) -> bytes:
    """The stream cut before its final event, as when a connection drops near the end."""
    separator = b"\r\n\r\n" if b"\r\n\r\n" in stream else b"\n\n"
    events = stream.split(separator)[:-1]  # the last element is the empty tail
    return separator.join(events[:-1]) + separator


@pytest.mark.parametrize("client", list(Client))
def test_a_complete_stream_passes(client: Client) -> None:
    assert reply_problem(client, True, 200, joined(STREAMS[client])) is None


@pytest.mark.parametrize("client", list(Client))
def test_a_complete_body_passes(client: Client) -> None:
    assert reply_problem(client, False, 200, BODIES[client]) is None


@pytest.mark.parametrize("client", list(Client))
def test_a_stream_without_its_final_event_fails(client: Client) -> None:
    problem = reply_problem(client, True, 200, without_last_event(joined(STREAMS[client])))
    assert problem is not None


@pytest.mark.parametrize("client", list(Client))
def test_an_in_stream_error_fails_even_before_a_normal_end(client: Client) -> None:
    segments = STREAMS[client]
    spliced = joined(segments[:1]) + ERROR_FRAMES[client] + joined(segments[1:])
    problem = reply_problem(client, True, 200, spliced)
    assert problem is not None and "error" in problem


@pytest.mark.parametrize("client", list(Client))
def test_a_non_200_status_fails_with_the_body_in_the_message(client: Client) -> None:
    problem = reply_problem(client, False, 529, b'{"type":"error","error":{"type":"overloaded"}}')
    assert problem is not None and problem.startswith("HTTP 529") and "overloaded" in problem


@pytest.mark.parametrize("client", list(Client))
def test_an_error_body_with_status_200_fails(client: Client) -> None:
    assert reply_problem(client, False, 200, b'{"error":{"message":"boom"}}') is not None


def test_a_chat_stream_without_the_usage_chunk_fails() -> None:
    without_usage = joined(canned.chat_stream("m", WORDS, False))
    assert sse_events(without_usage)[-1] == ("", "[DONE]")
    problem = reply_problem(Client.CHAT, True, 200, without_usage)
    assert problem is not None and "usage" in problem


def test_sse_framing_joins_data_lines_and_accepts_any_line_ending() -> None:
    body = b"event: a\r\ndata: 1\r\ndata: 2\r\n\r\n: comment\n\ndata: x\rdata: y\r\r"
    assert sse_events(body) == [("a", "1\n2"), ("", "x\ny")]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://127.0.0.1:8080/"])
def test_loopback_targets_are_accepted(url: str) -> None:
    assert loopback_url(url) == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    "url",
    ["http://localhost:8080", "http://10.0.0.5:8080", "https://api.example.com", "127.0.0.1:80"],
)
def test_other_targets_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="refusing"):
        loopback_url(url)
