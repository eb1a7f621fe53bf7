"""Upstream HTTP clients side by side, in one process, against the fast fake upstream.

    python -m loadtest.clientbench [--seconds 2] [--rounds 3]

Starts loadtest/upstream.py (streams of 20 chunks, no delay between them) and, in this uvloop
process, drives each client in turn: non-stream requests (send, read, release) at 1, 16 and
64 concurrent, and streams iterated chunk by chunk at 16 concurrent. Clients and scenarios
are interleaved round by round so that drift hits them alike; the medians are printed.

CPU is time.process_time() of this process (the upstream runs in its own), per request and,
for streams, per upstream chunk (20 text chunks per stream; how many pieces a client yields
depends on how the packets coalesce, so it is printed too).

Clients: aiohttp as the gateway uses it (app/upstream/transport.py's `Pools`), and `proto`,
a prototype HTTP/1.1 client on a raw asyncio Protocol with httptools' parser (the measure
before making it the production client, issue 5).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httptools
import uvloop

from app.config.model import Timeouts
from app.upstream.transport import Pools, UpstreamRequest
from loadtest import stack

STREAM_CHUNKS = 20
LEVELS = (1, 16, 64)
STREAM_CONCURRENCY = 16
TIMEOUTS = Timeouts(connect=5, first_byte=30, idle=30, total=60)
BODY = b'{"model":"gpt-bench","messages":[{"role":"user","content":"Say hello"}]}'
STREAM_BODY = BODY[:-1] + b',"stream":true}'


# --- the prototype ------------------------------------------------------------------------


class _ProtoConnection(asyncio.Protocol):
    """One keep-alive connection; the parser's callbacks fill the current exchange."""

    def __init__(self, pool: _ProtoPool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.complete = False
        self.headers_done: asyncio.Future[None] | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        for future in (self.headers_done, self.waiter):
            if future is not None and not future.done():
                future.set_exception(ConnectionError("closed early"))

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.headers_done is not None:
            self.headers_done.set_result(None)

    def on_body(self, body: bytes) -> None:
        self.body.append(body)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def on_message_complete(self) -> None:
        self.complete = True
        if self.timer is not None:
            self.timer.cancel()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def timed_out(self) -> None:
        assert self.transport is not None
        self.transport.abort()

    async def send(self, data: bytes, deadline: float) -> None:
        loop = self.pool.loop
        self.headers, self.body, self.complete = [], [], False
        self.timer = loop.call_at(deadline, self.timed_out)
        self.headers_done = loop.create_future()
        assert self.transport is not None
        self.transport.write(data)
        await self.headers_done

    async def next_body(self) -> bytes | None:
        while not self.body:
            if self.complete:
                return None
            self.waiter = self.pool.loop.create_future()
            await self.waiter
        body, self.body = self.body, []
        return body[0] if len(body) == 1 else b"".join(body)


class _ProtoPool:
    def __init__(self, host: str, port: int) -> None:
        self.loop = asyncio.get_running_loop()
        self.host, self.port = host, port
        self.idle: list[_ProtoConnection] = []
        self.head = f"\r\nHost: {host}:{port}\r\n".encode()

    async def acquire(self) -> _ProtoConnection:
        while self.idle:
            connection = self.idle.pop()
            if not connection.lost:
                return connection
        _, connection = await self.loop.create_connection(
            lambda: _ProtoConnection(self), self.host, self.port
        )
        return connection

    def release(self, connection: _ProtoConnection) -> None:
        if connection.complete and not connection.lost:
            self.idle.append(connection)
        elif connection.transport is not None:
            connection.transport.abort()


class _ProtoResponse:
    __slots__ = ("_connection", "_pool", "status")

    def __init__(self, pool: _ProtoPool, connection: _ProtoConnection) -> None:
        self._pool, self._connection = pool, connection
        self.status = connection.parser.get_status_code()

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode().lower(): v.decode() for k, v in self._connection.headers}

    async def read(self, limit: int) -> bytes:
        parts = []
        while (part := await self._connection.next_body()) is not None:
            parts.append(part)
        return b"".join(parts)

    async def chunks(self) -> AsyncIterator[bytes]:
        while (part := await self._connection.next_body()) is not None:
            yield part

    def release(self) -> None:
        self._pool.release(self._connection)


class _ProtoTransport:
    def __init__(self, pool: _ProtoPool) -> None:
        self._pool = pool

    async def send(self, request: UpstreamRequest) -> _ProtoResponse:
        pool = self._pool
        deadline = pool.loop.time() + request.timeouts.total
        connection = await pool.acquire()
        path = request.url.split("/", 3)[3]
        headers = "".join([f"{k}: {v}\r\n" for k, v in request.headers.items()])
        data = b"".join(
            [
                request.method.encode(),
                b" /",
                path.encode(),
                b" HTTP/1.1",
                pool.head,
                headers.encode(),
                b"Content-Length: %d\r\n\r\n" % len(request.body),
                request.body,
            ]
        )
        await connection.send(data, deadline)
        return _ProtoResponse(pool, connection)


