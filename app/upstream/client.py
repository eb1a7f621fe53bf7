"""The gateway's upstream HTTP client: keep-alive connections per origin
(app.upstream.connections) speaking HTTP/1.1 (app.upstream.http1).

Why not aiohttp: profiles of the gateway under load put aiohttp's client machinery at
34-46% of a worker's Python time (a task, a timeout context and a request object per
request, header handling), and loadtest/clientbench.py measures this client at a fraction
of its CPU per request and per stream chunk. The gateway needs little of HTTP: it sends a
body it holds in memory and reads a body or a stream back, so a request is one
``transport.write`` of bytes joined once.

``connect`` bounds opening a connection (DNS, TCP, TLS); ``total`` runs from here, the
wait for a free connection included, to the end of the body.
"""

import asyncio
import functools
import ssl
from typing import Protocol
from urllib.parse import quote, urlsplit

from app.config.model import Timeouts
from app.core.errors import InvalidRequest, UpstreamTimeout, UpstreamUnavailable
from app.upstream.connections import Origin, OriginPool, Resolver, tls_context
from app.upstream.http1 import Connection, Response, Target


class Request(Protocol):
    """What is sent: app.upstream.transport.UpstreamRequest."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    timeouts: Timeouts


class Client:
    """Keep-alive connections per origin (scheme://host:port), opened on first use."""

    def __init__(self, *, connections_per_origin: int, tls: ssl.SSLContext | None = None) -> None:
        self._limit = connections_per_origin
        self._tls = tls
        self._resolver = Resolver()
        self._pools: dict[str, OriginPool[Connection]] = {}

    def pool(self, origin: str) -> OriginPool[Connection]:
        pool = self._pools.get(origin)
        if pool is None:
            parsed = Origin.parse(origin)
            if parsed.tls and self._tls is None:
                self._tls = tls_context()
            tls = self._tls if parsed.tls else None
            pool = self._pools[origin] = OriginPool(
                parsed, self._limit, Connection, self._resolver, tls
            )
        return pool

    async def close(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.close()

    async def send(self, request: Request) -> Response:
        """The response once its headers are in. A request that met a pooled connection the
        upstream had closed (nothing of a response came back) is sent once more, on a
        new connection: only then can the upstream not have acted on it."""
        target = _target(request.method, request.url)
        pool = self.pool(target.origin)
        timeouts = request.timeouts
        deadline = pool.loop.time() + timeouts.total
        data = _request_bytes(target, request.headers, request.body)
        connection = pool.take_idle()
        reused = connection is not None
        if connection is None:
            connection, reused = await _acquire(pool, deadline, timeouts.connect, fresh=False)
        response = Response(connection, target, deadline, timeouts)
        try:
            await response.wait_headers(data)
        except UpstreamUnavailable:
            if not (reused and response.stale):
                raise
            connection, _ = await _acquire(pool, deadline, timeouts.connect, fresh=True)
            response = Response(connection, target, deadline, timeouts)
            await response.wait_headers(data)
        return response


async def _acquire(
    pool: OriginPool[Connection], deadline: float, connect: float, fresh: bool
) -> tuple[Connection, bool]:
    """A connection when none is idle: waiting for one (bounded by ``total``) or opening
    one (bounded by ``connect`` too)."""
    origin = pool.origin.key
    try:
        async with asyncio.timeout_at(deadline) as total:
            return await pool.acquire(connect, fresh)
    except TimeoutError as exc:
        if total.expired():
            raise UpstreamTimeout(
                f"upstream {origin} timed out waiting for response headers"
            ) from exc
        raise UpstreamTimeout(f"timed out connecting to upstream {origin}") from exc
    except OSError as exc:  # refused, unreachable, DNS, TLS (certificate) failures
        raise UpstreamUnavailable(f"could not connect to upstream {origin}") from exc


@functools.lru_cache(maxsize=4096)
def _target(method: str, url: str) -> Target:
    """Parsed once: an account's few URLs come back on every request."""
    parts = urlsplit(url)
    origin = Origin.parse(f"{parts.scheme}://{parts.netloc}")
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~")
    if parts.query:
        path += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=~?")
    host = f"[{origin.host}]" if ":" in origin.host else origin.host
    if origin.port != (443 if origin.tls else 80):
        host += f":{origin.port}"
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n".encode()
    bodiless = method in ("GET", "HEAD", "DELETE", "OPTIONS")
    return Target(origin.key, head, method == "HEAD", not bodiless)


def _request_bytes(target: Target, headers: dict[str, str], body: bytes) -> bytes:
    lines = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
    if lines.count("\n") != len(headers) or lines.count("\r") != len(headers):
        raise InvalidRequest("A header for the upstream contains a line break.")
    if body or target.sends_length:
        length = b"Content-Length: %d\r\n\r\n" % len(body)
        return b"".join([target.head, lines.encode(), length, body])
    return b"".join([target.head, lines.encode(), b"\r\n"])
