"""The Chat Completions golden fixtures (``tests/fixtures/openai_chat``) and ways to read them."""

import json
from pathlib import Path
from typing import Any

from app.canonical.names import ToolNames, openai_names
from app.canonical.response import StreamEvent
from app.protocols.openai_chat.decode import StreamDecoder

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "openai_chat"

REQUESTS = sorted(path.stem for path in (FIXTURES / "requests").glob("*.json"))
RESPONSES = sorted(path.stem for path in (FIXTURES / "responses").glob("*.json"))
STREAMS = sorted(path.stem for path in (FIXTURES / "streams").glob("*.sse"))

# Each stream that completes, and the non-stream body of the same reply.
STREAM_BODY = {
    "text": "text",
    "tool_calls": "tool_calls",
    "tool_calls_interleaved": "tool_calls",
    "text_then_tool": "text_then_tool",
    "reasoning": "reasoning",
    "length": "length",
    "refusal": "refusal",
    "content_filter": "content_filter",
    "tool_call_finish_stop": "tool_call_finish_stop",
}
FAILING_STREAMS = ("error_midstream", "truncated")


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
