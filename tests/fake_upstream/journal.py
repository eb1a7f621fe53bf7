"""What the fake saw and did, kept in memory for tests to read through the control API."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import count

from aiohttp import web

from .contract import Event, EventType, RecordedRequest


@dataclass(slots=True)
class Journal:
    requests: list[RecordedRequest] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    # Ids keep counting across resets so that a late event from an earlier test can never be
    # mistaken for one about the current test's request.
    _ids: count[int] = field(default_factory=lambda: count(1))

    def record_request(self, request: web.BaseRequest, body: bytes) -> RecordedRequest:
        recorded = RecordedRequest(
            id=next(self._ids),
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=_lower_headers(request),
            body=body.decode(errors="replace"),
            json=_parse_json(body),
        )
        self.requests.append(recorded)
        return recorded

    def reset(self) -> None:
        self.requests.clear()
        self.events.clear()


@dataclass(slots=True)
class Exchange:
    """One provider request in flight: counts the chunks written and records how it ended."""

    journal: Journal
    request_id: int
    path: str
    chunks_sent: int = 0
    outcome: EventType | None = None

    def finish(self, outcome: EventType, *, status: int | None = None) -> None:
        # Only the first outcome counts: a scripted drop also cancels the handler, and that
        # must not be reported a second time as a client disconnect.
        if self.outcome is not None:
            return
        self.outcome = outcome
        event = Event(
            type=outcome, request_id=self.request_id, path=self.path, chunks_sent=self.chunks_sent
        )
        if status is not None:
            event["status"] = status
        self.journal.events.append(event)


def _lower_headers(request: web.BaseRequest) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _parse_json(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:  # also covers UnicodeDecodeError
        return None
