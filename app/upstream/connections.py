"""Keep-alive connections to one upstream origin: how many, which one serves next, and how a
new one is opened (DNS with a TTL cache, TCP, TLS). Nothing here knows HTTP; the
connections themselves are app.upstream.http1's.

Reuse is LIFO: the most recently used connection is the least likely to have been closed
by the upstream's own keep-alive timer, and the others age out together. An idle
connection is closed after ``KEEPALIVE`` seconds by one sweep timer per pool, not a timer
per connection. At most ``limit`` connections are open (or opening) at once; a request
beyond that waits in line for a returned connection or a freed slot.
"""

import asyncio
import ipaddress
import socket
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlsplit

KEEPALIVE = 30.0  # seconds an idle connection is kept
DNS_TTL = 300.0  # seconds a name's addresses are reused

AddressInfo = tuple[socket.AddressFamily, tuple[str, int]]


@dataclass(frozen=True, slots=True)
class Origin:
    """scheme://host:port, parsed once."""

    key: str
    host: str  # without brackets for IPv6
    port: int
    tls: bool
    literal: bool  # an IP address: no DNS

    @classmethod
    def parse(cls, origin: str) -> "Origin":
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) origin: {origin!r}")
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        host = parts.hostname
        try:
            ipaddress.ip_address(host)
        except ValueError:
            literal = False
        else:
            literal = True
        return cls(f"{parts.scheme}://{parts.netloc}", host, port, tls, literal)


def tls_context() -> ssl.SSLContext:
    """Certificates and host names checked (the default context); HTTP/1.1 by ALPN."""
    context = ssl.create_default_context()
    context.set_alpn_protocols(["http/1.1"])
    return context


class Resolver:
    """loop.getaddrinfo with a TTL cache; one lookup in flight per name."""

    def __init__(self, ttl: float = DNS_TTL) -> None:
        self._ttl = ttl
        self._cache: dict[tuple[str, int], tuple[float, list[AddressInfo]]] = {}
        self._pending: dict[tuple[str, int], asyncio.Future[list[AddressInfo]]] = {}

    async def resolve(self, host: str, port: int) -> list[AddressInfo]:
        loop = asyncio.get_running_loop()
        key = (host, port)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > loop.time():
            return cached[1]
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = asyncio.ensure_future(self._lookup(host, port))
            pending.add_done_callback(self._looked_up)
        # shield: one waiter's timeout must not cancel the lookup the others wait on
        return await asyncio.shield(pending)

    def _looked_up(self, lookup: "asyncio.Future[list[AddressInfo]]") -> None:
        for key, pending in list(self._pending.items()):
            if pending is lookup:
                del self._pending[key]
        if not lookup.cancelled():
            lookup.exception()  # retrieved: a failure nobody waits for any more is not logged

    async def _lookup(self, host: str, port: int) -> list[AddressInfo]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        found: list[AddressInfo] = list(
            dict.fromkeys((info[0], (str(info[4][0]), port)) for info in infos)
        )
        if not found:
            raise OSError(f"no address for {host}")
        self._cache[host, port] = (loop.time() + self._ttl, found)
        return found

    def forget(self, host: str, port: int) -> None:
        """After no address answered: look the name up again next time."""
        self._cache.pop((host, port), None)


class PooledConnection(asyncio.Protocol):
    """What the pool needs of a connection's protocol object."""

    __slots__ = ("closed", "idle_since")

    def __init__(self) -> None:
        self.closed = False
        self.idle_since = 0.0

    def abort(self) -> None:
        raise NotImplementedError


C = TypeVar("C", bound=PooledConnection)


