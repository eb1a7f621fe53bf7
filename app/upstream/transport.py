"""The one module that imports the upstream HTTP client.

PERF-NOTES.md measured httpx's own transport at 4-20x aiohttp's CPU per
request and collapsing under concurrency (encode/httpx#3215), so the pools
here are aiohttp's; the rest of the gateway sees only ``Pools``,
``UpstreamRequest`` and ``UpstreamResponse``, so the client can be swapped
(and measured, see loadtest/) without touching a caller.

One pooled session per upstream origin, created at start-up and closed at
shutdown. aiohttp failures are mapped here, once, to gateway errors.
"""

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp  # noqa: TID251 - this is the module aiohttp lives behind

from app.config.model import Timeouts
from app.core.errors import UpstreamTimeout, UpstreamUnavailable


@dataclass(slots=True)
class UpstreamRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    timeouts: Timeouts


class UpstreamResponse(Protocol):
    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    async def read(self, limit: int) -> bytes: ...

    def chunks(self) -> AsyncIterator[bytes]: ...

    def release(self) -> None:
        """The body was read to its end: the connection may serve another request."""

    def close(self) -> None:
        """Abort: drop the connection, stopping whatever the upstream still sends."""


class Transport(Protocol):
    async def send(self, request: UpstreamRequest) -> UpstreamResponse: ...


class AiohttpResponse:
    __slots__ = ("_deadline", "_idle", "_origin", "_response")

    def __init__(
        self, response: aiohttp.ClientResponse, origin: str, timeouts: Timeouts, deadline: float
    ) -> None:
        self._response = response
        self._origin = origin
        self._idle = timeouts.idle
        self._deadline = deadline
        # Headers are in: from now on each read waits at most the idle timeout.
        # aiohttp reschedules this one timer per received packet, which is
        # cheaper than a timeout context per chunk.
        connection = response.connection
        if connection is not None and connection.protocol is not None:
            connection.protocol.read_timeout = timeouts.idle

    @property
    def status(self) -> int:
        return self._response.status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    async def read(self, limit: int) -> bytes:
        length = self._response.content_length
        if length is not None and length > limit:
            raise UpstreamUnavailable(
                f"upstream {self._origin} sent {length} bytes, over the {limit}-byte limit"
            )
        try:
            async with asyncio.timeout_at(self._deadline):
                body = await self._response.read()
        except TimeoutError as exc:
            raise _timeout(exc, self._origin, "reading the response") from exc
        except aiohttp.ClientError as exc:
            raise _unavailable(exc, self._origin) from exc
        if len(body) > limit:
            raise UpstreamUnavailable(f"upstream {self._origin} response is over {limit} bytes")
        return body

    async def chunks(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
                if loop.time() > self._deadline:
                    raise UpstreamTimeout(f"upstream {self._origin} exceeded the total timeout")
        except TimeoutError as exc:
            raise _timeout(exc, self._origin, "waiting for the next chunk") from exc
        except aiohttp.ClientError as exc:
            raise _unavailable(exc, self._origin) from exc

    def release(self) -> None:
        self._response.release()

    def close(self) -> None:
        # Aborts the connection rather than draining it: an unfinished upstream
        # generation must stop (and stop costing) when the client is gone.
        self._response.close()


class Pools:
    """One aiohttp session per origin (scheme://host:port), shared by every account on it."""

    def __init__(self, *, connections_per_origin: int) -> None:
        self._limit = connections_per_origin
        self._sessions: dict[str, aiohttp.ClientSession] = {}

    def open(self, origins: Iterable[str]) -> None:
        for origin in origins:
            if origin not in self._sessions:
                self._sessions[origin] = self._new_session()

    async def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()

    def transport(self, origin: str) -> "PooledTransport":
        return PooledTransport(self, origin)

    def session(self, origin: str) -> aiohttp.ClientSession:
        session = self._sessions.get(origin)
        if session is None:  # an origin added after start-up
            session = self._sessions[origin] = self._new_session()
        return session

    @property
    def origins(self) -> list[str]:
        return list(self._sessions)

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._limit, limit_per_host=0, ttl_dns_cache=300, keepalive_timeout=30
        )
        return aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None),
            skip_auto_headers=("User-Agent",),
            # Relayed bytes must not be touched; let upstreams compress only
            # what we then decompress for the client, never pass encodings on.
            auto_decompress=True,
            raise_for_status=False,
            cookie_jar=aiohttp.DummyCookieJar(),
        )


class PooledTransport:
    """Sends to one origin over the pool's shared session (looked up per call, so the
    transport can be built before the event loop runs and survives pool changes)."""

    __slots__ = ("_origin", "_pools")

    def __init__(self, pools: Pools, origin: str) -> None:
        self._pools = pools
        self._origin = origin

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        timeouts = request.timeouts
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeouts.total
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=timeouts.connect,
            sock_connect=timeouts.connect,
            sock_read=timeouts.first_byte,
        )
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._pools.session(self._origin).request(
                    request.method,
                    request.url,
                    data=request.body,
                    headers=request.headers,
                    timeout=timeout,
                    allow_redirects=False,
                )
        except TimeoutError as exc:
            raise _timeout(exc, self._origin, "waiting for response headers") from exc
        except aiohttp.ClientError as exc:
            raise _unavailable(exc, self._origin) from exc
        return AiohttpResponse(response, self._origin, timeouts, deadline)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _timeout(exc: BaseException, origin: str, phase: str) -> UpstreamTimeout:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return UpstreamTimeout(f"timed out connecting to upstream {origin}")
    return UpstreamTimeout(f"upstream {origin} timed out {phase}")


def _unavailable(exc: aiohttp.ClientError, origin: str) -> UpstreamUnavailable:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamUnavailable(f"could not connect to upstream {origin}")
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return UpstreamUnavailable(f"upstream {origin} closed the connection early")
    return UpstreamUnavailable(f"upstream {origin} failed: {type(exc).__name__}")
