"""The Python load generator: streams, open-loop fixed rates, and closed loops when wrk is absent.

    python -m loadtest.gen --url http://127.0.0.1:P/v1/chat/completions --body-file F \\
        --mode closed|open|stream [--concurrency N] [--rate R] [--duration S] [--header "k: v"]

prints one JSON summary line. Raw asyncio.Protocol connections on uvloop (HTTP/1.1 keep-alive,
one request at a time per connection) keep the generator's own CPU per request small, because
it shares the machine's two cores with what it measures.

- closed: N connections, each sends its next request when the previous one is answered.
- open: requests are *scheduled* at a fixed rate, whatever the server does, and latency is
  counted from the scheduled send time, so a stalled server shows up as latency instead of
  silently slowing the generator (coordinated omission). A request finding no idle
  connection opens a new one (up to --max-connections).
- stream: N connections in a closed loop of streamed requests; records time to first body
  byte (TTFB) and the gaps between body reads (inter-chunk delay).

Every run is bounded: it stops scheduling at --duration and abandons what is still running
--grace seconds later, counting it as an error. Targets must be on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

import orjson
import uvloop

_now = time.perf_counter


class ResponseError(Exception):
    """The connection failed or closed before a full response arrived."""


@dataclass(slots=True)
class Exchange:
    """The timing of one request: send time, body reads, end, and its status."""

    start: float
    status: int = 0
    reads: list[float] = field(default_factory=list)
    end: float = 0.0


class ResponseParser:
    """Incremental HTTP/1.1 response parser: Content-Length or chunked bodies."""

    __slots__ = ("buffer", "chunked", "done", "head_done", "remaining", "status", "trailer")

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.head_done = False
        self.chunked = False
        self.remaining = 0  # body bytes left (length mode) or of the current chunk (+2 CRLF)
        self.trailer = False
        self.status = 0
        self.done = False

    def feed(self, data: bytes) -> bool:
        """Take bytes; True when they held body bytes. Sets `done` at the end of the response."""
        self.buffer += data
        if not self.head_done:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return False
            self._head(bytes(self.buffer[:end]).lower())
            del self.buffer[: end + 4]
            if not self.buffer and not self.done:
                return False
        return self._body() if self.buffer or self.done else False

    def _head(self, head: bytes) -> None:
        self.status = int(head[9:12])
        self.head_done = True
        self.chunked = b"\r\ntransfer-encoding: chunked" in head
        if not self.chunked:
            at = head.find(b"\r\ncontent-length:")
            line_end = head.find(b"\r\n", at + 2)
            self.remaining = (
                int(head[at + 17 : line_end if line_end > 0 else None]) if at >= 0 else 0
            )
            self.done = self.remaining == 0

    def _body(self) -> bool:
        had_body = bool(self.buffer)
        if not self.chunked:
            self.remaining -= len(self.buffer)
            self.buffer.clear()
            self.done = self.remaining <= 0
            return had_body
        while self.buffer and not self.done:
            if self.remaining:
                taken = min(self.remaining, len(self.buffer))
                del self.buffer[:taken]
                self.remaining -= taken
                continue
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                break
            if self.trailer:
                self.done = line_end == 0
                del self.buffer[: line_end + 2]
                continue
            size = int(bytes(self.buffer[:line_end]).split(b";")[0], 16)
            del self.buffer[: line_end + 2]
            self.remaining = size + 2 if size else 0
            self.trailer = size == 0
        return had_body


class Connection(asyncio.Protocol):
    """One keep-alive client connection that carries one exchange at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = ResponseParser()
        self.exchange: Exchange | None = None
        self.waiter: asyncio.Future[Exchange] | None = None
        self.record_reads = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ResponseError(str(exc or "connection closed")))

    def data_received(self, data: bytes) -> None:
        exchange, waiter = self.exchange, self.waiter
        if exchange is None or waiter is None:
            return
        now = _now()
        if self.parser.feed(data) and (self.record_reads or not exchange.reads):
            exchange.reads.append(now)
        if self.parser.done:
            exchange.status, exchange.end = self.parser.status, now
            self.exchange = self.waiter = None
            if not waiter.done():
                waiter.set_result(exchange)

    def send(self, request: bytes, start: float) -> asyncio.Future[Exchange]:
        if self.transport is None:
            raise ResponseError("connection closed")
        self.parser = ResponseParser()
        self.exchange = Exchange(start)
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.waiter

    @property
    def usable(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


@dataclass(slots=True)
class Target:
    host: str
    port: int
    request: bytes

    async def connect(self) -> Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(Connection, self.host, self.port)
        return protocol


def build_target(url: str, body: bytes, headers: list[str]) -> Target:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit("loadtest.gen only targets 127.0.0.1")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [
        f"POST {path} HTTP/1.1",
        f"host: {host}:{port}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        *headers,
    ]
    return Target(host, port, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)


@dataclass(slots=True)
class Tally:
    """What a run collected; summarized into the JSON line."""

    latencies: list[float] = field(default_factory=list)
    ttfb: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    socket_errors: int = 0
    reads: int = 0

    def record(self, exchange: Exchange, origin: float) -> None:
        self.statuses[exchange.status] += 1
        self.latencies.append(exchange.end - origin)
        if exchange.reads:
            self.ttfb.append(exchange.reads[0] - origin)
            reads = exchange.reads
            self.gaps.extend(b - a for a, b in itertools.pairwise(reads))
            self.reads += len(reads)


async def _exchange(
    target: Target, connection: Connection | None, origin: float, tally: Tally, stream: bool
) -> Connection | None:
    """One request on `connection` (a new one if None or closed); the connection to reuse."""
    try:
        if connection is None or not connection.usable:
            connection = await target.connect()
        connection.record_reads = stream
        exchange = await connection.send(target.request, _now())
    except (OSError, ResponseError):
        tally.socket_errors += 1
        if connection is not None:
            connection.close()
        return None
    tally.record(exchange, origin if origin else exchange.start)
    return connection


async def closed_loop(
    target: Target, concurrency: int, duration: float, stream: bool, grace: float = 10.0
) -> Tally:
    tally = Tally()
    stop = _now() + duration

    async def worker() -> None:
        connection: Connection | None = None
        while _now() < stop:
            connection = await _exchange(target, connection, 0.0, tally, stream)
            if connection is None:
                await asyncio.sleep(0.01)  # a refused connection must not spin
        if connection is not None:
            connection.close()

    tasks = {asyncio.create_task(worker()) for _ in range(concurrency)}
    return await _finish(tasks, tally, duration + grace)


async def open_loop(
    target: Target, rate: float, duration: float, max_connections: int, grace: float = 10.0
) -> Tally:
    tally = Tally()
    idle: list[Connection] = []
    opened = 0
    tasks: set[asyncio.Task[None]] = set()

    async def one(scheduled: float, connection: Connection | None) -> None:
        reused = await _exchange(target, connection, scheduled, tally, False)
        if reused is not None:
            idle.append(reused)

    start = _now() + 0.05
    total = int(rate * duration)
    for number in range(total):
        scheduled = start + number / rate
        delay = scheduled - _now()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        connection = idle.pop() if idle else None
        if connection is None:
            if opened >= max_connections:
                tally.socket_errors += 1  # the generator's limit: counted, never hidden
                continue
            opened += 1
        task = asyncio.create_task(one(scheduled, connection))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    return tally if not tasks else await _finish(tasks, tally, grace)


async def _finish(tasks: set[asyncio.Task[None]], tally: Tally, seconds: float) -> Tally:
    """Wait for the tasks at most `seconds`; each one still running is an error."""
    _, pending = await asyncio.wait(set(tasks), timeout=seconds)
    for task in pending:
        task.cancel()
        tally.socket_errors += 1
    return tally


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summarize(tally: Tally, elapsed: float, mode: str, duration: float) -> dict[str, Any]:
    done = sum(tally.statuses.values())
    ok = sum(n for status, n in tally.statuses.items() if 200 <= status < 300)
    ms = 1000.0
    summary: dict[str, Any] = {
        "mode": mode,
        "requests": done,
        "ok": ok,
        "errors": done - ok + tally.socket_errors,
        "socket_errors": tally.socket_errors,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "elapsed_s": round(elapsed, 3),
        # An open loop's rate is over its schedule, not over the wait for the last reply.
        "rps": round(ok / (duration if mode == "open" else elapsed), 1) if elapsed else 0.0,
    }
    for name, share in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        summary[f"{name}_ms"] = round(percentile(tally.latencies, share) * ms, 3)
        if mode == "stream":
            summary[f"ttfb_{name}_ms"] = round(percentile(tally.ttfb, share) * ms, 3)
            summary[f"gap_{name}_ms"] = round(percentile(tally.gaps, share) * ms, 3)
    if mode == "stream":
        summary["reads_per_stream"] = round(tally.reads / done, 1) if done else 0.0
    return summary


async def run(args: argparse.Namespace, body: bytes) -> dict[str, Any]:
    target = build_target(args.url, body, args.header)
    started = _now()
    if args.mode == "open":
        tally = await open_loop(target, args.rate, args.duration, args.max_connections, args.grace)
    else:
        stream = args.mode == "stream"
        tally = await closed_loop(target, args.concurrency, args.duration, stream, args.grace)
    return summarize(tally, _now() - started, args.mode, args.duration)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--body-file", required=True)
    parser.add_argument("--header", action="append", default=[], help='"name: value"')
    parser.add_argument("--mode", choices=("closed", "open", "stream"), default="closed")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=200.0, help="requests/s (open mode)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds (at most 600)")
    parser.add_argument("--max-connections", type=int, default=2048)
    parser.add_argument("--grace", type=float, default=10.0, help="seconds to wait at the end")
    args = parser.parse_args(argv)
    args.duration = min(args.duration, 600.0)
    with open(args.body_file, "rb") as file:
        body = file.read()
    print(orjson.dumps(uvloop.run(run(args, body))).decode(), flush=True)


if __name__ == "__main__":
    main()
