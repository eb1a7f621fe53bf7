"""What the gateway's own code costs per request, without the server or the upstream client.

    python -m loadtest.inproc [--requests 4000] [--profile CASE] [--output FILE]

The bench measures the whole worker: Granian's ASGI bridge, BlackSheep, our code, the upstream
client and the kernel. This runs the real ASGI application (`app.http.app.create_app` over a
`Gateway` built from the bench's config) in one process, called directly with ASGI messages,
with every account's transport replaced by a stub that answers from memory with the fast
upstream's canned replies (loadtest/canned.py). CPU time per request (`time.process_time`) is
then the cost of BlackSheep plus the gateway's code: routing, auth, parsing, validation,
account selection, translation, usage reading, the ledger. Streams run at 20 and 100 chunks;
the difference per extra chunk is the incremental cost of a chunk in our code.

Cases (side by side in one run, interleaved over `--rounds`, median kept):
- `passthrough`, `anthropic-to-openai`, `openai-to-anthropic`: the bench's short requests;
- `claude-code-to-openai`, `claude-code-passthrough`: the 45 kB Claude Code request
  (loadtest/payloads) translated to an OpenAI account, and relayed to an Anthropic one;
- a `-stream` twin of the short cases.
`--profile CASE` prints cProfile's top functions for one case instead.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvloop

from loadtest import canned, payloads, scenarios, stack, upstream

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    client: str  # "openai" | "anthropic"
    model: str
    body: Callable[[bool], bytes]
    stream: bool = False


def _short(target_name: str) -> Callable[[bool], bytes]:
    target = next(t for t in scenarios.TARGETS if t.name == target_name)
    return target.body


def _claude_code(model: str) -> Callable[[bool], bytes]:
    return lambda stream: payloads.body("claude_code", model=model, stream=stream)


_BASE = [
    Case(
        "passthrough", "/v1/chat/completions", "openai", stack.OPENAI_MODEL, _short("passthrough")
    ),
    Case(
        "anthropic-to-openai",
        "/v1/messages",
        "anthropic",
        stack.OPENAI_MODEL,
        _short("anthropic-to-openai"),
    ),
    Case(
        "openai-to-anthropic",
        "/v1/chat/completions",
        "openai",
        stack.ANTHROPIC_MODEL,
        _short("openai-to-anthropic"),
    ),
]
CASES = [
    *_BASE,
    Case(
        "claude-code-to-openai",
        "/v1/messages",
        "anthropic",
        stack.OPENAI_MODEL,
        _claude_code(stack.OPENAI_MODEL),
    ),
    Case(
        "claude-code-passthrough",
        "/v1/messages",
        "anthropic",
        stack.ANTHROPIC_MODEL,
        _claude_code(stack.ANTHROPIC_MODEL),
    ),
    *(
        Case(f"{case.name}-stream", case.path, case.client, case.model, case.body, stream=True)
        for case in _BASE
    ),
]


class StubResponse:
    """An upstream reply from memory, shaped like the transport's ``UpstreamResponse``."""

    def __init__(self, content_type: str, body: bytes, segments: list[bytes]) -> None:
        self.status = 200
        self.headers = {"content-type": content_type, "x-request-id": "req_stub"}
        self.raw_headers = [
            (b"content-type", content_type.encode()),
            (b"x-request-id", b"req_stub"),
        ]
        self._body = body
        self._segments = segments

    async def read(self, limit: int) -> bytes:
        return self._body

    async def chunks(self) -> AsyncIterator[bytes]:
        for segment in self._segments:
            yield segment

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass


class StubTransport:
    """Answers every request at once with the fast upstream's canned reply for its path
    and body (loadtest/upstream.py decides the shape, as it does over sockets).

    A reply is worked out once per (URL, body length, chunks): the harness sends the same
    few bodies over and over, and scanning a 45 kB body here must not count as the
    gateway's cost."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self._replies: dict[tuple[str, int, int], tuple[str, bytes, list[bytes]]] = {}

    async def send(self, request: Any) -> StubResponse:
        key = (request.url, len(request.body), self.chunks)
        reply = self._replies.get(key)
        if reply is None:
            reply = self._replies[key] = self._reply(request)
        return StubResponse(*reply)

    def _reply(self, request: Any) -> tuple[str, bytes, list[bytes]]:
        url = urlsplit(request.url)
        route = upstream.classify(url.path.encode())
        if route is None:
            raise ValueError(f"the fake upstream has no route for {url.path}")
        kind, path_model = route
        shape = upstream.reply_shape(kind, path_model, request.body, url.query.encode())
        words = canned.pieces(self.chunks)
        if not shape.streamed:
            return "application/json", upstream.nonstream_body(kind, shape.model, words), []
        segments = upstream.stream_segments(kind, shape.model, words, shape.flag)
        return "text/event-stream" if shape.sse else "application/json", b"", segments


class Harness:
    """The gateway's ASGI app with stub transports, driven by direct ASGI calls."""

    def __init__(self, chunks: int = 20) -> None:
        os.environ["SWITCHYARD_DEMO_KEY"] = stack.CLIENT_KEY
        os.environ["BENCH_PROVIDER_KEY"] = stack.PROVIDER_KEY
        from app.config.loader import load_config
        from app.http.app import create_app
        from app.services.gateway import Gateway

        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "inproc.toml"
            path.write_text(stack.gateway_config("http://127.0.0.1:9"), encoding="utf-8")
            self.gateway = Gateway(load_config(str(path), os.environ))
        self.transports = []
        for account in self.gateway.accounts:
            transport = StubTransport(chunks)
            account.transport = transport
            self.transports.append(transport)
        self.app = create_app(self.gateway)

    def set_chunks(self, chunks: int) -> None:
        for transport in self.transports:
            transport.chunks = chunks

    async def request(self, case: Case, body: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
        loop = asyncio.get_running_loop()
        first: asyncio.Future[dict[str, Any]] = loop.create_future()
        first.set_result({"type": "http.request", "body": body, "more_body": False})
        pending: list[asyncio.Future[dict[str, Any]]] = [first]

        def receive() -> asyncio.Future[dict[str, Any]]:
            # Like Granian's: a future, not a coroutine; after the body, one that waits.
            if pending:
                return pending.pop()
            return loop.create_future()

        out: list[bytes] = []
        status: list[int] = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            else:
                out.append(message.get("body", b""))

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": case.path,
            "raw_path": case.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
        }
        await self.app(scope, receive, send)
        if status != [200]:
            raise RuntimeError(f"{case.name}: HTTP {status}: {b''.join(out)[:300]!r}")
        return b"".join(out)


