"""Per-protocol pieces the relay needs: usage readers, stream taps, in-stream errors."""

from collections.abc import Callable
from typing import Protocol

from app.canonical.protocol import WireProtocol
from app.canonical.response import StreamError
from app.canonical.usage import Usage
from app.core.errors import GatewayError
from app.core.sse import event_data, event_name, split_events
from app.protocols.anthropic.encode import MessagesStreamEncoder
from app.protocols.anthropic.usage import MessagesStreamTap
from app.protocols.anthropic.usage import read_body_usage as anthropic_usage
from app.protocols.gemini.encode import GeminiStreamEncoder
from app.protocols.gemini.usage import GeminiArrayTap, GeminiSSETap
from app.protocols.gemini.usage import read_body_usage as gemini_usage
from app.protocols.openai_chat.encode import ChatStreamEncoder
from app.protocols.openai_chat.usage import ChatStreamTap
from app.protocols.openai_chat.usage import read_body_usage as chat_usage
from app.protocols.openai_responses.encode import stream_failure
from app.protocols.openai_responses.usage import ResponsesStreamTap
from app.protocols.openai_responses.usage import read_body_usage as responses_usage


class StreamTap(Protocol):
    def feed(self, chunk: bytes) -> bytes: ...

    def finish(self) -> bytes: ...

    @property
    def at_boundary(self) -> bool: ...

    def usage(self) -> Usage | None: ...


BODY_USAGE: dict[WireProtocol, Callable[[bytes], Usage | None]] = {
    WireProtocol.OPENAI_CHAT: chat_usage,
    WireProtocol.OPENAI_RESPONSES: responses_usage,
    WireProtocol.ANTHROPIC: anthropic_usage,
    WireProtocol.GEMINI: gemini_usage,
}


def stream_tap(protocol: WireProtocol, *, hide_usage_chunk: bool, gemini_sse: bool) -> StreamTap:
    if protocol is WireProtocol.OPENAI_CHAT:
        return ChatStreamTap(hide_usage_chunk=hide_usage_chunk)
    if protocol is WireProtocol.OPENAI_RESPONSES:
        return ResponsesStreamTap()
    if protocol is WireProtocol.ANTHROPIC:
        return MessagesStreamTap()
    return GeminiSSETap() if gemini_sse else GeminiArrayTap()


def stream_error(
    protocol: WireProtocol,
    tap: StreamTap,
    error: GatewayError,
    *,
    model: str,
    gemini_sse: bool,
    sent_bytes: int,
) -> bytes:
    """The client protocol's in-band error, ending a relayed stream that broke after
    its first byte, so that it never looks like a clean end (PROTOCOLS.md 1.3)."""
    event = StreamError(error.status, error.code or error.kind.value, error.message)
    if protocol is WireProtocol.OPENAI_CHAT:
        return ChatStreamEncoder(include_usage=False).encode(event)
    if protocol is WireProtocol.ANTHROPIC:
        return MessagesStreamEncoder().encode(event)
    if protocol is WireProtocol.OPENAI_RESPONSES:
        assert isinstance(tap, ResponsesStreamTap)
        return stream_failure(
            tap.response_id or "resp_unknown",
            model,
            {},
            next_sequence=tap.last_sequence + 1,
            code=event.kind,
            message=event.message,
        )
    frame = GeminiStreamEncoder(sse=True).encode(event)
    if gemini_sse:
        return frame
    body = frame.removeprefix(b"data: ").rstrip(b"\r\n")
    return (b",\r\n" if sent_bytes > 1 else b"") + body + b"]"


# Events that open a stream before anything the upstream decided: an in-band
# error may still follow them (Responses sends `error` after `response.created`,
# Bifrost#5395), so failover waits past them.
_PREAMBLE = (b"response.created", b"response.in_progress", b"ping")


def only_preamble(protocol: WireProtocol, aligned: bytes) -> bool:
    return all(any(name in event for name in _PREAMBLE) for event in split_events(aligned))


def in_band_error(protocol: WireProtocol, aligned: bytes) -> bool:
    """Whether the first events of a 200 stream are the upstream's error
    (Anthropic/Responses ``event: error``, ``response.failed``, a Chat or Gemini
    ``{"error": ...}`` data line)."""
    for event in split_events(aligned):
        if event_name(event) in (b"error", b"response.failed"):
            return True
        if event_data(event).lstrip()[:9] in (b'{"error":', b'{"error" '):
            return True
    return False
