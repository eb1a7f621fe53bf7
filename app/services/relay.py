"""Relaying a client request to a provider account of the same protocol.

The body goes upstream as received (only ``model`` is rewritten when the
account knows the model under another name, and Chat streams are asked for
usage); the upstream's status, useful headers and bytes come back as they
arrived. Usage is read from the passing bytes; one record per request that
reached an upstream is written whatever happens after.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.canonical.protocol import WireProtocol
from app.canonical.usage import Usage
from app.config.model import FailoverSettings
from app.core import json
from app.core.errors import (
    GatewayError,
    RateLimited,
    ServiceOverloaded,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from app.services.auth import Caller
from app.services.codecs import ClientView
from app.services.ledger import Ledger, UsageRecord
from app.services.translate import Job, Translator
from app.services.wires import (
    BODY_USAGE,
    StreamTap,
    in_band_error,
    only_preamble,
    stream_error,
    stream_tap,
)
from app.upstream.accounts import ANTHROPIC_VERSION, Operation, upstream_protocol
from app.upstream.failures import RETRYABLE, FailureClass, classify_status, retry_after_seconds
from app.upstream.limiter import ConcurrencyLimit, Full
from app.upstream.pool import Pool
from app.upstream.registry import Registry, Target
from app.upstream.transport import MediaFetcher, UpstreamRequest, UpstreamResponse

log = logging.getLogger("switchyard.relay")

# Response headers worth passing back: retry hints the SDKs honour, request
# ids for support tickets, and providers' rate-limit reports.
_PASS_HEADERS = frozenset(
    {
        b"content-type",
        b"retry-after",
        b"retry-after-ms",
        b"x-should-retry",
        b"request-id",
        b"x-request-id",
        b"openai-processing-ms",
    }
)
_PASS_PREFIXES = (b"anthropic-ratelimit-", b"x-ratelimit-")
_REQUEST_ID = b"x-switchyard-request-id"


@dataclass(slots=True)
class Call:
    """One client request, as the HTTP layer hands it over."""

    protocol: WireProtocol
    operation: Operation
    body: bytes
    # ``body`` parsed once by the HTTP layer; translations read it and never change it.
    document: dict[str, Any]
    requested_model: str | None
    caller: Caller
    request_id: str
    models_route: str
    include_usage: bool = False
    has_stream_options: bool = False
    path_model: str | None = None  # Gemini: the model named in the URL
    session: str | None = None  # the caller's conversation, for account stickiness
    gemini_sse: bool = True
    forward_headers: dict[str, str] = field(default_factory=dict)

    @property
    def stream(self) -> bool:
        return self.operation is Operation.STREAM


@dataclass(slots=True)
class Reply:
    status: int
    headers: list[tuple[bytes, bytes]]  # lower-case names, as they go to the client
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    # Set when a 200 carries the upstream's failure (an in-band error as the first
    # stream event): the pool counts it as the failure it is.
    failure: FailureClass | None = None


class Relay:
    def __init__(
        self,
        registry: Registry,
        ledger: Ledger,
        media: MediaFetcher,
        pool: Pool,
        *,
        max_response_bytes: int,
        failover: FailoverSettings,
    ) -> None:
        self._registry = registry
        self._ledger = ledger
        self._pool = pool
        self._failover = failover
        self._max_response_bytes = max_response_bytes
        self._translator = Translator(media, self._finish, max_response_bytes=max_response_bytes)

    async def handle(self, call: Call) -> Reply:
        """Try the model's accounts in the pool's order until one answers, failing over
        on retryable failures as long as nothing has reached the client."""
        resolution = self._registry.resolve(call.requested_model, models_route=call.models_route)
        order = self._pool.order(resolution.targets, call.protocol, call.session)
        order = order[: self._failover.max_attempts]
        deadline = _now() + self._failover.deadline
        last: Reply | GatewayError | None = None
        for position, target in enumerate(order):
            final = position == len(order) - 1 or _now() >= deadline
            state = self._pool.state(target.account.name)
            if not state.limit.try_acquire() and not await _wait_for_slot(
                state.limit, target, final
            ):
                continue
            name = target.account.name
            probe = self._pool.take_probe(name)
            try:
                outcome = await self._attempt(call, resolution.model, target, final)
            except FailedAttempt as failed:
                state.limit.release()
                self._pool.failed(name, failed.failure, failed.retry_after, probe=probe)
                if final:
                    raise failed.error from None
                last = failed.error
                continue
            except BaseException:
                state.limit.release()
                self._pool.abandoned(name, probe)
                raise
            if outcome.status < 400:
                self._pool.remember(call.session, name)
            return self._settle(name, state.limit, outcome, probe)
        if isinstance(last, _ReplyError):
            return last.reply  # the upstream's own error reply, unchanged
        if isinstance(last, GatewayError):
            raise last
        raise RateLimited("Every account serving this model is busy; retry shortly.", retry_after=1)

    def _settle(self, name: str, limit: ConcurrencyLimit, reply: Reply, probe: bool) -> Reply:
        """Report the outcome to the pool; free the slot now, or when a stream ends."""
        failure = reply.failure or classify_status(reply.status, reply.body)
        if failure is None:
            self._pool.succeeded(name)
        else:
            retry_after = retry_after_seconds(_text(reply.headers))
            self._pool.failed(name, failure, retry_after, probe=probe)
        if reply.stream is None:
            limit.release()
            return reply
        reply.stream = _releasing(reply.stream, limit)
        return reply

    async def _attempt(self, call: Call, model: str, target: Target, final: bool) -> Reply:
        """One account's try. Raises ``FailedAttempt`` for a failure another account may
        not have (the pool decides what it means for this one)."""
        upstream = upstream_protocol(call.protocol, target.account)
        record = UsageRecord(
            request_id=call.request_id,
            key=call.caller.key_name,
            protocol=call.protocol,  # a StrEnum: a str, and no enum property lookup
            model=model,
            account=target.account.name,
            upstream_model=target.upstream_model,
            upstream_protocol=upstream,
            stream=call.stream,
            started=_now(),
        )
        try:
            if upstream is not call.protocol:
                reply = await self._translate(call, model, target, upstream, record, final)
            else:
                reply = await self._relay(call, target, record, final)
        except (UpstreamUnavailable, UpstreamTimeout) as exc:
            failure = (
                FailureClass.TIMEOUT
                if isinstance(exc, UpstreamTimeout)
                else (FailureClass.CONNECTION)
            )
            status = getattr(exc, "upstream_status", None)
            if status is not None:
                failure = classify_status(status) or FailureClass.TRANSIENT
            raise FailedAttempt(failure, getattr(exc, "retry_after", None), exc) from exc
        except (RateLimited, ServiceOverloaded) as exc:  # translated upstream 429 / 503 / 529
            failure = (
                FailureClass.RATE_LIMIT if isinstance(exc, RateLimited) else FailureClass.OVERLOADED
            )
            raise FailedAttempt(failure, getattr(exc, "retry_after", None), exc) from exc
        if not final and reply.stream is None:
            status_failure = classify_status(reply.status, reply.body)
            if status_failure is not None and status_failure in FAILOVER:
                retry_after = retry_after_seconds(_text(reply.headers))
                raise FailedAttempt(status_failure, retry_after, reply)
        return reply

    async def _translate(
        self,
        call: Call,
        model: str,
        target: Target,
        upstream: WireProtocol,
        record: UsageRecord,
        final: bool,
    ) -> Reply:
        view = ClientView(
            call.document, include_usage=call.include_usage, gemini_sse=call.gemini_sse
        )
        job = Job(call.protocol, upstream, call.path_model, model, target, view, record)
        if call.operation is Operation.COUNT_TOKENS:
            result = await self._translator.count(job)
        else:
            result = await self._translator.handle(
                job,
                model_config=self._registry.model(model),
                operation=call.operation,
                final=final,
            )
        headers = [
            (b"content-type", result.content_type.encode()),
            *result.headers,
            (_REQUEST_ID, call.request_id.encode()),
        ]
        return Reply(result.status, headers, body=result.body, stream=result.stream)

    async def _relay(self, call: Call, target: Target, record: UsageRecord, final: bool) -> Reply:
        """Same protocol on both sides: the bytes pass through."""
        request = _upstream_request(call, target)
        try:
            response = await target.account.transport.send(request)
        except GatewayError as exc:
            self._finish(record, exc.status, "error", exc.message)
            raise
        record.first_byte = _now()
        record.status = response.status
        headers = _client_headers(response.raw_headers, call.request_id)
        if call.stream and response.status < 300:
            tap = stream_tap(
                call.protocol, hide_usage_chunk=not call.include_usage, gemini_sse=call.gemini_sse
            )
            chunks = aiter(response.chunks())
            first = await self._first_events(call, response, tap, chunks, record)
            failure = _in_band_failure(call.protocol, first)
            if failure is not None and not final:
                # The upstream said 200, then failed before anything real: another
                # account may still answer (PROTOCOLS.md E11, USER-PAIN 6).
                response.close()
                self._finish(record, record.status, "upstream_error", _snippet(first))
                raise UpstreamUnavailable(
                    f"in-band error before the first event: {_snippet(first)[:200]}"
                )
            # The last account's in-band error reaches the client as the upstream
            # wrote it, and is recorded and counted as the failure it is.
            error = _snippet(first) if failure is not None else None
            stream = self._stream(call, response, tap, record, first, chunks, error)
            return Reply(response.status, headers, stream=stream, failure=failure)
        return Reply(response.status, headers, body=await self._read(call, response, record))

    async def _first_events(
        self,
        call: Call,
        response: UpstreamResponse,
        tap: StreamTap,
        chunks: AsyncIterator[bytes],
        record: UsageRecord,
    ) -> bytes:
        """The stream's bytes up to its first meaningful event (or its end)."""
        first = b""
        try:
            async for chunk in chunks:
                first += tap.feed(chunk)
                if first and not only_preamble(call.protocol, first):
                    break
        except GatewayError as exc:
            response.close()
            self._finish(record, exc.status, "upstream_error", exc.message)
            raise
        return first

    async def _read(self, call: Call, response: UpstreamResponse, record: UsageRecord) -> bytes:
        try:
            body = await response.read(self._max_response_bytes)
        except GatewayError as exc:
            response.close()
            self._finish(record, exc.status, "upstream_error", exc.message)
            raise
        response.release()
        if response.status < 300:
            record.usage = _safe_usage(call.protocol, body)
            self._finish(record, response.status, "ok")
        else:
            self._finish(record, response.status, "upstream_error", _snippet(body))
        return body

    async def _stream(
        self,
        call: Call,
        response: UpstreamResponse,
        tap: StreamTap,
        record: UsageRecord,
        first: bytes,
        chunks: AsyncIterator[bytes],
        upstream_error: str | None = None,
    ) -> AsyncIterator[bytes]:
        outcome = "ok" if upstream_error is None else "upstream_error"
        error, sent = upstream_error, len(first)
        try:
            if first:
                yield first
            async for chunk in chunks:
                out = tap.feed(chunk)
                if out:
                    sent += len(out)
                    yield out
            tail = tap.finish()
            if tail:
                yield tail
        except GatewayError as exc:
            outcome, error = "upstream_error", exc.message
            yield stream_error(
                call.protocol,
                tap,
                exc,
                model=record.upstream_model or "",
                gemini_sse=call.gemini_sse,
                sent_bytes=sent,
            )
        except (asyncio.CancelledError, GeneratorExit):
            outcome = "client_disconnected"
            raise
        finally:
            if outcome == "ok":
                response.release()
            else:
                response.close()
            record.usage = _safe_tap_usage(tap)
            self._finish(record, record.status, outcome, error)

    def _finish(
        self, record: UsageRecord, status: int, outcome: str, error: str | None = None
    ) -> None:
        record.status, record.outcome, record.error = status, outcome, error
        record.finished = _now()
        self._ledger.record(record)


