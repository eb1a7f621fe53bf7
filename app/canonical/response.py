"""A finished model reply, and the stream events that build one (PROTOCOLS.md 6.2, 6.3)."""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from app.canonical.usage import Usage


class FinishReason(StrEnum):
    STOP = "stop"
    STOP_SEQUENCE = "stop_sequence"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    CONTENT_FILTER = "content_filter"
    REFUSAL = "refusal"
    PAUSE = "pause"
    CONTEXT_OVERFLOW = "context_overflow"
    ERROR = "error"


@dataclass(slots=True)
class TextPart:
    text: str


Part = TextPart


@dataclass(slots=True)
class Response:
    id: str
    model: str
    created: int
    parts: list[Part] = field(default_factory=list)
    finish: FinishReason = FinishReason.STOP
    stop_sequence: str | None = None
    usage: Usage = field(default_factory=Usage)

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.parts if isinstance(part, TextPart))


# Stream events. Producers guarantee: StreamStart first; every PartStart has
# a PartStop before the next PartStart; Finish, then UsageReport, then
# StreamEnd last (or StreamError instead of the rest).


@dataclass(slots=True)
class StreamStart:
    id: str
    model: str
    created: int
    usage: Usage = field(default_factory=Usage)


@dataclass(slots=True)
class PartStart:
    index: int
    kind: str = "text"


@dataclass(slots=True)
class TextDelta:
    index: int
    text: str


@dataclass(slots=True)
class PartStop:
    index: int


@dataclass(slots=True)
class Finish:
    reason: FinishReason
    stop_sequence: str | None = None


@dataclass(slots=True)
class UsageReport:
    usage: Usage


@dataclass(slots=True)
class StreamEnd:
    pass


@dataclass(slots=True)
class StreamError:
    status: int
    kind: str
    message: str


StreamEvent = (
    StreamStart | PartStart | TextDelta | PartStop | Finish | UsageReport | StreamEnd | StreamError
)


class StreamEncoder(Protocol):
    """A protocol's per-request stream writer: canonical events in, wire bytes out."""

    def encode(self, event: StreamEvent) -> bytes: ...


def response_events(response: Response) -> list[StreamEvent]:
    """The event sequence that folds back into ``response`` (fake streaming, 8.6)."""
    events: list[StreamEvent] = [
        StreamStart(
            response.id,
            response.model,
            response.created,
            Usage(
                input_tokens=response.usage.input_tokens,
                cache_read_tokens=response.usage.cache_read_tokens,
                cache_write_tokens=response.usage.cache_write_tokens,
            ),
        )
    ]
    for index, part in enumerate(response.parts):
        events += [PartStart(index), TextDelta(index, part.text), PartStop(index)]
    events += [Finish(response.finish, response.stop_sequence), UsageReport(response.usage)]
    events.append(StreamEnd())
    return events
