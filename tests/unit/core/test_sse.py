import pytest

from app.core.sse import SSEAligner, event_data, event_name, last_boundary, split_events

STREAM = (
    b'event: message_start\ndata: {"a":1}\n\n'
    b": a comment\n\n"
    b"event: delta\r\ndata: line one\r\ndata: line two\r\n\r\n"
    b'data: {"b":2}\r\rdata: [DONE]\n\n'
)


def feed_split(data: bytes, cut: int) -> tuple[list[bytes], bytes]:
    aligner = SSEAligner()
    out = [aligner.feed(data[:cut]), aligner.feed(data[cut:])]
    return out, aligner.flush()


@pytest.mark.parametrize("cut", range(len(STREAM) + 1))
def test_aligner_forwards_every_byte_in_whole_events_whatever_the_split(cut: int) -> None:
    parts, rest = feed_split(STREAM, cut)
    assert b"".join(parts) == STREAM
    assert rest == b""
    for part in parts:
        assert part == b"" or last_boundary(part) == len(part)


def test_aligner_returns_the_chunk_object_itself_when_it_ends_on_a_boundary() -> None:
    chunk = b"data: {}\n\n"
    assert SSEAligner().feed(chunk) is chunk


def test_aligner_holds_a_partial_event_until_its_blank_line() -> None:
    aligner = SSEAligner()
    assert aligner.feed(b'data: {"x":') == b""
    assert not aligner.at_boundary
    assert aligner.feed(b"1}\n\ndata: {") == b'data: {"x":1}\n\n'
    assert aligner.flush() == b"data: {"


def test_split_events_folds_line_endings_and_drops_blank_events() -> None:
    events = split_events(STREAM)
    assert [event_name(event) for event in events] == [b"message_start", b"", b"delta", b"", b""]
    assert event_data(events[0]) == b'{"a":1}'
    assert event_data(events[2]) == b"line one\nline two"
    assert event_data(events[3]) == b'{"b":2}'
    assert event_data(events[4]) == b"[DONE]"
