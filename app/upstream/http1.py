"""HTTP/1.1 on a raw asyncio Protocol, the upstream client's wire side: a ``Connection``
per socket and a ``Response`` per exchange, fed by httptools (llhttp, as uvicorn uses it).

Deadlines (``Timeouts``) once a connection is in hand: ``first_byte`` bounds the wait from
the request to the response's headers; ``idle`` each gap between packets of the body
while the reader wants more; ``total`` the whole exchange (it began before, with the wait
for a connection; see app.upstream.client). One timer handle per exchange carries them:
packets only move the idle deadline forward, and the timer, when it fires early, re-arms
itself at the deadline in force - not a timeout context per read.

Failures become the gateway's errors here, once, with the wording the gateway has always
logged (the end-to-end tests read some of it).
"""

import asyncio
import weakref
from collections.abc import AsyncIterator
from typing import NamedTuple, cast

import httptools  # noqa: TID251 - the one module that parses HTTP

from app.config.model import Timeouts
from app.core.errors import UpstreamTimeout, UpstreamUnavailable
from app.upstream.connections import OriginPool, PooledConnection
from app.upstream.encodings import ContentDecoder
from app.upstream.headers import ResponseHeaders

# Unread body bytes past which the socket is no longer read (the upstream then feels
# TCP backpressure); reading resumes once the reader has taken what is buffered.
HIGH_WATER = 256 * 1024
# A timer may fire a little before its time (clock resolution); this close counts as due.
_SLACK = 0.001

_TIMEOUT = "timeout"
_CLOSED = "closed"


class Target(NamedTuple):
    origin: str
    head: bytes  # request line and Host header
    head_request: bool
    sends_length: bool  # a Content-Length even for an empty body


