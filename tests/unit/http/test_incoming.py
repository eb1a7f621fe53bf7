"""Reading a request body off ASGI messages: complete bodies take one receive(), the rest
are read to their end or their declared length, and every malformed body is a clear 400/413."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.core.errors import InvalidRequest, RequestTooLarge
from app.http.incoming import read_body


class Messages:
    """A scripted ``receive``: hands out the given messages in order and counts the calls."""

    def __init__(self, *messages: dict[str, Any]) -> None:
        self._messages = list(messages)
        self.calls = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if not self._messages:
            raise AssertionError("receive() called after the last scripted message")
        return self._messages.pop(0)


def part(body: bytes, more: bool) -> dict[str, Any]:
    return {"type": "http.request", "body": body, "more_body": more}


def read(receive: Messages, declared: bytes | None, limit: int = 1000) -> bytes:
    return asyncio.run(read_body(receive, declared, limit))


def test_a_body_that_meets_its_content_length_takes_one_receive() -> None:
    # Granian sends the whole body with more_body=True, then an empty last message.
    receive = Messages(part(b'{"a":1}', True), part(b"", False))
    assert read(receive, b"7") == b'{"a":1}'
    assert receive.calls == 1


def test_a_body_split_over_messages_is_read_up_to_its_content_length() -> None:
    receive = Messages(part(b'{"a"', True), part(b":1", True), part(b"}", True), part(b"", False))
    assert read(receive, b"7") == b'{"a":1}'
    assert receive.calls == 3


def test_a_chunked_body_is_read_to_its_last_message() -> None:
    receive = Messages(part(b'{"a"', True), part(b":1}", True), part(b"", False))
    assert read(receive, None) == b'{"a":1}'
    assert receive.calls == 3


def test_a_single_last_message_is_the_whole_body() -> None:
    receive = Messages(part(b'{"a":1}', False))
    assert read(receive, None) == b'{"a":1}'
    assert receive.calls == 1


def test_a_body_shorter_than_its_content_length_is_refused() -> None:
    receive = Messages(part(b'{"a"', True), part(b"", False))
    with pytest.raises(InvalidRequest, match="4 bytes; its Content-Length says 7"):
        read(receive, b"7")


def test_a_single_message_shorter_than_its_content_length_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="Content-Length says 9"):
        read(Messages(part(b'{"a":1}', False)), b"9")


def test_a_body_longer_than_its_content_length_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="8 bytes; its Content-Length says 7"):
        read(Messages(part(b'{"a":12}', True)), b"7")


def test_a_client_that_leaves_mid_body_gets_a_400_not_a_crash() -> None:
    receive = Messages(part(b'{"a"', True), {"type": "http.disconnect"})
    with pytest.raises(InvalidRequest, match="closed the connection"):
        read(receive, b"7")


@pytest.mark.parametrize(
    ("declared", "error", "wording"),
    [
        (b"abc", InvalidRequest, "not a number"),
        (b"-1", InvalidRequest, "negative"),
        (b"1001", RequestTooLarge, "1001 bytes; the limit is 1000"),
    ],
)
def test_a_bad_or_oversized_content_length_is_refused_before_reading(
    declared: bytes, error: type[Exception], wording: str
) -> None:
    receive = Messages()
    with pytest.raises(error, match=wording):
        read(receive, declared)
    assert receive.calls == 0


def test_a_chunked_body_over_the_limit_is_refused_while_reading() -> None:
    receive = Messages(part(b"x" * 600, True), part(b"x" * 600, True), part(b"", False))
    with pytest.raises(RequestTooLarge, match="over the 1000-byte limit"):
        read(receive, None)
    assert receive.calls == 2


def test_an_empty_body_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="empty"):
        read(Messages(part(b"", True), part(b"", False)), b"0")
    with pytest.raises(InvalidRequest, match="empty"):
        read(Messages(part(b"", False)), None)
