"""What the fake process and its client agree on: the ready line and the control API's JSON.

Standard library only, because the test-side client imports it too.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

READY_PREFIX = "FAKE_UPSTREAM_READY"

# completed: the whole response was written; client_disconnected: the peer went away first;
# dropped: the fake itself cut the connection, as a script asked.
EventType = Literal["completed", "client_disconnected", "dropped"]


class RecordedRequest(TypedDict):
    id: int
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: str
    json: Any  # the parsed body, or None when it is not JSON
    received_at: float  # wall clock (time.time()), to line requests up with other logs


class Event(TypedDict):
    type: EventType
    request_id: int
    path: str
    chunks_sent: int
    status: NotRequired[int]  # on completed events


class LoadStats(TypedDict):
    """Provider requests of one model being handled now, and the most at once since the last
    reset: a gateway's concurrency limit measured from the far side."""

    in_flight: int
    max_in_flight: int
