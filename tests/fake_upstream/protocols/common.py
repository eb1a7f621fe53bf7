"""What every protocol renderer shares: the reply to send, the completion to render, framing.

A renderer turns a `Completion` (model, text pieces, token counts) into a `Reply`: a status,
headers and the exact body chunks. The sender writes one chunk per write, so a chunk is the unit
for `chunk_delay_ms`, `hang_after` and `drop_after`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

# Fixed so that two runs of the same test produce the same bytes.
CREATED = 1_700_000_000

JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream"


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Token counts in one canonical form; each protocol renders them in its own fields.

    `input` excludes cache reads and writes (Anthropic's meaning), `output` includes `reasoning`
    (OpenAI's and Anthropic's meaning). Renderers add the parts back where a protocol counts
    them together (PROTOCOLS.md 2.5, 4.6, 5.6).
    """

    input: int
    output: int
    cache_read: int = 0
    cache_write: int = 0
    reasoning: int = 0

    @property
    def prompt_total(self) -> int:
        return self.input + self.cache_read + self.cache_write


@dataclass(frozen=True, slots=True)
class Completion:
    """One assistant answer, ready to be rendered in any protocol."""

    request_id: int
    model: str
    pieces: tuple[str, ...]
    usage: TokenUsage

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP response as the exact chunks to write.

    `streamed` replies go out with chunked transfer encoding; the others with a
    Content-Length, like a provider's non-streaming JSON.
    """

    status: int
    chunks: tuple[bytes, ...]
    headers: dict[str, str] = field(default_factory=dict)
    streamed: bool = False

    @property
    def body_length(self) -> int:
        return sum(len(chunk) for chunk in self.chunks)


def split_words(text: str) -> tuple[str, ...]:
    """Split text into stream pieces, one word each with its leading whitespace."""
    return tuple(re.findall(r"\s*\S+|\s+$", text))


def encode_json(value: object, *, indent: int | None = None) -> bytes:
    separators = None if indent else (",", ":")
    return json.dumps(value, ensure_ascii=False, indent=indent, separators=separators).encode()


def sse_data(value: object, *, newline: str = "\n") -> bytes:
    """One `data:`-only SSE frame (OpenAI Chat, Gemini)."""
    return f"data: {encode_json(value).decode()}{newline}{newline}".encode()


def sse_event(event_type: str, value: object) -> bytes:
    """One SSE frame with an `event:` line (OpenAI Responses, Anthropic)."""
    return f"event: {event_type}\ndata: {encode_json(value).decode()}\n\n".encode()


def json_reply(value: object, *, status: int = 200, indent: int | None = None) -> Reply:
    return Reply(status, (encode_json(value, indent=indent),), {"content-type": JSON_TYPE})


def sse_reply(frames: list[bytes]) -> Reply:
    headers = {"content-type": SSE_TYPE, "cache-control": "no-cache"}
    return Reply(200, tuple(frames), headers, streamed=True)