def _upstream_request(call: Call, target: Target) -> UpstreamRequest:
    account = target.account
    operation = call.operation
    headers = {"content-type": "application/json", **account.auth_headers}
    if call.protocol is WireProtocol.ANTHROPIC:
        headers["anthropic-version"] = call.forward_headers.get(
            "anthropic-version", ANTHROPIC_VERSION
        )
        if "anthropic-beta" in call.forward_headers:
            headers["anthropic-beta"] = call.forward_headers["anthropic-beta"]
    url = account.url(call.protocol, operation, target.upstream_model, call.gemini_sse)
    return UpstreamRequest(
        "POST", url, headers, _upstream_body(call, target.upstream_model), account.timeouts
    )


def _upstream_body(call: Call, upstream_model: str) -> bytes:
    """The client's bytes, unless the model name or Chat stream options must change."""
    if call.protocol is WireProtocol.GEMINI:
        return call.body  # the model travels in the URL
    needs_usage = (
        call.protocol is WireProtocol.OPENAI_CHAT and call.stream and not call.include_usage
    )
    if call.requested_model == upstream_model:
        if not needs_usage:
            return call.body
        if not call.has_stream_options:
            # The common case (the OpenAI SDK's default): splice the key in
            # rather than re-encode a body that may be hundreds of kilobytes.
            return _prepend_key(call.body, b'"stream_options":{"include_usage":true}')
    document = {**call.document, "model": upstream_model}
    if needs_usage:
        options = document.get("stream_options") or {}
        document["stream_options"] = {**options, "include_usage": True}
    return json.dumps(document)