def _headers(case: Case, body: bytes) -> list[tuple[bytes, bytes]]:
    lines = scenarios.ANTHROPIC_HEADERS if case.client == "anthropic" else scenarios.OPENAI_HEADERS
    headers = [tuple(part.strip().encode() for part in line.split(":", 1)) for line in lines]
    headers += [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    return [(name, value) for name, value in headers]


async def _cost(harness: Harness, case: Case, requests: int) -> float:
    """CPU microseconds per request of ``requests`` sequential calls, after a warm-up."""
    body = case.body(case.stream)
    headers = _headers(case, body)
    for _ in range(50):
        await harness.request(case, body, headers)
    started = time.process_time()
    for _ in range(requests):
        await harness.request(case, body, headers)
    return (time.process_time() - started) / requests * 1e6


async def measure(requests: int, rounds: int, cases: list[Case]) -> list[dict[str, Any]]:
    harness = Harness()
    await harness.app.start()
    samples: dict[str, list[float]] = {}
    try:
        for _ in range(rounds):
            for case in cases:
                harness.set_chunks(20)
                samples.setdefault(case.name, []).append(await _cost(harness, case, requests))
                if case.stream:
                    harness.set_chunks(100)
                    key = f"{case.name}@100"
                    samples.setdefault(key, []).append(await _cost(harness, case, requests // 2))
    finally:
        await harness.app.stop()
    rows = []
    for case in cases:
        row: dict[str, Any] = {
            "case": case.name,
            "us_per_request": statistics.median(samples[case.name]),
        }
        if case.stream:
            at_100 = statistics.median(samples[f"{case.name}@100"])
            row["us_per_extra_chunk"] = (at_100 - row["us_per_request"]) / 80
        rows.append(row)
    return rows


def render(rows: list[dict[str, Any]], requests: int, rounds: int, heading: str = "#") -> str:
    lines = [
        f"{heading} In-process cost of the gateway's code",
        "",
        f"`python -m loadtest.inproc --requests {requests} --rounds {rounds}`: the real ASGI app "
        "(BlackSheep + the gateway) called directly, every account's transport a stub answering "
        "from memory; no Granian, no upstream client, no sockets. CPU per request is "
        "`process_time`, median of the rounds. Streams: 20 chunks; per extra chunk = (CPU at "
        "100 chunks - CPU at 20) / 80.",
        "",
        "| case | CPU us/request | CPU us per extra stream chunk |",
        "|---|---|---|",
    ]
    for row in rows:
        chunk = row.get("us_per_extra_chunk")
        lines.append(
            f"| {row['case']} | {row['us_per_request']:.1f} | "
            f"{'-' if chunk is None else f'{chunk:.1f}'} |"
        )
    return "\n".join(lines) + "\n"


async def _profile(case: Case, requests: int) -> None:
    harness = Harness()
    await harness.app.start()
    body = case.body(case.stream)
    headers = _headers(case, body)
    for _ in range(50):
        await harness.request(case, body, headers)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        await harness.request(case, body, headers)
    profiler.disable()
    await harness.app.stop()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--profile", metavar="CASE", help="cProfile one case instead")
    parser.add_argument("--output", type=Path, help="also write the table here")
    parser.add_argument(
        "--markdown", action="store_true", help="print only the table, as a report section"
    )
    args = parser.parse_args(argv)
    by_name = {case.name: case for case in CASES}
    if args.profile:
        uvloop.run(_profile(by_name[args.profile], args.requests))
        return
    cases = [by_name[name] for name in args.only.split(",")] if args.only else CASES
    # The ledger's lines go to stderr: keep them out of the terminal.
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(2)
    os.dup2(devnull, 2)
    try:
        rows = uvloop.run(measure(args.requests, args.rounds, cases))
    finally:
        os.dup2(saved, 2)
    text = render(rows, args.requests, args.rounds, "###" if args.markdown else "#")
    print(text)
    if args.output:
        args.output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
