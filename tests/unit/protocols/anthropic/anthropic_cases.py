"""The Messages golden fixtures (``tests/fixtures/anthropic``) and ways to read and check them."""

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.canonical.names import ToolNames, anthropic_names
from app.canonical.response import StreamEvent
from app.core.sse import event_data, split_events
from app.protocols.anthropic.decode import StreamDecoder

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "anthropic"

REQUESTS = sorted(path.stem for path in (FIXTURES / "requests").glob("*.json"))
RESPONSES = sorted(path.stem for path in (FIXTURES / "responses").glob("*.json"))
STREAMS = sorted(path.stem for path in (FIXTURES / "streams").glob("*.sse"))
# Streams that end in an error instead of message_stop; every other stream has
# a non-stream body of the same reply under the same name.
FAILING_STREAMS = ("overloaded", "truncated")
COMPLETE_STREAMS = [case for case in STREAMS if case not in FAILING_STREAMS]

CREATED = 1_700_000_000


def request_body(case: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / "requests" / f"{case}.json").read_text())
    return body


def response_body(case: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / "responses" / f"{case}.json").read_text())
    return body


def stream_bytes(case: str) -> bytes:
    return (FIXTURES / "streams" / f"{case}.sse").read_bytes()


def tool_names() -> ToolNames:
    """A request's name map in which the client's ``web.lookup`` went upstream as ``web_lookup``."""
    names = anthropic_names()
    assert names.outbound("web.lookup") == "web_lookup"
    return names


def decode_stream(pieces: Iterable[bytes]) -> list[StreamEvent]:
    decoder = StreamDecoder(names=tool_names(), created=CREATED)
    events: list[StreamEvent] = []
    for piece in pieces:
        events += decoder.feed(piece)
    return events + decoder.finish()


def sse_payloads(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(event_data(event)) for event in split_events(data)]
