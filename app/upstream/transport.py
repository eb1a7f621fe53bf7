"""What the gateway sees of its HTTP clients: ``Pools``, ``UpstreamRequest`` and
``UpstreamResponse`` for the upstreams, ``MediaFetcher`` for URLs named in requests.

Upstream requests go over app.upstream.client, a lean HTTP/1.1 client chosen by
measurement (loadtest/clientbench.py: a fraction of aiohttp's CPU per request and
per stream chunk; PERF-NOTES.md: the client is the biggest lever). Media downloads
stay on aiohttp, whose resolver hook the SSRF guard needs; this is the one module
that imports aiohttp.
"""

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import aiohttp  # noqa: TID251 - this is the module aiohttp lives behind
from aiohttp.abc import AbstractResolver, ResolveResult  # noqa: TID251

from app.config.model import Timeouts
from app.core.errors import InvalidRequest
from app.upstream import client
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

    @property
    def raw_headers(self) -> Sequence[tuple[bytes, bytes]]:
        """Every header line as received (names in the upstream's own case)."""
        ...

    async def read(self, limit: int) -> bytes: ...

    def chunks(self) -> AsyncIterator[bytes]: ...

    def release(self) -> None:
        """The body was read to its end: the connection may serve another request."""

    def close(self) -> None:
        """Abort: drop the connection, stopping whatever the upstream still sends."""


class Transport(Protocol):
    async def send(self, request: UpstreamRequest) -> UpstreamResponse: ...


class Pools:
    """Keep-alive connections per origin (scheme://host:port), shared by every account on
    it; ``connections_per_origin`` bounds each origin's open connections (a request past
    it waits, within its total deadline, for one to come free)."""

    def __init__(self, *, connections_per_origin: int, tls: ssl.SSLContext | None = None) -> None:
        self._client = client.Client(connections_per_origin=connections_per_origin, tls=tls)
        self._transport = PooledTransport(self._client)

    def open(self, origins: Iterable[str]) -> None:
        """Set up each origin's pool (in the running loop); connections open on first use.
        An origin first seen later gets its pool on its first request."""
        for origin in origins:
            self._client.pool(origin)

    async def close(self) -> None:
        await self._client.close()

    @property
    def transport(self) -> "PooledTransport":
        """One transport for every origin: each request names its URL."""
        return self._transport


class PooledTransport:
    """Sends over the pools' client, to the origin of each request's URL (a transport can
    be built before the event loop runs: connections are opened in it, on first use)."""

    __slots__ = ("send",)

    def __init__(self, sender: client.Client) -> None:
        # The client's own method: no wrapper coroutine per request.
        self.send: Callable[[UpstreamRequest], Coroutine[Any, Any, UpstreamResponse]] = sender.send


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


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
