"""A finished model reply, and the stream events that build one (PROTOCOLS.md 6.2, 6.3)."""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from app.canonical.content import (
    Part,
    ReasoningPart,
    RefusalPart,
    Signature,
    TextPart,
    ToolCallPart,
)
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


class PartKind(StrEnum):
    TEXT = "text"
    REASONING = "reasoning"
    TOOL_CALL = "tool_call"
    REFUSAL = "refusal"


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

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        return [part for part in self.parts if isinstance(part, ToolCallPart)]


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
    kind: PartKind = PartKind.TEXT
    tool_id: str | None = None  # with TOOL_CALL
    tool_name: str | None = None  # with TOOL_CALL


@dataclass(slots=True)
class TextDelta:
    """Text of a TEXT or REFUSAL part."""

    index: int
    text: str


@dataclass(slots=True)
class ReasoningDelta:
    index: int
    text: str


@dataclass(slots=True)
class SignatureDelta:
    """Opaque state closing a REASONING part, or riding on a TOOL_CALL (Gemini)."""

    index: int
    signature: Signature


@dataclass(slots=True)
class ToolArgsDelta:
    """A fragment of a TOOL_CALL's JSON arguments; the whole JSON may come at once."""

    index: int
    fragment: str


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
    StreamStart
    | PartStart
    | TextDelta
    | ReasoningDelta
    | SignatureDelta
    | ToolArgsDelta
    | PartStop
    | Finish
    | UsageReport
    | StreamEnd
    | StreamError
)


class StreamEncoder(Protocol):
    """A protocol's per-request stream writer: canonical events in, wire bytes out."""

    def encode(self, event: StreamEvent) -> bytes: ...


def response_events(response: Response) -> list[StreamEvent]:
    """The event sequence that folds back into ``response`` (fake streaming, 8.6)."""
    start_usage = Usage(
        input_tokens=response.usage.input_tokens,
        cache_read_tokens=response.usage.cache_read_tokens,
        cache_write_tokens=response.usage.cache_write_tokens,
    )
    events: list[StreamEvent] = [
        StreamStart(response.id, response.model, response.created, start_usage)
    ]
    for index, part in enumerate(response.parts):
        events += part_events(index, part)
    events += [Finish(response.finish, response.stop_sequence), UsageReport(response.usage)]
    events.append(StreamEnd())
    return events


def part_events(index: int, part: Part) -> list[StreamEvent]:
    """One whole part as start, deltas and stop."""
    if isinstance(part, TextPart):
        return [PartStart(index), TextDelta(index, part.text), PartStop(index)]
    if isinstance(part, RefusalPart):
        return [PartStart(index, PartKind.REFUSAL), TextDelta(index, part.text), PartStop(index)]
    if isinstance(part, ToolCallPart):
        events: list[StreamEvent] = [
            PartStart(index, PartKind.TOOL_CALL, part.id, part.name),
            ToolArgsDelta(index, part.arguments),
        ]
        if part.signature is not None:
            events.append(SignatureDelta(index, part.signature))
        return [*events, PartStop(index)]
    if isinstance(part, ReasoningPart):
        events = [PartStart(index, PartKind.REASONING)]
        if part.text:
            events.append(ReasoningDelta(index, part.text))
        if part.signature is not None:
            events.append(SignatureDelta(index, part.signature))
        return [*events, PartStop(index)]
    raise ValueError(f"{type(part).__name__} cannot appear in a model reply")
