"""The built-in demo provider: answers every protocol in-process, with no network.

It sits behind the same ``Transport`` interface as a real provider, so a
demo request exercises the same relay path (passthrough, usage reading,
logging) as a real one. Replies are rendered by the protocols' own encoders.
"""

import asyncio
import re
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.canonical.content import TextPart
from app.canonical.protocol import WireProtocol
from app.canonical.response import (
    Response,
    StreamEncoder,
    StreamEvent,
    TextDelta,
    response_events,
)
from app.canonical.tokens import estimate_tokens
from app.canonical.usage import Usage
from app.core import json
from app.protocols.anthropic.encode import MessagesStreamEncoder
from app.protocols.anthropic.encode import encode_response as anthropic_response
from app.protocols.gemini.encode import GeminiStreamEncoder
from app.protocols.gemini.encode import encode_response as gemini_response
from app.protocols.openai_chat.encode import ChatStreamEncoder
from app.protocols.openai_chat.encode import encode_response as chat_response
from app.protocols.openai_responses.encode import ResponsesStreamEncoder
from app.protocols.openai_responses.encode import encode_response as responses_response
from app.upstream.transport import UpstreamRequest, UpstreamResponse

_GEMINI_PATH = re.compile(r"/models/(?P<model>[^/:]+):(?P<method>\w+)$")
_JSON = {"content-type": "application/json"}
_SSE = {"content-type": "text/event-stream", "cache-control": "no-cache"}


class DemoTransport:
    def __init__(self, *, chunk_delay: float) -> None:
        self._chunk_delay = chunk_delay

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        parts = urlsplit(request.url)
        body = json.loads(request.body) if request.body else {}
        gemini = _GEMINI_PATH.search(parts.path)
        if gemini:
            return self._gemini(gemini["model"], gemini["method"], body, parts.query)
        if parts.path.endswith("/messages/count_tokens"):
            return _json({"input_tokens": _prompt_tokens(body)})
        protocol = _PATH_PROTOCOL[parts.path.rsplit("/", 1)[-1]]
        reply = _reply(protocol, body, body.get("model") or "switchyard-demo")
        if not body.get("stream"):
            return _json_bytes(_ENCODE[protocol](reply, body))
        return DemoStream(reply, _stream_encoder(protocol, body), self._chunk_delay)

    def _gemini(
        self, model: str, method: str, body: dict[str, Any], query: str
    ) -> UpstreamResponse:
        if method == "countTokens":
            return _json({"totalTokens": _prompt_tokens(body)})
        reply = _reply(WireProtocol.GEMINI, body, model)
        if method == "generateContent":
            return _json_bytes(gemini_response(reply))
        sse = parse_qs(query).get("alt") == ["sse"]
        return DemoStream(
            reply, GeminiStreamEncoder(sse=sse), self._chunk_delay, _SSE if sse else _JSON
        )


class DemoResponse:
    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.raw_headers = _raw(headers)
        self._body = body

    async def read(self, limit: int) -> bytes:
        return self._body

    async def chunks(self) -> AsyncIterator[bytes]:
        yield self._body

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass


class DemoStream:
    status = 200

    def __init__(
        self,
        reply: Response,
        encoder: StreamEncoder,
        chunk_delay: float,
        headers: Mapping[str, str] = _SSE,
    ) -> None:
        self._reply = reply
        self._encoder = encoder
        self._delay = chunk_delay
        self.headers = headers
        self.raw_headers = _raw(headers)

    async def read(self, limit: int) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    async def chunks(self) -> AsyncIterator[bytes]:
        for event in _word_events(self._reply):
            frame = self._encoder.encode(event)
            if frame:
                yield frame
                if self._delay:
                    await asyncio.sleep(self._delay)

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass


def _word_events(reply: Response) -> list[StreamEvent]:
    """The reply's events with its text cut into one delta per word, like a real model."""
    events: list[StreamEvent] = []
    for event in response_events(reply):
        if isinstance(event, TextDelta):
            events += [TextDelta(event.index, word) for word in re.findall(r"\s*\S+", event.text)]
        else:
            events.append(event)
    return events


def _reply(protocol: WireProtocol, body: dict[str, Any], model: str) -> Response:
    prompt = _last_user_text(protocol, body)
    quoted = (prompt[:77] + "...") if len(prompt) > 80 else prompt
    text = (
        f'Hello from Switchyard\'s demo provider ({model}). You said: "{quoted}". '
        "Set OPENAI_API_KEY, ANTHROPIC_API_KEY or GEMINI_API_KEY, or write a config "
        "file, to reach a real model."
    )
    usage = Usage(input_tokens=_prompt_tokens(body), output_tokens=estimate_tokens(text))
    prefix = {
        WireProtocol.OPENAI_CHAT: "chatcmpl",
        WireProtocol.OPENAI_RESPONSES: "resp",
        WireProtocol.ANTHROPIC: "msg",
        WireProtocol.GEMINI: "demo",
    }[protocol]
    return Response(
        id=f"{prefix}_{secrets.token_hex(12)}",
        model=model,
        created=int(time.time()),
        parts=[TextPart(text)],
        usage=usage,
    )


def _last_user_text(protocol: WireProtocol, body: dict[str, Any]) -> str:
    if protocol is WireProtocol.GEMINI:
        turns = [(c.get("role", "user"), c.get("parts")) for c in body.get("contents", [])]
    elif protocol is WireProtocol.OPENAI_RESPONSES:
        items = body.get("input")
        if isinstance(items, str):
            return items
        turns = [(i.get("role"), i.get("content")) for i in items or [] if isinstance(i, dict)]
    else:
        turns = [(m.get("role"), m.get("content")) for m in body.get("messages", [])]
    for role, content in reversed(turns):
        if role == "user":
            return " ".join(_texts(content)).strip()
    return ""


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [t for item in content for t in _texts(item)]
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return [content["text"]]
    return []


def _prompt_tokens(body: dict[str, Any]) -> int:
    return estimate_tokens(json.dumps(body).decode())


def _stream_encoder(protocol: WireProtocol, body: dict[str, Any]) -> StreamEncoder:
    if protocol is WireProtocol.OPENAI_CHAT:
        options = body.get("stream_options") or {}
        return ChatStreamEncoder(include_usage=bool(options.get("include_usage")))
    if protocol is WireProtocol.OPENAI_RESPONSES:
        return ResponsesStreamEncoder(body)
    return MessagesStreamEncoder()


def _json(payload: dict[str, Any]) -> DemoResponse:
    return _json_bytes(json.dumps(payload))


def _json_bytes(body: bytes) -> DemoResponse:
    return DemoResponse(200, _JSON, body)


_PATH_PROTOCOL = {
    "completions": WireProtocol.OPENAI_CHAT,
    "responses": WireProtocol.OPENAI_RESPONSES,
    "messages": WireProtocol.ANTHROPIC,
}

_ENCODE: dict[WireProtocol, Any] = {
    WireProtocol.OPENAI_CHAT: lambda reply, body: chat_response(reply),
    WireProtocol.OPENAI_RESPONSES: responses_response,
    WireProtocol.ANTHROPIC: lambda reply, body: anthropic_response(reply),
}


def _raw(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode(), value.encode()) for name, value in headers.items()]
