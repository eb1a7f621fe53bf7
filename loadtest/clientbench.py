"""Upstream HTTP clients side by side, in one process, against the fast fake upstream.

    python -m loadtest.clientbench [--seconds 2] [--rounds 3]

Starts loadtest/upstream.py twice (streams of 20 chunks, no delay between them; and 5 ms
apart) and, in this uvloop process, drives each client in turn: non-stream requests (send,
read, release) at 1, 16 and 64 concurrent, and streams of both kinds iterated chunk by chunk
at 16 concurrent. Clients and scenarios are interleaved round by round so that drift hits
them alike; the medians are printed.

CPU is time.process_time() of this process (the upstream runs in its own), per request and,
for streams, per upstream chunk (20 text chunks per stream; how many pieces a client yields
depends on how the packets coalesce, so it is printed too).

Clients: `http1`, the gateway's upstream client (app/upstream/transport.py's `Pools` over
app/upstream/client.py), and `aiohttp` as the gateway used it until issue 5 (one session
per origin, the same connector, timeout and header settings, the same response adapter
less its error mapping), kept here as the yardstick.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
import yarl

from app.config.model import Timeouts
from app.upstream.transport import Pools, UpstreamRequest
from loadtest import stack

STREAM_CHUNKS = 20
LEVELS = (1, 16, 64)
STREAM_CONCURRENCY = 16
# A second stream scenario with its chunks this far apart: each arrives alone, in its own
# packet, as model tokens do; its CPU per chunk is the per-chunk cost without batching.
SPACED_CHUNK_MS = 5
TIMEOUTS = Timeouts(connect=5, first_byte=30, idle=30, total=60)
BODY = b'{"model":"gpt-bench","messages":[{"role":"user","content":"Say hello"}]}'
STREAM_BODY = BODY[:-1] + b',"stream":true}'


# --- aiohttp, as app/upstream/transport.py used it until issue 5 --------------------------


class _AiohttpResponse:
    """The gateway's former aiohttp response adapter (idle timer on the protocol)."""

    __slots__ = ("_response",)

    def __init__(self, response: aiohttp.ClientResponse, timeouts: Timeouts) -> None:
        self._response = response
        connection = response.connection
        if connection is not None and connection.protocol is not None:
            connection.protocol.read_timeout = timeouts.idle
            if not response.content.is_eof():
                connection.protocol.start_timeout()

    @property
    def status(self) -> int:
        return self._response.status

    async def read(self, limit: int) -> bytes:
        length = self._response.content_length
        if length is not None and length > limit:
            raise ValueError("over the limit")
        body = await self._response.read()
        if len(body) > limit:
            raise ValueError("over the limit")
        return body

    async def chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.content.iter_any():
            yield chunk

    def release(self) -> None:
        self._response.release()


class _AiohttpTransport:
    """One session per origin with the settings the gateway's Pools had."""

    def __init__(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=1024, limit_per_host=0, ttl_dns_cache=300, keepalive_timeout=30
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None),
            skip_auto_headers=("User-Agent",),
            auto_decompress=True,
            raise_for_status=False,
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        self._urls: dict[str, yarl.URL] = {}

    async def send(self, request: UpstreamRequest) -> _AiohttpResponse:
        timeouts = request.timeouts
        url = self._urls.get(request.url)
        if url is None:
            url = self._urls[request.url] = yarl.URL(request.url)
        response = await self._session.request(
            request.method,
            url,
            data=request.body,
            headers=request.headers,
            timeout=_aiohttp_timeout(timeouts),
            allow_redirects=False,
        )
        return _AiohttpResponse(response, timeouts)

    async def close(self) -> None:
        await self._session.close()


@functools.lru_cache(maxsize=8)
def _aiohttp_timeout(timeouts: Timeouts) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=timeouts.total, sock_connect=timeouts.connect, sock_read=timeouts.first_byte
    )


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
    stream = scenario.startswith("stream")
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


async def run(origins: dict[str, str], seconds: float, rounds: int) -> list[Point]:
    """``origins``: the fast upstream for each scenario (streams spaced or not)."""
    pools = Pools(connections_per_origin=1024)
    pools.open(origins.values())
    former = _AiohttpTransport()
    points = []
    try:
        for _ in range(rounds):
            for scenario, origin in origins.items():
                url = f"{origin}/v1/chat/completions"
                clients: dict[str, Sender] = {
                    "aiohttp": former.send,
                    "http1": pools.transport.send,
                }
                for name, send in clients.items():
                    points.append(await measure(name, send, url, scenario, seconds))
    finally:
        await pools.close()
        await former.close()
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
        stream = scenario.startswith("stream")
        per_chunk = f"{cpu / STREAM_CHUNKS:.1f}" if stream else ""
        pieces = (
            f"{statistics.median(p.chunks / max(1, p.requests) for p in mine):.1f}"
            if stream
            else ""
        )
        errors = sum(p.errors for p in mine)
        cells = [scenario, client, f"{rate:,.0f}", f"{cpu:.1f}", per_chunk, pieces, str(errors)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| scenario | http1 / aiohttp CPU per request | http1 / aiohttp req/s |"]
    lines.append("|---|---|---|")
    for scenario in dict.fromkeys(p.scenario for p in points):
        base, new = medians.get((scenario, "aiohttp")), medians.get((scenario, "http1"))
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
        spaced = stack.start_upstream(
            Path(workdir), chunks=STREAM_CHUNKS, chunk_delay_ms=SPACED_CHUNK_MS
        )
        origins = {f"c{level}": upstream.url for level in LEVELS}
        origins |= {"stream": upstream.url, f"stream-{SPACED_CHUNK_MS}ms": spaced.url}
        try:
            points = uvloop.run(run(origins, args.seconds, args.rounds))
        finally:
            upstream.stop()
            spaced.stop()
    print(summary(points))


if __name__ == "__main__":
    main()
