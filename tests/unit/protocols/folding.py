"""Folding canonical stream events into the ``Response`` they build (PROTOCOLS.md 6.3, 8.6).

Shared by every protocol's tests: the fold invariant says a decoded stream
folds to the same ``Response`` as the decoded non-stream body of the same
reply. Folding also checks the producer guarantees and fails on a broken
sequence: StreamStart first; part indices 0, 1, 2... in emission order; one
open part at a time, deltas only to the open part and of its kind; Finish,
then UsageReport exactly once, then StreamEnd last.
"""

from app.canonical.content import Part, ReasoningPart, RefusalPart, TextPart, ToolCallPart
from app.canonical.response import (
    Finish,
    PartKind,
    PartStart,
    PartStop,
    ReasoningDelta,
    Response,
    SignatureDelta,
    StreamEnd,
    StreamError,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolArgsDelta,
    UsageReport,
)


def fold_events(events: list[StreamEvent]) -> Response:
    assert events, "no events"
    start = events[0]
    assert isinstance(start, StreamStart), f"first event is {start!r}"
    assert isinstance(events[-1], StreamEnd), f"last event is {events[-1]!r}"
    response = Response(start.id, start.model, start.created, usage=start.usage)
    open_part: Part | None = None
    finished = reported = False
    for event in events[1:-1]:
        assert not isinstance(event, StreamStart | StreamEnd | StreamError), f"stray {event!r}"
        if isinstance(event, PartStart):
            assert open_part is None, f"{event!r} while part {len(response.parts) - 1} is open"
            assert not finished, f"{event!r} after Finish"
            assert event.index == len(response.parts), f"{event!r}: index out of order"
            open_part = _new_part(event)
            response.parts.append(open_part)
        elif isinstance(event, PartStop):
            assert open_part is not None and event.index == len(response.parts) - 1, event
            open_part = None
        elif isinstance(event, Finish):
            assert open_part is None and not finished, f"{event!r} with a part open or twice"
            finished = True
            response.finish, response.stop_sequence = event.reason, event.stop_sequence
        elif isinstance(event, UsageReport):
            assert finished and not reported, f"{event!r} before Finish or twice"
            reported = True
            response.usage = event.usage
        else:
            assert open_part is not None and event.index == len(response.parts) - 1, event
            _apply(open_part, event)
    assert finished and reported, "stream ended without Finish and UsageReport"
    return response


def _new_part(event: PartStart) -> Part:
    if event.kind is PartKind.TOOL_CALL:
        assert event.tool_id and event.tool_name is not None, f"{event!r} without id or name"
        return ToolCallPart(event.tool_id, event.tool_name, arguments="")
    if event.kind is PartKind.REASONING:
        return ReasoningPart()
    if event.kind is PartKind.REFUSAL:
        return RefusalPart("")
    return TextPart("")


def _apply(part: Part, event: StreamEvent) -> None:
    if isinstance(event, TextDelta):
        assert isinstance(part, TextPart | RefusalPart), f"{event!r} into {part!r}"
        part.text += event.text
    elif isinstance(event, ReasoningDelta):
        assert isinstance(part, ReasoningPart), f"{event!r} into {part!r}"
        part.text += event.text
    elif isinstance(event, ToolArgsDelta):
        assert isinstance(part, ToolCallPart), f"{event!r} into {part!r}"
        part.arguments += event.fragment
    elif isinstance(event, SignatureDelta):
        assert isinstance(part, ReasoningPart | ToolCallPart), f"{event!r} into {part!r}"
        part.signature = event.signature
    else:
        raise AssertionError(f"unexpected {event!r}")
