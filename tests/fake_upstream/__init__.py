"""A scriptable fake LLM provider for end-to-end tests, and the client that drives it.

The fake runs as its own process (`python -m tests.fake_upstream`) and speaks OpenAI Chat and
Responses, Anthropic Messages and Gemini. Tests script its next replies and read back what it
received:

    with FakeUpstream.start() as upstream:
        upstream.script({"status": 429, "headers": {"retry-after": "1"}})
        ...  # send traffic through the gateway, pointed at upstream.url
        assert upstream.requests()[0]["path"] == "/v1/messages"

The client uses only the standard library so that plain synchronous tests can use it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from .contract import READY_PREFIX, Event, EventType, LoadStats, RecordedRequest

__all__ = ["Event", "FakeUpstream", "FakeUpstreamError", "LoadStats", "RecordedRequest"]

_REPO_ROOT = Path(__file__).resolve().parents[2]
_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 10.0
_CONTROL_TIMEOUT = 10.0
_POLL_INTERVAL = 0.02

# Bypass any HTTP proxy from the environment: the fake is always on loopback.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class FakeUpstreamError(RuntimeError):
    """The fake did not start, or its control API refused a call (e.g. a malformed action)."""


class FakeUpstream:
    """A running fake upstream process; stop it with `stop()` or by leaving a `with` block."""

    def __init__(self, process: subprocess.Popen[bytes], url: str) -> None:
        self._process = process
        self.url = url

    @classmethod
    def start(cls, *, timeout: float = _START_TIMEOUT) -> FakeUpstream:
        """Spawn the fake on a free loopback port and wait for its ready line."""
        command = [sys.executable, "-m", "tests.fake_upstream", "--host", "127.0.0.1"]
        process = subprocess.Popen(
            [*command, "--port", "0"], cwd=_REPO_ROOT, stdout=subprocess.PIPE
        )
        try:
            line = _read_first_line(process, timeout)
        except BaseException:
            _end_process(process)
            raise
        prefix, _, url = line.partition(" ")
        if prefix != READY_PREFIX or not url:
            _end_process(process)
            raise FakeUpstreamError(f"unexpected first line from the fake upstream: {line!r}")
        return cls(process, url)

    def script(self, *actions: Mapping[str, Any]) -> None:
        """Queue actions; each provider request takes the first one whose `match` fits."""
        self._call("POST", "/__control/script", {"actions": list(actions)})

    def pending(self) -> list[dict[str, Any]]:
        """The queued actions no request has taken yet."""
        result: list[dict[str, Any]] = self._call("GET", "/__control/script")["pending"]
        return result

    def requests(self) -> list[RecordedRequest]:
        result: list[RecordedRequest] = self._call("GET", "/__control/requests")
        return result

    def events(self) -> list[Event]:
        result: list[Event] = self._call("GET", "/__control/events")
        return result

    def wait_for_event(
        self, event_type: EventType, *, request_id: int | None = None, timeout: float = 5.0
    ) -> Event:
        """Poll until an event of this type (for this request, if given) has been recorded.

        Disconnects are noticed asynchronously by the server, so tests wait rather than read
        `events()` once.
        """
        deadline = time.monotonic() + timeout
        while True:
            events = self.events()
            for event in events:
                if event["type"] == event_type and request_id in (None, event["request_id"]):
                    return event
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no {event_type} event within {timeout} s; events: {events}")
            time.sleep(_POLL_INTERVAL)

    def load(self) -> dict[str, LoadStats]:
        """Per model (or path): requests being answered now, and the most at once since the
        last reset."""
        result: dict[str, LoadStats] = self._call("GET", "/__control/load")
        return result

    def reset(self) -> None:
        """Forget queued actions, recorded requests, events and load peaks."""
        self._call("POST", "/__control/reset", {})

    def stop(self) -> int | None:
        """Stop the process (SIGTERM, then SIGKILL) and return its exit code; idempotent."""
        return _end_process(self._process)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _call(self, method: str, path: str, payload: object = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"content-type": "application/json"}
        )
        try:
            with _OPENER.open(request, timeout=_CONTROL_TIMEOUT) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            # An HTTPError holds the open response; close it or pytest's
            # filterwarnings=error turns the ResourceWarning into a failure.
            with error:
                detail = error.read().decode(errors="replace")
            raise FakeUpstreamError(f"{method} {path}: {error.code} {detail}") from None


def _read_first_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    """Read the child's first stdout line, giving up after `timeout` seconds.

    select() on the pipe instead of a reader thread: a thread blocked in readline() cannot be
    interrupted, and would outlive a timed-out start.
    """
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FakeUpstreamError(f"the fake upstream was not ready within {timeout} s")
        readable, _, _ = select.select([descriptor], [], [], remaining)
        if not readable:
            continue
        chunk = os.read(descriptor, 4096)
        if not chunk:
            raise FakeUpstreamError("the fake upstream exited before it was ready")
        data += chunk
    return data.split(b"\n", 1)[0].decode().strip()


def _end_process(process: subprocess.Popen[bytes]) -> int | None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    if process.stdout is not None:
        process.stdout.close()
    return code
