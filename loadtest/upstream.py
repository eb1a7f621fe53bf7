"""The fast fake upstream: canned provider replies from a raw asyncio.Protocol on uvloop.

    python -m loadtest.upstream --port P [--host 127.0.0.1] [--chunks 20] [--chunk-delay-ms 10]

prints `ready <port>` once listening. It must never be the bottleneck of a benchmark, so there
is no framework: requests are parsed with a few bytes searches, the model name and `"stream":
true` are found with regexes rather than a JSON parse, and replies come from a cache of finished
bytes (loadtest/canned.py). HTTP/1.1 keep-alive; Content-Length or chunked request bodies;
streams go out chunked, one write per segment, `--chunk-delay-ms` apart.

Control endpoints (never counted as provider requests):
    GET  /__stats        {"requests", "in_flight", "max_in_flight", "mode"}
    POST /__stats/reset  zero the counters
    POST /__fault        set the fault mode for the following provider requests, e.g.
                         {"mode": "status", "status": 503, "retry_after": 2, "rate": 0.5};
                         modes: ok | status | hang | drop | stream_error | slow (delay_ms)
    POST /__chunks       {"chunks": N}: text pieces of the following replies (the bench's
                         CPU-per-chunk slope measures one gateway at two chunk counts)
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
from dataclasses import dataclass, field
from enum import Enum
from http import HTTPStatus
from typing import Any, cast

import orjson
import uvloop

from loadtest import canned

_MODEL = re.compile(rb'"model"\s*:\s*"([^"\\]{1,256})"')
_STREAM = re.compile(rb'"stream"\s*:\s*true')
_INCLUDE_USAGE = re.compile(rb'"include_usage"\s*:\s*true')
_GEMINI_PATH = re.compile(rb"/models/([^/:]+):(\w+)$")
_MAX_HEAD = 64 * 1024
_CACHE_LIMIT = 512


class Kind(Enum):
    """What a provider path asks for; decides the reply's shape and its error family."""

    CHAT = "chat"
    RESPONSES = "responses"
    INPUT_TOKENS = "input_tokens"
    MESSAGES = "messages"
    COUNT_TOKENS = "count_tokens"
    GENERATE = "generate"
    STREAM_GENERATE = "stream_generate"
    GEMINI_COUNT = "gemini_count"
    MODELS = "models"


_SUFFIXES = (
    (b"/chat/completions", Kind.CHAT),
    (b"/responses/input_tokens", Kind.INPUT_TOKENS),
    (b"/responses", Kind.RESPONSES),
    (b"/messages/count_tokens", Kind.COUNT_TOKENS),
    (b"/messages", Kind.MESSAGES),
    (b"/models", Kind.MODELS),
)
_GEMINI_METHODS = {
    b"generateContent": Kind.GENERATE,
    b"streamGenerateContent": Kind.STREAM_GENERATE,
    b"countTokens": Kind.GEMINI_COUNT,
}
_STREAM_BUILDERS: dict[Kind, canned.StreamBuilder] = {
    Kind.CHAT: canned.chat_stream,
    Kind.RESPONSES: canned.responses_stream,
    Kind.MESSAGES: canned.messages_stream,
    Kind.STREAM_GENERATE: canned.gemini_stream,
}


def classify(path: bytes) -> tuple[Kind, str | None] | None:
    """The kind of a provider path and, for Gemini, the model named in it."""
    gemini = _GEMINI_PATH.search(path)
    if gemini is not None:
        kind = _GEMINI_METHODS.get(gemini.group(2))
        return None if kind is None else (kind, gemini.group(1).decode())
    for suffix, kind in _SUFFIXES:
        if path.endswith(suffix):
            return kind, None
    return None


@dataclass(slots=True)
class Fault:
    """The fault applied to provider requests (`mode` "ok" means none), as set by /__fault."""

    mode: str = "ok"
    status: int = 503
    retry_after: float | None = None
    delay_ms: float = 0.0
    rate: float = 1.0

    def as_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {"mode": self.mode, "rate": self.rate}
        if self.mode == "status":
            value |= {"status": self.status, "retry_after": self.retry_after}
        if self.mode == "slow":
            value["delay_ms"] = self.delay_ms
        return value


_MODES = {"ok", "status", "hang", "drop", "stream_error", "slow"}


