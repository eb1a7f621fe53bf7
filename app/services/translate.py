"""Relaying a request to an account of another protocol, through the canonical form.

client bytes -> client decoder -> ``Request`` -> media inlined -> upstream
encoder -> upstream; upstream reply -> upstream decoder -> ``Response`` or
stream events -> client encoder -> client bytes. The relay chooses this path
only when no account speaks the client's protocol for the model.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from app.canonical.protocol import WireProtocol
from app.canonical.request import Request
from app.canonical.response import (
    StreamEncoder,
    StreamEnd,
    StreamError,
    StreamEvent,
    StreamStart,
    UsageReport,
)
from app.canonical.tokens import estimate_request_tokens
from app.canonical.usage import Usage
from app.config.model import ModelConfig, ProviderType
from app.core import json
from app.core.errors import (
    GatewayError,
    InvalidRequest,
    NotFound,
    RateLimited,
    RequestTooLarge,
    ServiceOverloaded,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from app.protocols.errors import upstream_error_message
from app.services.codecs import CODECS, ClientView, StreamDecoder
from app.services.ledger import UsageRecord
from app.services.media import inline_media
from app.upstream.accounts import ANTHROPIC_VERSION, Operation
from app.upstream.registry import Target
from app.upstream.transport import MediaFetcher, UpstreamRequest, UpstreamResponse

log = logging.getLogger("switchyard.translate")

Finish = Callable[[UsageRecord, int, str, str | None], None]


@dataclass(slots=True)
class Translated:
    """What the handler needs back: a status, a JSON body or a stream of client bytes."""

    status: int
    content_type: str
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Job:
    """One translated call: who speaks what on each side, and where it goes."""

    client: WireProtocol
    upstream: WireProtocol
    path_model: str | None
    public_model: str
    target: Target
    view: ClientView
    record: UsageRecord


@dataclass(slots=True)
class _StreamState:
    usage: Usage | None = None
    outcome: str = "ok"
    error: str | None = None
    ended: bool = False


class Translator:
    def __init__(self, media: MediaFetcher, finish: Finish, *, max_response_bytes: int) -> None:
        self._media = media
        self._finish = finish
        self._max_response_bytes = max_response_bytes

    async def handle(
        self,
        job: "Job",
        *,
        model_config: ModelConfig | None,
        operation: Operation,
        final: bool = True,
    ) -> Translated:
        source, target = CODECS[job.client], CODECS[job.upstream]
        request = source.decode_request(job.view.body, job.path_model)
        request.model = job.public_model
        request.stream = operation is Operation.STREAM
        await inline_media(request, job.upstream, self._media)
        names = target.names()
        limit = model_config.max_output_tokens if model_config else None
        account = job.target.account
        legacy = account.config.type is ProviderType.OPENAI_COMPATIBLE
        body = target.encode_request(request, job.target.upstream_model, names, limit, legacy)
        url = account.url(job.upstream, operation, job.target.upstream_model, True)
        response = await self._send(job.target, job.upstream, url, body, job.record)
        if response.status >= 400:
            raise await self._failure(response, job.record)
        if operation is Operation.STREAM:
            decoder = target.stream_decoder(names, True)
            chunks = aiter(response.chunks())
            first = await self._first_events(response, decoder, chunks, job.record)
            if not final and any(isinstance(event, StreamError) for event in first):
                # An in-band error before anything real: another account may answer.
                response.close()
                message = next(e.message for e in first if isinstance(e, StreamError))
                self._finish(job.record, job.record.status, "upstream_error", message)
                raise UpstreamUnavailable(f"in-band error before the first event: {message}")
            stream = self._stream(
                response,
                decoder,
                source.stream_encoder(job.view),
                job.public_model,
                job.record,
                first,
                chunks,
            )
            return Translated(200, _stream_type(job), stream=stream)
        raw = await self._read(response, job.record)
        try:
            reply = target.decode_response(json.loads(raw), names)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self._finish(job.record, 502, "upstream_error", f"unreadable reply: {exc}")
            raise UpstreamUnavailable(
                "The upstream sent a reply the gateway could not read."
            ) from exc
        reply.model = job.public_model
        job.record.usage = reply.usage
        self._finish(job.record, 200, "ok", None)
        return Translated(200, "application/json", source.encode_response(reply, job.view))

    async def count(self, job: "Job") -> Translated:
        """Token counting for a client of another protocol: the upstream's own counter
        where it has one, else (or when it fails) a local estimate, labelled as such."""
        body = job.view.body
        embedded = body.get("generateContentRequest") or body.get("generate_content_request")
        if job.client is WireProtocol.GEMINI and isinstance(embedded, dict):
            body = embedded
        request = CODECS[job.client].decode_request(body, job.path_model)
        request.model = job.public_model
        tokens = await self._count_upstream(request, job.upstream, job.target, job.record)
        source = "upstream"
        if tokens is None:
            tokens, source = estimate_request_tokens(count_texts(request)), "estimate"
        self._finish(job.record, 200, "ok", None)
        gemini = job.client is WireProtocol.GEMINI
        reply = {"totalTokens": tokens} if gemini else {"input_tokens": tokens}
        return Translated(
            200,
            "application/json",
            json.dumps(reply),
            headers=[(b"x-switchyard-token-count", source.encode())],
        )

    async def _count_upstream(
        self, request: Request, upstream: WireProtocol, target: Target, record: UsageRecord
    ) -> int | None:
        counting = _COUNTERS.get(upstream)
        if counting is None or target.account.config.type is ProviderType.OPENAI_COMPATIBLE:
            return None
        names = CODECS[upstream].names()
        encoded = CODECS[upstream].encode_request(
            request, target.upstream_model, names, None, False
        )
        url = target.account.url(upstream, Operation.COUNT_TOKENS, target.upstream_model, True)
        try:
            response = await self._post(target, upstream, url, counting.body(encoded, target))
            record.status = response.status
            raw = await response.read(self._max_response_bytes)
            response.release()
            tokens = json.loads(raw).get(counting.field) if response.status < 400 else None
        except (GatewayError, ValueError, AttributeError) as exc:
            log.warning("token count from %s failed (%s); estimating", target.account.name, exc)
            return None
        if not isinstance(tokens, int):
            log.warning(
                "upstream %s could not count tokens (HTTP %d); estimating",
                target.account.name,
                response.status,
            )
            return None
        return tokens

    async def _post(
        self, target: Target, upstream: WireProtocol, url: str, body: dict[str, Any]
    ) -> UpstreamResponse:
        headers = {"content-type": "application/json", **target.account.auth_headers}
        if upstream is WireProtocol.ANTHROPIC:
            headers["anthropic-version"] = ANTHROPIC_VERSION
        request = UpstreamRequest("POST", url, headers, json.dumps(body), target.account.timeouts)
        return await target.account.transport.send(request)

    async def _send(
        self,
        target: Target,
        upstream: WireProtocol,
        url: str,
        body: dict[str, Any],
        record: UsageRecord,
    ) -> UpstreamResponse:
        try:
            response = await self._post(target, upstream, url, body)
        except GatewayError as exc:
            self._finish(record, exc.status, "error", exc.message)
            raise
        record.status = response.status
        record.first_byte = time.perf_counter()
        return response

    async def _read(self, response: UpstreamResponse, record: UsageRecord) -> bytes:
        try:
            raw = await response.read(self._max_response_bytes)
        except GatewayError as exc:
            response.close()
            self._finish(record, exc.status, "upstream_error", exc.message)
            raise
        response.release()
        return raw

    async def _failure(self, response: UpstreamResponse, record: UsageRecord) -> GatewayError:
        raw = await self._read(response, record)
        error = upstream_failure(response.status, raw, response.headers.get("retry-after"))
        # The pool classifies the failure by the upstream's own status, not the
        # status family the client is shown.
        error.upstream_status = response.status  # type: ignore[attr-defined]
        self._finish(record, response.status, "upstream_error", error.message)
        return error

    async def _first_events(
        self,
        response: UpstreamResponse,
        decoder: StreamDecoder,
        chunks: AsyncIterator[bytes],
        record: UsageRecord,
    ) -> list[StreamEvent]:
        """Decoded events up to the first one past ``StreamStart`` (or the stream's end)."""
        events: list[StreamEvent] = []
        try:
            async for chunk in chunks:
                events += decoder.feed(chunk)
                if any(not isinstance(event, StreamStart) for event in events):
                    return events
        except GatewayError as exc:
            response.close()
            self._finish(record, exc.status, "upstream_error", exc.message)
            raise
        return events + decoder.finish()

    async def _stream(
        self,
        response: UpstreamResponse,
        decoder: StreamDecoder,
        encoder: StreamEncoder,
        public_model: str,
        record: UsageRecord,
        first: list[StreamEvent],
        chunks: AsyncIterator[bytes],
    ) -> AsyncIterator[bytes]:
        state = _StreamState()
        try:
            out = _encode(first, encoder, public_model, state)
            if out:
                yield out
            async for chunk in chunks if not state.ended else _nothing():
                out = _encode(decoder.feed(chunk), encoder, public_model, state)
                if out:
                    yield out
                if state.ended:
                    break
            if not state.ended:
                out = _encode(decoder.finish(), encoder, public_model, state)
                if out:
                    yield out
        except GatewayError as exc:
            state.outcome, state.error = "upstream_error", exc.message
            yield encoder.encode(StreamError(exc.status, exc.code or exc.kind.value, exc.message))
        except (asyncio.CancelledError, GeneratorExit):
            state.outcome = "client_disconnected"
            raise
        except Exception:
            # A stream the decoders cannot follow must still end visibly failed,
            # never as a cut that looks like a clean end.
            log.exception("could not translate an upstream stream")
            state.outcome, state.error = "error", "untranslatable upstream stream"
            message = "The upstream sent a stream the gateway could not translate."
            yield encoder.encode(StreamError(502, "upstream_unavailable", message))
        finally:
            if state.outcome == "ok" and state.ended:
                response.release()
            else:
                response.close()
            record.usage = state.usage
            self._finish(record, record.status, state.outcome, state.error)


@dataclass(frozen=True, slots=True)
class _Counter:
    """How an upstream protocol's count endpoint takes a request and names its answer."""

    keep: frozenset[str]
    field: str
    wrap: bool = False

    def body(self, encoded: dict[str, Any], target: Target) -> dict[str, Any]:
        kept = {key: value for key, value in encoded.items() if key in self.keep}
        if self.wrap:  # Gemini: {"generateContentRequest": {"model": "models/x", ...}}
            return {"generateContentRequest": {"model": f"models/{target.upstream_model}", **kept}}
        return kept


_COUNTERS = {
    WireProtocol.ANTHROPIC: _Counter(
        frozenset({"model", "messages", "system", "tools", "tool_choice", "thinking"}),
        "input_tokens",
    ),
    WireProtocol.GEMINI: _Counter(
        frozenset({"contents", "systemInstruction", "tools", "toolConfig"}),
        "totalTokens",
        wrap=True,
    ),
    WireProtocol.OPENAI_RESPONSES: _Counter(
        frozenset(
            {
                "model",
                "input",
                "instructions",
                "tools",
                "tool_choice",
                "reasoning",
                "text",
                "parallel_tool_calls",
            }
        ),
        "input_tokens",
    ),
}


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""


def _stream_type(job: "Job") -> str:
    """Gemini streams without ``alt=sse`` are one JSON array, not server-sent events."""
    if job.client is WireProtocol.GEMINI and not job.view.gemini_sse:
        return "application/json"
    return "text/event-stream"


_NOTED = (StreamStart, UsageReport, StreamError, StreamEnd)


def _encode(
    events: list[StreamEvent], encoder: StreamEncoder, public_model: str, state: _StreamState
) -> bytes:
    frames = []
    for event in events:
        if isinstance(event, _NOTED):  # one check for the deltas, most events
            if isinstance(event, StreamStart):
                event.model = public_model
            elif isinstance(event, UsageReport):
                state.usage = event.usage
            elif isinstance(event, StreamError):
                state.outcome, state.error, state.ended = "upstream_error", event.message, True
            else:
                state.ended = True
        frames.append(encoder.encode(event))
    return frames[0] if len(frames) == 1 else b"".join(frames)


def upstream_failure(status: int, body: bytes, retry_after: str | None) -> GatewayError:
    """An upstream error reply of another protocol, as the gateway error the client's
    protocol renders: status families kept (PROTOCOLS.md 7.14), message kept."""
    message = upstream_error_message(body) or f"The upstream answered HTTP {status}."
    if status == 429:
        return RateLimited(message, retry_after=_seconds(retry_after))
    if status in (401, 403):
        # The provider refused the gateway's own credentials: not the caller's key.
        return UpstreamUnavailable(f"The upstream account's credentials were refused: {message}")
    if status == 404:
        return NotFound(message)
    if status == 413:
        return RequestTooLarge(message)
    if status in (503, 529):
        return ServiceOverloaded(message)
    if status == 504:
        return UpstreamTimeout(message)
    if 400 <= status < 500:
        return InvalidRequest(message)
    return UpstreamUnavailable(message)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def count_texts(request: Request) -> list[str]:
    """The texts a local token estimate counts: system, messages, tool definitions."""
    texts = list(request.system)
    for message in request.messages:
        for part in message.parts:
            text = getattr(part, "text", None) or getattr(part, "arguments", None)
            if isinstance(text, str):
                texts.append(text)
    texts += [
        json.dumps([tool.name, tool.description, tool.parameters]).decode()
        for tool in request.tools
    ]
    return texts