# --- the measurement ----------------------------------------------------------------------


@dataclass
class Point:
    client: str
    scenario: str
    requests: int
    chunks: int
    cpu: float
    wall: float
    errors: int

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu / max(1, self.requests) * 1e6

    @property
    def rate(self) -> float:
        return self.requests / self.wall


Sender = Callable[[UpstreamRequest], Awaitable[Any]]


async def _worker(
    send: Sender, request: UpstreamRequest, stream: bool, until: float
) -> tuple[int, int, int]:
    done = chunks = errors = 0
    while time.perf_counter() < until:
        try:
            response = await send(request)
            if stream:
                async for _ in response.chunks():
                    chunks += 1
            else:
                await response.read(1 << 20)
            response.release()
            done += 1
        except Exception:  # counted, and the run goes on
            errors += 1
    return done, chunks, errors


async def measure(client: str, send: Sender, url: str, scenario: str, seconds: float) -> Point:
    stream = scenario == "stream"
    concurrency = STREAM_CONCURRENCY if stream else int(scenario.removeprefix("c"))
    headers = {"content-type": "application/json", "authorization": "Bearer sk-bench"}
    request = UpstreamRequest("POST", url, headers, STREAM_BODY if stream else BODY, TIMEOUTS)
    warm = time.perf_counter() + 0.2
    await asyncio.gather(*[_worker(send, request, stream, warm) for _ in range(concurrency)])
    cpu, wall = time.process_time(), time.perf_counter()
    until = wall + seconds
    results = await asyncio.gather(
        *[_worker(send, request, stream, until) for _ in range(concurrency)]
    )
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done, chunks, errors = (sum(column) for column in zip(*results, strict=True))
    return Point(client, scenario, done, chunks, cpu, wall, errors)


async def run(upstream_url: str, seconds: float, rounds: int) -> list[Point]:
    origin = upstream_url
    pools = Pools(connections_per_origin=1024)
    pools.open([origin])
    host, port = origin.removeprefix("http://").split(":")
    proto = _ProtoTransport(_ProtoPool(host, int(port)))
    clients: dict[str, Sender] = {"aiohttp": pools.transport(origin).send, "proto": proto.send}
    url = f"{origin}/v1/chat/completions"
    scenarios = [f"c{level}" for level in LEVELS] + ["stream"]
    points = []
    try:
        for _ in range(rounds):
            for scenario in scenarios:
                for name, send in clients.items():
                    points.append(await measure(name, send, url, scenario, seconds))
    finally:
        await pools.close()
    return points


def summary(points: list[Point]) -> str:
    lines = [
        "| scenario | client | req/s | CPU us/request | CPU us/chunk | pieces/stream | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    keys = dict.fromkeys((p.scenario, p.client) for p in points)
    medians: dict[tuple[str, str], tuple[float, float]] = {}
    for scenario, client in keys:
        mine = [p for p in points if (p.scenario, p.client) == (scenario, client)]
        rate = statistics.median(p.rate for p in mine)
        cpu = statistics.median(p.cpu_us_per_request for p in mine)
        medians[scenario, client] = (rate, cpu)
        stream = scenario == "stream"
        per_chunk = f"{cpu / STREAM_CHUNKS:.1f}" if stream else ""
        pieces = (
            f"{statistics.median(p.chunks / max(1, p.requests) for p in mine):.1f}"
            if stream
            else ""
        )
        errors = sum(p.errors for p in mine)
        cells = [scenario, client, f"{rate:,.0f}", f"{cpu:.1f}", per_chunk, pieces, str(errors)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| scenario | proto / aiohttp CPU per request | proto / aiohttp req/s |"]
    lines.append("|---|---|---|")
    for scenario in dict.fromkeys(p.scenario for p in points):
        base, new = medians.get((scenario, "aiohttp")), medians.get((scenario, "proto"))
        if base and new:
            lines.append(f"| {scenario} | {new[1] / base[1]:.2f}x | {new[0] / base[0]:.2f}x |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="clientbench-") as workdir:
        upstream = stack.start_upstream(Path(workdir), chunks=STREAM_CHUNKS, chunk_delay_ms=0)
        try:
            points = uvloop.run(run(upstream.url, args.seconds, args.rounds))
        finally:
            upstream.stop()
    print(summary(points))


if __name__ == "__main__":
    main()