def _prepend_key(body: bytes, member: bytes) -> bytes:
    """``body`` (a validated, non-empty JSON object) with ``member`` as its first key."""
    brace = body.index(b"{") + 1
    return body[:brace] + member + b"," + body[brace:]


def _client_headers(
    upstream: Sequence[tuple[bytes, bytes]], request_id: str
) -> list[tuple[bytes, bytes]]:
    """The upstream's headers worth passing on, as bytes: nothing decoded or re-encoded."""
    headers = []
    for name, value in upstream:
        lowered = name.lower()
        if lowered in _PASS_HEADERS or lowered.startswith(_PASS_PREFIXES):
            headers.append((lowered, value))
    headers.append((_REQUEST_ID, request_id.encode()))
    return headers


def _text(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Headers as text, for reading retry hints off an error reply."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in headers}


def _safe_usage(protocol: WireProtocol, body: bytes) -> Usage | None:
    try:
        return BODY_USAGE[protocol](body)
    except (ValueError, AttributeError, TypeError):
        log.warning("could not read usage from a %s response body", protocol.value)
        return None


def _safe_tap_usage(tap: StreamTap) -> Usage | None:
    try:
        return tap.usage()
    except (ValueError, AttributeError, TypeError):
        log.warning("could not read usage from a relayed stream")
        return None


def _in_band_failure(protocol: WireProtocol, first: bytes) -> FailureClass | None:
    """The failure class of a 200 stream whose first events are the upstream's error."""
    if not in_band_error(protocol, first):
        return None
    if b"rate_limit" in first or b"RESOURCE_EXHAUSTED" in first:
        return FailureClass.RATE_LIMIT
    if b"overloaded" in first:
        return FailureClass.OVERLOADED
    return FailureClass.TRANSIENT


def _snippet(body: bytes) -> str:
    return body[:300].decode("utf-8", "replace")


_now = time.perf_counter  # monotonic seconds, for durations and deadlines


class FailedAttempt(Exception):
    """An account's try failed in a way the next account may not: ``error`` is what the
    client gets if no other account answers."""

    def __init__(
        self, failure: FailureClass, retry_after: float | None, error: GatewayError | Reply
    ) -> None:
        super().__init__(failure.value)
        self.failure = failure
        self.retry_after = retry_after
        self.error = error if isinstance(error, GatewayError) else _ReplyError(error)


class _ReplyError(GatewayError):
    """An upstream error reply kept as is, to be returned if it was the last word."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(f"upstream answered {reply.status}")
        self.reply = reply
        self.status = reply.status


# Failure classes worth another account: everything but the request's own fault.
FAILOVER = RETRYABLE | {FailureClass.CREDENTIAL}


async def _wait_for_slot(limit: ConcurrencyLimit, target: Target, final: bool) -> bool:
    """A slot on a full account, for the last candidate only, after a bounded wait;
    False when another account can be tried instead (the caller tried at once first)."""
    config = target.account.config
    if not final or config.max_waiting == 0:
        return False
    try:
        await limit.acquire(config.max_wait)
    except Full:
        return False
    return True


async def _releasing(stream: AsyncIterator[bytes], limit: ConcurrencyLimit) -> AsyncIterator[bytes]:
    try:
        async for chunk in stream:
            yield chunk
    finally:
        limit.release()
