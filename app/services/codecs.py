"""The four protocol spokes behind one interface, for the translating relay.

Each protocol package exposes decoders and encoders with its own keyword
needs (Gemini takes the model from the URL, Responses echoes the client's
request, Chat may need ``max_tokens``); this table adapts them to one shape
so the relay never branches on a protocol pair.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from app.canonical.names import ToolNames, anthropic_names, gemini_names, openai_names
from app.canonical.protocol import WireProtocol
from app.canonical.request import Request
from app.canonical.response import Response, StreamEncoder, StreamEvent
from app.protocols.anthropic import decode as anthropic_decode
from app.protocols.anthropic import encode as anthropic_encode
from app.protocols.gemini import decode as gemini_decode
from app.protocols.gemini import encode as gemini_encode
from app.protocols.openai_chat import decode as chat_decode
from app.protocols.openai_chat import encode as chat_encode
from app.protocols.openai_responses import decode as responses_decode
from app.protocols.openai_responses import encode as responses_encode


class StreamDecoder(Protocol):
    def feed(self, chunk: bytes) -> list[StreamEvent]: ...

    def finish(self) -> list[StreamEvent]: ...


@dataclass(frozen=True, slots=True)
class ClientView:
    """What the client-side encoders need to know about the client's request."""

    body: dict[str, Any]
    include_usage: bool = False
    gemini_sse: bool = True

    @property
    def include_thoughts(self) -> bool:
        config = self.body.get("generationConfig") or self.body.get("generation_config") or {}
        thinking = config.get("thinkingConfig") or config.get("thinking_config") or {}
        return bool(thinking.get("includeThoughts") or thinking.get("include_thoughts"))


@dataclass(frozen=True, slots=True)
class Codec:
    decode_request: Callable[[dict[str, Any], str | None], Request]
    encode_request: Callable[[Request, str, ToolNames, int | None, bool], dict[str, Any]]
    decode_response: Callable[[dict[str, Any], ToolNames], Response]
    stream_decoder: Callable[[ToolNames, bool], StreamDecoder]
    encode_response: Callable[[Response, ClientView], bytes]
    stream_encoder: Callable[[ClientView], StreamEncoder]
    names: Callable[[], ToolNames]


CODECS: dict[WireProtocol, Codec] = {
    WireProtocol.OPENAI_CHAT: Codec(
        decode_request=lambda body, _model: chat_decode.decode_request(body),
        encode_request=lambda request, model, names, limit, legacy: chat_encode.encode_request(
            request, model=model, names=names, max_output_tokens=limit, legacy_max_tokens=legacy
        ),
        decode_response=lambda body, names: chat_decode.decode_response(body, names=names),
        stream_decoder=lambda names, _sse: chat_decode.StreamDecoder(names=names),
        encode_response=lambda response, _view: chat_encode.encode_response(response),
        stream_encoder=lambda view: chat_encode.ChatStreamEncoder(include_usage=view.include_usage),
        names=openai_names,
    ),
    WireProtocol.OPENAI_RESPONSES: Codec(
        decode_request=lambda body, _model: responses_decode.decode_request(body),
        encode_request=lambda request, model, names, limit, _legacy: (
            responses_encode.encode_request(
                request, model=model, names=names, max_output_tokens=limit
            )
        ),
        decode_response=lambda body, names: responses_decode.decode_response(body, names=names),
        stream_decoder=lambda names, _sse: responses_decode.StreamDecoder(names=names),
        encode_response=lambda response, view: responses_encode.encode_response(
            response, view.body
        ),
        stream_encoder=lambda view: responses_encode.ResponsesStreamEncoder(view.body),
        names=openai_names,
    ),
    WireProtocol.ANTHROPIC: Codec(
        decode_request=lambda body, _model: anthropic_decode.decode_request(body),
        encode_request=lambda request, model, names, limit, _legacy: (
            anthropic_encode.encode_request(
                request, model=model, names=names, max_output_tokens=limit
            )
        ),
        decode_response=lambda body, names: anthropic_decode.decode_response(body, names=names),
        stream_decoder=lambda names, _sse: anthropic_decode.StreamDecoder(names=names),
        encode_response=lambda response, _view: anthropic_encode.encode_response(response),
        stream_encoder=lambda _view: anthropic_encode.MessagesStreamEncoder(),
        names=anthropic_names,
    ),
    WireProtocol.GEMINI: Codec(
        decode_request=lambda body, model: gemini_decode.decode_request(body, model=model or ""),
        encode_request=lambda request, model, names, limit, _legacy: gemini_encode.encode_request(
            request, model=model, names=names, max_output_tokens=limit
        ),
        decode_response=lambda body, names: gemini_decode.decode_response(body, names=names),
        stream_decoder=lambda names, sse: gemini_decode.StreamDecoder(names=names, sse=sse),
        encode_response=lambda response, view: gemini_encode.encode_response(
            response, include_thoughts=view.include_thoughts
        ),
        stream_encoder=lambda view: gemini_encode.GeminiStreamEncoder(
            sse=view.gemini_sse, include_thoughts=view.include_thoughts
        ),
        names=gemini_names,
    ),
}
