"""The Responses golden fixtures (``tests/fixtures/openai_responses``) and ways to read them."""

import json
from pathlib import Path
from typing import Any

from app.canonical.names import ToolNames, openai_names
from app.canonical.response import StreamEvent
from app.core.sse import event_data, split_events
from app.protocols.openai_responses.decode import StreamDecoder

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "openai_responses"

REQUESTS = sorted(path.stem for path in (FIXTURES / "requests").glob("*.json"))
RESPONSES = sorted(path.stem for path in (FIXTURES / "responses").glob("*.json"))
STREAMS = sorted(path.stem for path in (FIXTURES / "streams").glob("*.sse"))

# Each stream that completes, and the non-stream body of the same reply.
STREAM_BODY = {
    "text": "text",
    "tool_calls": "tool_calls",
    "reasoning": "reasoning",
    "length": "length",
    "refusal": "refusal",
    "content_filter": "content_filter",
}
FAILING_STREAMS = ("failed", "error_event", "truncated")


def request_body(case: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((FIXTURES / "requests" / f"{case}.json").read_bytes())
    return result


def response_body(case: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((FIXTURES / "responses" / f"{case}.json").read_bytes())
    return result


def stream_bytes(case: str) -> bytes:
    return (FIXTURES / "streams" / f"{case}.sse").read_bytes()


def decode_stream(pieces: list[bytes], names: ToolNames | None = None) -> list[StreamEvent]:
    decoder = StreamDecoder(names=names or openai_names())
    events: list[StreamEvent] = []
    for piece in pieces:
        events += decoder.feed(piece)
    return events + decoder.finish()


def sse_payloads(data: bytes) -> list[dict[str, Any]]:
    """The JSON payload of every event of an SSE byte stream."""
    return [json.loads(event_data(event)) for event in split_events(data)]


def sse(*payloads: dict[str, Any]) -> bytes:
    """Events written the way OpenAI writes them, numbered from 0."""
    frames = []
    for number, payload in enumerate(payloads):
        body = {"sequence_number": number, **payload}
        frames.append(f"event: {payload['type']}\ndata: {json.dumps(body)}\n\n".encode())
    return b"".join(frames)
