"""Reading usage from relayed SSE bytes without re-encoding them.

A tap is fed every chunk on its way to the client and returns the bytes to
forward: whole events only, normally the very chunk object it was given
(zero copy). It looks only at events that carry a usage marker, keeps them,
and parses them once, at the end.
"""

from app.canonical.usage import Usage
from app.core.sse import SSEAligner, split_events


def usage_is_present(event: bytes, marker: bytes) -> bool:
    """``marker`` occurs in ``event`` and is not followed by ``null``."""
    at = event.find(marker)
    while at != -1:
        rest = event[at + len(marker) : at + len(marker) + 8].lstrip(b": ")
        if not rest.startswith(b"null"):
            return True
        at = event.find(marker, at + 1)
    return False


class SSETap:
    """Base tap: aligns to whole events and hands those holding ``marker`` to ``inspect``."""

    marker: bytes = b""

    def __init__(self) -> None:
        self._aligner = SSEAligner()

    def feed(self, chunk: bytes) -> bytes:
        aligned = self._aligner.feed(chunk)
        if aligned and self.marker in aligned:
            return self.inspect(aligned)
        return aligned

    def finish(self) -> bytes:
        rest = self._aligner.flush()
        if rest and self.marker in rest:
            return self.inspect(rest)
        return rest

    @property
    def at_boundary(self) -> bool:
        return self._aligner.at_boundary

    def inspect(self, aligned: bytes) -> bytes:
        """Look at the events of ``aligned``; return the bytes to forward."""
        raise NotImplementedError

    def usage(self) -> Usage | None:
        raise NotImplementedError


class LastUsageEventTap(SSETap):
    """Keeps the last event whose ``marker`` is not null; the protocol parses it."""

    def __init__(self) -> None:
        super().__init__()
        self.last: bytes | None = None

    def inspect(self, aligned: bytes) -> bytes:
        for event in split_events(aligned):
            if self.marker in event and usage_is_present(event, self.marker):
                self.last = event
        return aligned
