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
import functools
import socket
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import aiohttp  # noqa: TID251 - this is the module aiohttp lives behind
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult  # noqa: TID251

from app.config.model import Timeouts
from app.core.errors import InvalidRequest, UpstreamTimeout, UpstreamUnavailable
from app.upstream.ssrf import ForbiddenAddress, check_address, is_ip_literal


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
    __slots__ = ("_origin", "_response")

    def __init__(self, response: aiohttp.ClientResponse, origin: str, timeouts: Timeouts) -> None:
        self._response = response
        self._origin = origin
        # Headers are in: from now on each read waits at most the idle timeout.
        # aiohttp reschedules this one timer per received packet, which is
        # cheaper than a timeout context per chunk.
        connection = response.connection
        if connection is not None and connection.protocol is not None:
            connection.protocol.read_timeout = timeouts.idle
            if not response.content.is_eof():
                # The timer running now was armed by the headers' packet with the
                # first-byte deadline; a new value only counts from the next reschedule,
                # so restart it, or the wait for the body's first bytes is bounded by
                # first_byte instead of idle. (At EOF aiohttp has dropped the timer.)
                connection.protocol.start_timeout()

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
            body = await self._response.read()
        except TimeoutError as exc:
            raise _timeout(exc, self._origin, "reading the response") from exc
        except aiohttp.ClientError as exc:
            raise _unavailable(exc, self._origin) from exc
        if len(body) > limit:
            raise UpstreamUnavailable(f"upstream {self._origin} response is over {limit} bytes")
        return body

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
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
        try:
            response = await self._pools.session(self._origin).request(
                request.method,
                _url(request.url),
                data=request.body,
                headers=request.headers,
                timeout=_client_timeout(timeouts),
                allow_redirects=False,
            )
        except TimeoutError as exc:
            raise _timeout(exc, self._origin, "waiting for response headers") from exc
        except aiohttp.ClientError as exc:
            raise _unavailable(exc, self._origin) from exc
        return AiohttpResponse(response, self._origin, timeouts)


@functools.lru_cache(maxsize=64)
def _client_timeout(timeouts: Timeouts) -> aiohttp.ClientTimeout:
    """aiohttp's ``total`` runs from the request until the body is read (streams too): one
    timer per request. ``connect`` is left unset, as it would put a second timer around
    taking a pooled connection on every request; ``sock_connect`` bounds opening a new
    one, and a wait for a free pooled connection is bounded by ``total``."""
    return aiohttp.ClientTimeout(
        total=timeouts.total, sock_connect=timeouts.connect, sock_read=timeouts.first_byte
    )


@functools.lru_cache(maxsize=4096)
def _url(url: str) -> yarl.URL:
    """Parsed once: an account's few URLs (one per model and operation) come back on
    every request, and aiohttp would parse the string each time."""
    return yarl.URL(url)


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


@dataclass(frozen=True, slots=True)
class FetchedMedia:
    data: bytes
    content_type: str | None


class _PublicOnlyResolver(AbstractResolver):
    """Resolves like the default resolver, then refuses non-public addresses, so the
    check and the connection use the same addresses (no DNS-rebinding window)."""

    def __init__(self) -> None:
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            check_address(result["host"])
        return results

    async def close(self) -> None:
        await self._inner.close()


class MediaFetcher:
    """Downloads images and documents named by URL in client requests, bounded in
    size and time, from public addresses only (unless ``allow_private``, for tests)."""

    def __init__(self, *, max_bytes: int, timeout: float, allow_private: bool = False) -> None:
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._allow_private = allow_private
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            resolver: Any = None if self._allow_private else _PublicOnlyResolver()
            connector = aiohttp.TCPConnector(limit=32, resolver=resolver, ttl_dns_cache=60)
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, url: str) -> FetchedMedia:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._follow(url, hops=3)
        except TimeoutError:
            raise InvalidRequest(f"Fetching {url} timed out after {self._timeout:g} s.") from None
        except ForbiddenAddress:
            raise InvalidRequest(
                f"Refusing to fetch {url}: it does not resolve to a public address."
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise InvalidRequest(f"Could not fetch {url}: {type(exc).__name__}.") from None

    async def _follow(self, url: str, hops: int) -> FetchedMedia:
        for _ in range(hops + 1):
            self._check_url(url)
            async with self._client().get(url, allow_redirects=False) as response:
                if response.status in (301, 302, 303, 307, 308):
                    url = urljoin(url, response.headers.get("location", ""))
                    continue
                if response.status != 200:
                    raise InvalidRequest(f"Fetching {url} returned HTTP {response.status}.")
                return FetchedMedia(await self._read(response, url), response.content_type)
        raise InvalidRequest(f"Fetching {url}: too many redirects.")

    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidRequest(f"Only http(s) URLs can be fetched, not {url[:80]}.")
        if not self._allow_private and is_ip_literal(parts.hostname):
            check_address(parts.hostname.strip("[]"))

    async def _read(self, response: aiohttp.ClientResponse, url: str) -> bytes:
        length = response.content_length
        if length is not None and length > self._max_bytes:
            raise InvalidRequest(f"{url} is {length} bytes; the limit is {self._max_bytes}.")
        data = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) > self._max_bytes:
                raise InvalidRequest(f"{url} is over the {self._max_bytes}-byte limit.")
        return bytes(data)