def parse_fault(body: bytes) -> Fault:
    """A Fault from /__fault's JSON body; ValueError on anything malformed."""
    value = orjson.loads(body or b"{}")
    if not isinstance(value, dict) or value.get("mode") not in _MODES:
        raise ValueError(f"mode must be one of {sorted(_MODES)}")
    rate = float(value.get("rate", 1.0))
    status = int(value.get("status", 503))
    if not 0.0 <= rate <= 1.0 or not 100 <= status <= 599:
        raise ValueError("rate must be in 0..1 and status in 100..599")
    retry_after = value.get("retry_after")
    return Fault(
        mode=value["mode"],
        status=status,
        retry_after=None if retry_after is None else float(retry_after),
        delay_ms=float(value.get("delay_ms", 0.0)),
        rate=rate,
    )


@dataclass(slots=True)
class Upstream:
    """State shared by every connection: counters, fault mode, reply cache, stream shape."""

    chunks: int = 20
    chunk_delay: float = 0.010
    requests: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    fault: Fault = field(default_factory=Fault)
    cache: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "mode": self.fault.as_json(),
        }

    def reset(self) -> None:
        self.requests = 0
        self.max_in_flight = self.in_flight

    def active_fault(self) -> Fault | None:
        fault = self.fault
        if fault.mode == "ok" or (fault.rate < 1.0 and random.random() >= fault.rate):
            return None
        return fault

    def set_chunks(self, chunks: int) -> None:
        if not 1 <= chunks <= 10_000:
            raise ValueError("chunks must be in 1..10000")
        self.chunks = chunks
        self.cache.clear()  # the cached replies hold the old number of pieces

    def cached(self, key: tuple[Any, ...], build: Any) -> Any:
        found = self.cache.get(key)
        if found is None:
            if len(self.cache) >= _CACHE_LIMIT:
                self.cache.clear()
            found = self.cache[key] = build()
        return found


def response_bytes(status: int, content_type: bytes, body: bytes, extra: bytes = b"") -> bytes:
    try:
        reason = HTTPStatus(status).phrase.encode()
    except ValueError:  # a status without a standard phrase, e.g. Anthropic's 529
        reason = b"Status"
    return b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n%s\r\n%s" % (
        status,
        reason,
        content_type,
        len(body),
        extra,
        body,
    )


def stream_head(content_type: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncache-control: no-cache\r\n"
        b"transfer-encoding: chunked\r\n\r\n" % content_type
    )


def http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data) if data else b""


@dataclass(frozen=True, slots=True)
class ReplyShape:
    """What a provider request asks for, read from its path, body and query."""

    model: str
    streamed: bool
    flag: bool  # the stream builders' flag: Gemini's SSE framing, else include_usage
    sse: bool


def reply_shape(kind: Kind, path_model: str | None, body: bytes, query: bytes) -> ReplyShape:
    found = _MODEL.search(body)
    model = path_model or (found.group(1).decode() if found else "unknown-model")
    streamed = kind is Kind.STREAM_GENERATE or (
        kind in _STREAM_BUILDERS and _STREAM.search(body) is not None
    )
    sse = kind is not Kind.STREAM_GENERATE or b"alt=sse" in query
    flag = sse if kind is Kind.STREAM_GENERATE else bool(_INCLUDE_USAGE.search(body))
    return ReplyShape(model, streamed, flag, sse)


def stream_segments(kind: Kind, model: str, words: list[str], flag: bool) -> list[bytes]:
    """The stream's bytes, one item per write (see loadtest/canned.py)."""
    return [b"".join(segment) for segment in _STREAM_BUILDERS[kind](model, words, flag)]


def nonstream_body(kind: Kind, model: str, words: list[str]) -> bytes:
    match kind:
        case Kind.CHAT:
            return canned.chat_body(model, words)
        case Kind.RESPONSES:
            return canned.responses_body(model, words)
        case Kind.MESSAGES:
            return canned.messages_body(model, words)
        case Kind.GENERATE | Kind.STREAM_GENERATE:
            return canned.gemini_body(model, words)
        case Kind.INPUT_TOKENS:
            return canned.input_tokens_body()
        case Kind.COUNT_TOKENS:
            return canned.count_tokens_body()
        case Kind.GEMINI_COUNT:
            return canned.gemini_count_body()
        case Kind.MODELS:
            return canned.models_body()


