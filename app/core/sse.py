"""Server-sent events framing, as a consumer (WHATWG event-stream rules).

A relay forwards upstream bytes untouched but only ever in whole events:
``SSEAligner`` holds back a trailing partial event until its blank line
arrives. Upstreams write whole events per packet almost always, so the chunk
object itself is forwarded (zero copy); and if an upstream dies mid-event the
client never receives half an event followed by the gateway's error event.
"""

_BOUNDARIES = ((b"\n\n", 2), (b"\r\n\r\n", 4), (b"\r\r", 2))


def last_boundary(data: bytes) -> int:
    """Offset just past the last blank line in ``data`` (0 when there is none)."""
    end = 0
    for marker, size in _BOUNDARIES:
        at = data.rfind(marker)
        if at != -1 and at + size > end:
            end = at + size
    return end


class SSEAligner:
    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held = b""

    def feed(self, chunk: bytes) -> bytes:
        """The complete events now available, as the exact bytes received."""
        data = self._held + chunk if self._held else chunk
        cut = last_boundary(data)
        if cut == len(data):
            self._held = b""
            return data
        self._held = data[cut:]
        return data[:cut]

    def flush(self) -> bytes:
        """Whatever is held when the stream ends (an event missing its blank line)."""
        held, self._held = self._held, b""
        return held

    @property
    def at_boundary(self) -> bool:
        return not self._held


def split_events(data: bytes) -> list[bytes]:
    """Events of ``data`` with ``\\n`` line ends and no blank lines (``\\r\\n``/``\\r`` folded)."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return [event for part in data.split(b"\n\n") if (event := part.strip(b"\n"))]


def event_name(event: bytes) -> bytes:
    for line in event.split(b"\n"):
        if line.startswith(b"event:"):
            return line[6:].strip()
    return b""


def event_data(event: bytes) -> bytes:
    """The event's data lines joined with newlines; comments are skipped."""
    at = event.find(b"data:")
    if (at == 0 or event[at - 1 : at] == b"\n") and event.find(b"\n", at) == -1:
        # The common case: one data line, the event's last (after `event:`, say).
        return event[at + 6 :] if event[at + 5 : at + 6] == b" " else event[at + 5 :]
    lines = [_field_value(line[5:]) for line in event.split(b"\n") if line.startswith(b"data:")]
    return lines[0] if len(lines) == 1 else b"\n".join(lines)


def _field_value(raw: bytes) -> bytes:
    return raw[1:] if raw[:1] == b" " else raw
