"""The Gemini golden fixtures (``tests/fixtures/gemini``) and ways to read them."""

import json
from pathlib import Path
from typing import Any

from google.genai import types

from app.canonical.content import TextPart
from app.canonical.names import ToolNames, gemini_names
from app.canonical.request import Message, Request, Role
from app.canonical.response import StreamEvent
from app.core.sse import event_data, split_events
from app.protocols.gemini.decode import StreamDecoder
from app.protocols.gemini.encode import encode_request

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "gemini"

REQUESTS = sorted(path.stem for path in (FIXTURES / "requests").glob("*.json"))
RESPONSES = sorted(path.stem for path in (FIXTURES / "responses").glob("*.json"))
STREAMS = sorted(path.stem for path in (FIXTURES / "streams").glob("*.sse"))

# Streams that complete have a non-stream body of the same reply, same name.
STREAM_BODY = {name: name for name in RESPONSES}
FAILING_STREAMS = ("error", "truncated")

CREATED = 1_700_000_000  # pinned so folded streams and bodies compare whole


def request_body(case: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((FIXTURES / "requests" / f"{case}.json").read_bytes())
    return result


def response_body(case: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((FIXTURES / "responses" / f"{case}.json").read_bytes())
    return result


def stream_bytes(case: str) -> bytes:
    return (FIXTURES / "streams" / f"{case}.sse").read_bytes()


def stream_chunks(case: str) -> list[Any]:
    """The JSON payloads of a stream fixture, in order."""
    return [json.loads(event_data(event)) for event in split_events(stream_bytes(case))]


def array_bytes(case: str) -> bytes:
    """The same stream as ``streamGenerateContent`` sends it without ``alt=sse``:
    one JSON array of pretty-printed elements, ``,\\r\\n`` between them."""
    elements = [json.dumps(chunk, indent=2, ensure_ascii=False) for chunk in stream_chunks(case)]
    return ("[" + "\n,\r\n".join(elements) + "\n]").encode()


def decode_stream(
    pieces: list[bytes], *, sse: bool = True, names: ToolNames | None = None
) -> list[StreamEvent]:
    decoder = StreamDecoder(names=names or gemini_names(), sse=sse, created=CREATED)
    events: list[StreamEvent] = []
    for piece in pieces:
        events += decoder.feed(piece)
    return events + decoder.finish()


def encode_checked(
    request: Request,
    model: str = "gemini-2.5-flash",
    limit: int | None = None,
    names: ToolNames | None = None,
) -> dict[str, Any]:
    """``encode_request``, with every body parsed by the SDK's own request pieces
    (their models forbid unknown keys)."""
    body = encode_request(
        request, model=model, names=names or gemini_names(), max_output_tokens=limit
    )
    for content in body["contents"]:
        types.Content.model_validate(content)
    for tool in body.get("tools", []):
        types.Tool.model_validate(tool)
    types.GenerationConfig.model_validate(body.get("generationConfig", {}))
    types.ToolConfig.model_validate(body.get("toolConfig", {}))
    return body


def user_message(text: str) -> Message:
    return Message(Role.USER, [TextPart(text)])