def error_body(kind: Kind, status: int, message: str) -> bytes:
    if kind in (Kind.MESSAGES, Kind.COUNT_TOKENS):
        return canned.anthropic_error(status, message)
    if kind in (Kind.GENERATE, Kind.STREAM_GENERATE, Kind.GEMINI_COUNT):
        return canned.gemini_error(status, message)
    return canned.openai_error(status, message)


def stream_error_frame(kind: Kind, sse: bool) -> bytes:
    match kind:
        case Kind.RESPONSES:
            return canned.responses_stream_error()
        case Kind.MESSAGES:
            return canned.messages_stream_error()
        case Kind.STREAM_GENERATE:
            return canned.gemini_stream_error(sse)
        case _:
            return canned.chat_stream_error()


@dataclass(slots=True)
class Request:
    method: bytes
    path: bytes
    query: bytes
    body: bytes
    keep_alive: bool


def parse_request(buffer: bytearray) -> tuple[Request, int] | None:
    """The first complete request in `buffer` and the bytes it used; None until complete."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > _MAX_HEAD:
            raise ValueError("request head too large")
        return None
    head = bytes(buffer[:end]).lower()
    line_end = head.find(b"\r\n")
    method, target, version = bytes(buffer[: line_end if line_end >= 0 else end]).split(b" ", 2)
    path, _, query = target.partition(b"?")
    keep_alive = b"\r\nconnection: close" not in head and version != b"HTTP/1.0"
    start = end + 4
    if b"\r\ntransfer-encoding: chunked" in head:
        found = _dechunk(buffer, start)
        if found is None:
            return None
        body, used = found
    else:
        length = _content_length(head)
        if len(buffer) < start + length:
            return None
        body, used = bytes(buffer[start : start + length]), start + length
    return Request(method, path, query, body, keep_alive), used


def _content_length(head: bytes) -> int:
    at = head.find(b"\r\ncontent-length:")
    if at < 0:
        return 0
    line_end = head.find(b"\r\n", at + 2)
    return int(head[at + 17 : line_end if line_end >= 0 else len(head)])


def _dechunk(buffer: bytearray, at: int) -> tuple[bytes, int] | None:
    parts = []
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(bytes(buffer[at:line_end]).split(b";")[0], 16)
        data_start = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", line_end)
            return (b"".join(parts), trailer_end + 4) if trailer_end >= 0 else None
        if len(buffer) < data_start + size + 2:
            return None
        parts.append(bytes(buffer[data_start : data_start + size]))
        at = data_start + size + 2


class Connection(asyncio.Protocol):
    """One client connection; requests are answered in order, one at a time."""

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.busy = False
        self.counted = False
        self.keep_alive = True
        self.segments: list[bytes] = []
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses; they have the same API.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.timer is not None:
            self.timer.cancel()
        self._uncount()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.busy:
            self._drain()

    def _drain(self) -> None:
        while not self.busy and self.transport is not None and self.buffer:
            try:
                parsed = parse_request(self.buffer)
            except ValueError:
                self._write(response_bytes(400, canned.JSON_TYPE, b'{"error":"bad request"}'))
                self.transport.close()
                return
            if parsed is None:
                return
            request, used = parsed
            del self.buffer[:used]
            self.busy = True
            self.keep_alive = request.keep_alive
            if request.path.startswith(b"/__"):
                self._control(request)
            else:
                self._provider(request)

    def _write(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def _finish(self) -> None:
        self._uncount()
        self.busy = False
        if not self.keep_alive and self.transport is not None:
            self.transport.close()

    def _uncount(self) -> None:
        if self.counted:
            self.counted = False
            self.upstream.in_flight -= 1

    def _control(self, request: Request) -> None:
        upstream = self.upstream
        status, body = 200, b""
        if request.path == b"/__stats" and request.method == b"GET":
            body = orjson.dumps(upstream.stats())
        elif request.path == b"/__stats/reset" and request.method == b"POST":
            upstream.reset()
            body = orjson.dumps(upstream.stats())
        elif request.path == b"/__fault" and request.method == b"POST":
            try:
                upstream.fault = parse_fault(request.body)
                body = orjson.dumps(upstream.fault.as_json())
            except (ValueError, TypeError, orjson.JSONDecodeError) as error:
                status, body = 400, orjson.dumps({"error": str(error)})
        elif request.path == b"/__chunks" and request.method == b"POST":
            try:
                upstream.set_chunks(int(orjson.loads(request.body)["chunks"]))
                body = orjson.dumps({"chunks": upstream.chunks})
            except (ValueError, TypeError, KeyError, orjson.JSONDecodeError) as error:
                status, body = 400, orjson.dumps({"error": str(error)})
        else:
            status, body = 404, b'{"error":"no such control endpoint"}'
        self._write(response_bytes(status, canned.JSON_TYPE, body))
        self._finish()

    def _provider(self, request: Request) -> None:
        upstream = self.upstream
        upstream.requests += 1
        upstream.in_flight += 1
        upstream.max_in_flight = max(upstream.max_in_flight, upstream.in_flight)
        self.counted = True
        fault = upstream.active_fault()
        if fault is None:
            self._answer(request, None)
        elif fault.mode == "drop":
            assert self.transport is not None
            self.transport.close()
        elif fault.mode == "hang":
            return  # busy until the client gives up and closes
        elif fault.mode == "slow":
            self.timer = self.loop.call_later(fault.delay_ms / 1000, self._late, request)
        else:
            self._answer(request, fault)

    def _late(self, request: Request) -> None:
        self.timer = None
        self._answer(request, None)
        if not self.busy:
            self._drain()

    def _answer(self, request: Request, fault: Fault | None) -> None:
        route = classify(request.path)
        if route is None:
            body = canned.openai_error(404, "fake upstream: no such endpoint")
            self._write(response_bytes(404, canned.JSON_TYPE, body))
            return self._finish()
        kind, path_model = route
        if fault is not None and fault.mode == "status":
            return self._fail(kind, fault)
        shape = reply_shape(kind, path_model, request.body, request.query)
        model, flag, sse = shape.model, shape.flag, shape.sse
        if not shape.streamed:
            key = (kind, model)
            reply = self.upstream.cached(key, lambda: self._nonstream(kind, model))
            self._write(reply)
            return self._finish()
        if fault is not None and fault.mode == "stream_error":
            return self._stream_error(kind, sse)
        key = (kind, model, flag, True)
        segments = self.upstream.cached(key, lambda: self._stream(kind, model, flag, sse))
        self._write(segments[0])
        self.segments = segments[1:]
        self._next_later()

    def _nonstream(self, kind: Kind, model: str) -> bytes:
        body = nonstream_body(kind, model, canned.pieces(self.upstream.chunks))
        return response_bytes(200, canned.JSON_TYPE, body)

    def _stream(self, kind: Kind, model: str, flag: bool, sse: bool) -> list[bytes]:
        segments = stream_segments(kind, model, canned.pieces(self.upstream.chunks), flag)
        chunks = [http_chunk(s) for s in segments]
        chunks[0] = stream_head(canned.SSE_TYPE if sse else canned.JSON_TYPE) + chunks[0]
        chunks[-1] += b"0\r\n\r\n"
        return chunks

    def _next_later(self) -> None:
        if not self.segments:
            return self._finish()
        self.timer = self.loop.call_later(self.upstream.chunk_delay, self._next_segment)

    def _next_segment(self) -> None:
        self.timer = None
        if self.transport is None:
            return
        self._write(self.segments.pop(0))
        self._next_later()
        if not self.busy:
            self._drain()

    def _fail(self, kind: Kind, fault: Fault) -> None:
        extra = b""
        if fault.retry_after is not None:
            extra = b"retry-after: %d\r\n" % max(0, round(fault.retry_after))
        body = error_body(kind, fault.status, f"fault injected: status {fault.status}")
        self._write(response_bytes(fault.status, canned.JSON_TYPE, body, extra))
        self._finish()

    def _stream_error(self, kind: Kind, sse: bool) -> None:
        frame = stream_error_frame(kind, sse)
        content_type = canned.SSE_TYPE if sse else canned.JSON_TYPE
        self._write(stream_head(content_type) + http_chunk(frame) + b"0\r\n\r\n")
        self._finish()


async def serve(host: str, port: int, upstream: Upstream) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: Connection(upstream), host, port, backlog=4096, reuse_address=True
    )
    bound = server.sockets[0].getsockname()[1]
    print(f"ready {bound}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--chunks", type=int, default=20, help="text pieces per stream")
    parser.add_argument("--chunk-delay-ms", type=float, default=10.0)
    args = parser.parse_args(argv)
    upstream = Upstream(chunks=max(1, args.chunks), chunk_delay=args.chunk_delay_ms / 1000)
    try:
        uvloop.run(serve(args.host, args.port, upstream))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