class OriginPool(Generic[C]):
    """The connections to one origin. ``factory`` makes a connection's protocol object,
    which must call ``dropped`` once when its connection ends."""

    def __init__(
        self,
        origin: Origin,
        limit: int,
        factory: Callable[["OriginPool[C]"], C],
        resolver: Resolver,
        tls: ssl.SSLContext | None,
    ) -> None:
        self.origin = origin
        self.loop = asyncio.get_running_loop()
        self._limit = limit
        self._factory = factory
        self._resolver = resolver
        self._tls = tls
        self._idle: list[C] = []
        self._open = 0  # connections open or opening, busy or idle
        self._waiters: deque[asyncio.Future[C | None]] = deque()
        self._sweep: asyncio.TimerHandle | None = None
        self._all: set[C] = set()
        self._closed = False

    def take_idle(self) -> C | None:
        """The most recently returned live connection, if any (no await: the fast path)."""
        idle = self._idle
        while idle:
            connection = idle.pop()
            if not connection.closed:
                return connection
        return None

    async def acquire(self, connect_timeout: float, fresh: bool = False) -> tuple[C, bool]:
        """A connection and whether it served before: an idle one (unless ``fresh``), a new
        one if under the limit, else the next one returned. The caller bounds the wait."""
        while True:
            if not fresh and (connection := self.take_idle()) is not None:
                return connection, True
            if self._open < self._limit:
                return await self._connect(connect_timeout), False
            handed = await self._wait()
            if handed is not None:
                if not handed.closed:
                    return handed, True
                fresh = False

    def put_back(self, connection: C) -> None:
        """A connection whose exchange ended cleanly: to the next waiter, or to the idle list."""
        if self._closed or connection.closed:
            connection.abort()
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        connection.idle_since = self.loop.time()
        self._idle.append(connection)
        if self._sweep is None:
            self._sweep = self.loop.call_later(KEEPALIVE, self._close_expired)

    def dropped(self, connection: C) -> None:
        """A connection ended (the second call for the same one does nothing): its slot
        goes to the next in line."""
        if connection in self._all:
            self._all.discard(connection)
            self._open -= 1
            self._wake()

    async def close(self) -> None:
        self._closed = True
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for connection in list(self._all):
            connection.abort()
        self._idle.clear()

    async def _connect(self, seconds: float) -> C:
        """A new connection, holding one slot of the limit from now until ``dropped``."""
        self._open += 1
        try:
            async with asyncio.timeout(seconds):
                connection = await self._open_connection()
            if connection.closed:
                raise ConnectionResetError("closed as soon as it opened")
        except BaseException:
            self._open -= 1
            self._wake()
            raise
        self._all.add(connection)
        return connection

    async def _open_connection(self) -> C:
        origin = self.origin
        if origin.literal:
            family = socket.AF_INET6 if ":" in origin.host else socket.AF_INET
            addresses: list[AddressInfo] = [(family, (origin.host, origin.port))]
        else:
            addresses = await self._resolver.resolve(origin.host, origin.port)
        error: OSError | None = None
        for family, (host, port) in addresses:
            try:
                _, connection = await self.loop.create_connection(
                    lambda: self._factory(self),
                    host,
                    port,
                    family=family,
                    ssl=self._tls,
                    server_hostname=origin.host if self._tls is not None else None,
                )
            except OSError as exc:  # ssl.SSLError (certificate refused) is an OSError too
                error = exc
                continue
            return connection
        if not origin.literal:
            self._resolver.forget(origin.host, origin.port)
        assert error is not None
        raise error

    async def _wait(self) -> C | None:
        waiter: asyncio.Future[C | None] = self.loop.create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.cancelled():
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            elif (handed := waiter.result()) is not None:
                self.put_back(handed)  # handed over just as the wait was given up
            else:
                self._wake()  # the freed slot goes to the next in line
            raise

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _close_expired(self) -> None:
        self._sweep = None
        idle = self._idle
        now = self.loop.time()
        expired = 0
        while expired < len(idle) and idle[expired].idle_since + KEEPALIVE <= now:
            expired += 1
        for connection in idle[:expired]:
            connection.abort()
        del idle[:expired]
        if idle:
            self._sweep = self.loop.call_at(idle[0].idle_since + KEEPALIVE, self._close_expired)