class Connection(PooledConnection):
    """One TCP (or TLS) connection; it serves one exchange at a time, its ``response``.

    It holds the response weakly: a response the gateway drops without release() or
    close() (a stream never iterated) is collected, and closes its connection then,
    instead of holding it and its slot of the pool until a deadline."""

    __slots__ = ("_exchange", "_pool", "_transport")

    def __init__(self, pool: OriginPool["Connection"]) -> None:
        super().__init__()
        self._pool = pool
        self._transport: asyncio.Transport | None = None
        self._exchange: weakref.ref[Response] | None = None

    @property
    def pool(self) -> OriginPool["Connection"]:
        return self._pool

    @property
    def response(self) -> "Response | None":
        return None if self._exchange is None else self._exchange()

    @response.setter
    def response(self, response: "Response | None") -> None:
        self._exchange = None if response is None else weakref.ref(response)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        exchange = self._exchange
        response = None if exchange is None else exchange()
        if response is None:  # bytes no request asked for: the connection is not usable
            self.abort()
            return
        response.feed(data)

    def eof_received(self) -> bool:
        if self.response is not None:
            self.response.ended()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._pool.dropped(self)
        response, self._exchange = self.response, None
        if response is not None:
            response.ended()

    def write(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.write(data)

    def flushed(self) -> bool:
        """All of the request went out: an upstream that answered before reading it all
        would take the rest for the next request."""
        return self._transport is not None and self._transport.get_write_buffer_size() == 0

    def pause(self) -> None:
        if self._transport is not None and not self.closed:
            self._transport.pause_reading()

    def resume(self) -> None:
        if self._transport is not None and not self.closed:
            self._transport.resume_reading()

    def abort(self) -> None:
        """Close at once, unsent bytes dropped (an unfinished upstream generation stops)."""
        if self.closed:
            return
        self.closed = True
        self._pool.dropped(self)
        if self._transport is not None:
            self._transport.abort()
        response, self._exchange = self.response, None
        if response is not None:  # the pool closing under an exchange
            response.ended()


class Response:
    """One exchange: fed by its connection's packets, read by the gateway (the
    app.upstream.transport.UpstreamResponse interface)."""

    __slots__ = (
        "__weakref__",
        "_body",
        "_buffered",
        "_complete",
        "_conn",
        "_deadline",
        "_decoder",
        "_encoding",
        "_failure",
        "_first_byte_at",
        "_framed",
        "_headers",
        "_headers_done",
        "_idle",
        "_idle_at",
        "_keep_alive",
        "_length",
        "_loop",
        "_parser",
        "_paused",
        "_raw",
        "_received",
        "_target",
        "_timer",
        "_timer_at",
        "_waiter",
        "status",
    )

    def __init__(
        self, connection: Connection, target: Target, deadline: float, timeouts: Timeouts
    ) -> None:
        loop = connection.pool.loop
        self._conn: Connection | None = connection
        self._target = target
        self._loop = loop
        # The parser holds bound methods of this response: a cycle, broken when the
        # exchange ends (_drop_parser) so that refcounting frees both, not the collector.
        self._parser: httptools.HttpResponseParser | None = httptools.HttpResponseParser(self)
        self.status = 0
        self._raw: list[tuple[bytes, bytes]] = []
        self._headers: ResponseHeaders | None = None
        self._length: int | None = None
        self._framed = False  # Content-Length or Transfer-Encoding: not delimited by close
        self._encoding: bytes | None = None
        self._decoder: ContentDecoder | None = None
        self._body: list[bytes] = []
        self._buffered = 0
        self._headers_done = False
        self._complete = False
        self._keep_alive = False
        self._failure: str | None = None
        self._received = False
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._deadline = deadline
        self._idle = timeouts.idle
        self._idle_at = 0.0
        self._first_byte_at = loop.time() + timeouts.first_byte
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    # --- the gateway's side ---------------------------------------------------------------

    @property
    def headers(self) -> ResponseHeaders:
        if self._headers is None:
            self._headers = ResponseHeaders(self._raw)
        return self._headers

    @property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """Every header line as received: what a relay passes on without decoding."""
        return self._raw

    @property
    def stale(self) -> bool:
        """The connection was closed before any byte of the response came back."""
        return self._failure == _CLOSED and not self._received

    async def wait_headers(self, request: bytes) -> None:
        """Send the request and wait for the response's headers."""
        self._arm(self._first_byte_at)
        assert self._conn is not None
        conn = self._conn
        conn.response = self
        conn.write(request)
        try:
            while not self._headers_done:
                await self._next("waiting for response headers")
        except BaseException:  # cancelled too: the connection must not stay half-used
            self.close()
            raise
        if self._encoding is not None and self._decoder is None:
            self._decoder = ContentDecoder.for_encoding(self._encoding)
            if self._decoder is None:
                self.close()
                raise UpstreamUnavailable(
                    f"upstream {self._target.origin} sent a body in content-encoding "
                    f"{self._encoding.decode(errors='replace')!r}, which the gateway cannot decode"
                )

    async def read(self, limit: int) -> bytes:
        origin = self._target.origin
        if self._length is not None and self._length > limit and self._decoder is None:
            raise UpstreamUnavailable(
                f"upstream {origin} sent {self._length} bytes, over the {limit}-byte limit"
            )
        parts: list[bytes] = []
        size = 0
        try:
            while True:
                if self._body:
                    data = self._take()
                    if self._decoder is not None:
                        data = self._decoder.decode(data, limit - size + 1, origin)
                    size += len(data)
                    if size > limit:
                        raise UpstreamUnavailable(
                            f"upstream {origin} response is over {limit} bytes"
                        )
                    parts.append(data)
                elif self._complete:
                    break
                else:
                    await self._next("reading the response")
        except BaseException:
            self.close()
            raise
        self._finish()
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            while True:
                if self._body:
                    data = self._take()
                    if self._decoder is None:
                        yield data
                    else:
                        for piece in self._decoder.pieces(data, self._target.origin):
                            yield piece
                elif self._complete:
                    self._finish()
                    return
                else:
                    await self._next("waiting for the next chunk")
        except BaseException:  # a failure, or the reader gave up (cancelled, aclose)
            self.close()
            raise

    def release(self) -> None:
        """The body was read to its end: the connection may serve another request. (A
        response not complete yet has its connection closed instead.)"""
        if self._complete:
            self._finish()
        else:
            self.close()

    def close(self) -> None:
        """Abort: drop the connection, stopping whatever the upstream still sends."""
        self._stop_timer()
        self._parser = None
        if self._failure is None and not self._complete:
            self._failure = _CLOSED
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.abort()

    def __del__(self) -> None:
        # Dropped without release() or close(): its connection must not stay taken.
        conn, self._conn = self._conn, None
        if conn is not None and not self._loop.is_closed():
            conn.abort()

    async def _next(self, phase: str) -> None:
        """Wait for the connection's next event (data, the end, a failure)."""
        if self._failure is not None:
            raise self._error(phase)
        waiter = self._waiter = self._loop.create_future()
        await waiter

    def _take(self) -> bytes:
        body = self._body
        data = body[0] if len(body) == 1 else b"".join(body)
        self._body = []
        self._buffered = 0
        if self._paused:
            self._paused = False
            if self._conn is not None:
                self._conn.resume()
            self._touch()
        return data

    def _finish(self) -> None:
        """The body was read to its end: the connection goes back to its pool (or closed,
        when the upstream or the message does not allow another request on it)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        self._stop_timer()
        self._parser = None
        conn.response = None
        if self._keep_alive and self._complete and conn.flushed():
            if self._paused:
                conn.resume()
            conn.pool.put_back(conn)
        else:
            conn.abort()

    def _error(self, phase: str) -> UpstreamTimeout | UpstreamUnavailable:
        origin = self._target.origin
        if self._failure == _TIMEOUT:
            return UpstreamTimeout(f"upstream {origin} timed out {phase}")
        if self._failure == _CLOSED:
            return UpstreamUnavailable(f"upstream {origin} closed the connection early")
        return UpstreamUnavailable(f"upstream {origin} failed: {self._failure}")

    # --- the connection's side ------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        self._received = True
        parser = self._parser
        if parser is None:  # the exchange is over: nothing more may come on it
            self._keep_alive = False
            return
        try:
            parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            if self._complete:  # bytes after the message: the connection cannot be reused
                self._keep_alive = False
            else:
                self._fail(type(exc).__name__)
            return
        if self._headers_done and not self._complete:
            if self._buffered > HIGH_WATER and not self._paused and self._conn is not None:
                self._paused = True
                self._conn.pause()
            self._touch()
        self._wake()

    def ended(self) -> None:
        """The upstream closed the connection: the end of a body delimited by close, else
        a failure."""
        if self._complete or self._failure is not None:
            return
        if self._headers_done and not self._framed:
            self._complete = True
            self._keep_alive = False
            self._stop_timer()
            self._wake()
        else:
            self._fail(_CLOSED)

    # httptools' callbacks

    def on_message_begin(self) -> None:
        if self._complete:
            raise ValueError("a second response on one request")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw.append((name, value))
        size = len(name)
        if size == 14 and name.lower() == b"content-length":
            self._length, self._framed = int(value), True
        elif size == 17 and name.lower() == b"transfer-encoding":
            self._framed = True
        elif size == 16 and name.lower() == b"content-encoding":
            encoding = value.strip().lower()
            self._encoding = None if encoding in (b"", b"identity") else encoding

    def on_headers_complete(self) -> None:
        assert self._parser is not None  # called back from inside its feed_data
        status = self._parser.get_status_code()
        if status < 200:  # 100 Continue and the like: the real response follows
            return
        self.status = status
        self._headers_done = True
        if self._target.head_request:  # no body follows, whatever the headers say
            self._complete = True
            self._stop_timer()

    def on_body(self, body: bytes) -> None:
        self._body.append(body)
        self._buffered += len(body)

    def on_message_complete(self) -> None:
        if not self._headers_done:  # the end of an interim (1xx) response
            self._raw = []
            self._length, self._framed, self._encoding = None, False, None
            return
        self._complete = True
        assert self._parser is not None  # called back from inside its feed_data
        self._keep_alive = self._parser.should_keep_alive() and not self._target.head_request
        self._stop_timer()

    # deadlines

    def _touch(self) -> None:
        """Body bytes came (or reading resumed): the idle deadline starts again."""
        self._idle_at = self._loop.time() + self._idle
        if self._idle_at < self._timer_at:
            self._arm(self._idle_at)

    def _arm(self, at: float) -> None:
        at = min(at, self._deadline)
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(at, self._on_timer)
        self._timer_at = at

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = 0.0

    def _on_timer(self) -> None:
        self._timer = None
        if self._complete or self._failure is not None:
            return
        if not self._headers_done:
            due = self._first_byte_at
        elif self._paused:  # the reader is behind: only the total deadline runs
            due = self._deadline
        else:
            due = self._idle_at
        due = min(due, self._deadline)
        if due > self._loop.time() + _SLACK:
            self._arm(due)
        else:
            self._fail(_TIMEOUT)

    def _fail(self, failure: str) -> None:
        if self._failure is not None or self._complete:
            return
        self._failure = failure
        self._stop_timer()
        self._parser = None
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.abort()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
