"""What the fake saw and did, kept in memory for tests to read through the control API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count

from aiohttp import web

from .contract import Event, EventType, LoadStats, RecordedRequest


@dataclass(slots=True)
class Load:
    """Provider requests in the handler right now, per model (the path when the request names
    none), and the most there were at once.

    Keyed by model because a test gives each gateway account its own upstream model name, so
    the counts are per account.
    """

    in_flight: dict[str, int] = field(default_factory=dict)
    peak: dict[str, int] = field(default_factory=dict)

    @contextmanager
    def track(self, key: str) -> Iterator[None]:
        now = self.in_flight.get(key, 0) + 1
        self.in_flight[key] = now
        self.peak[key] = max(self.peak.get(key, 0), now)
        try:
            yield
        finally:
            self.in_flight[key] -= 1

    def stats(self) -> dict[str, LoadStats]:
        return {
            key: LoadStats(in_flight=self.in_flight[key], max_in_flight=self.peak[key])
            for key in sorted(self.in_flight)
        }

    def reset(self) -> None:
        """Forget the peaks; requests still running count on (a reset must not drive a
        count negative when they end)."""
        self.in_flight = {key: n for key, n in self.in_flight.items() if n}
        self.peak = dict(self.in_flight)


@dataclass(slots=True)
class Journal:
    requests: list[RecordedRequest] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    load: Load = field(default_factory=Load)
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
            received_at=time.time(),
        )
        self.requests.append(recorded)
        return recorded

    def reset(self) -> None:
        self.requests.clear()
        self.events.clear()
        self.load.reset()


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
