"""The upstream HTTP/1.1 client (app/upstream/http1.py) against scripted loopback servers:
framing, keep-alive and its failures, the pool's limit, backpressure, decoding, limits and
deadlines. Each test runs on both the default event loop and uvloop (the gateway's)."""

import asyncio
import gc
import gzip
import time
import weakref
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from app.config.model import Timeouts
from app.core.errors import InvalidRequest, UpstreamTimeout, UpstreamUnavailable
from app.upstream import connections
from app.upstream.headers import ResponseHeaders
from app.upstream.transport import Pools, UpstreamRequest, UpstreamResponse
from tests.unit.upstream.scripted_http import (
    LAST_CHUNK,
    Run,
    Seen,
    Server,
    answer,
    chunk,
    chunked_head,
    reply,
    serving,
)

TIMEOUTS = Timeouts(connect=2, first_byte=5, idle=5, total=10)
BOUND = 8.0  # no test should get near this; a hang shows as this running out
LIMIT = 1 << 20


@asynccontextmanager
async def pools(limit: int = 4) -> AsyncIterator[Pools]:
    opened = Pools(connections_per_origin=limit)
    try:
        yield opened
    finally:
        await opened.close()


def post(
    server: Server,
    body: bytes = b'{"q": 1}',
    *,
    timeouts: Timeouts = TIMEOUTS,
    headers: dict[str, str] | None = None,
    path: str = "/v1/chat/completions",
) -> UpstreamRequest:
    return UpstreamRequest("POST", server.url(path), headers or {}, body, timeouts)


async def send(opened: Pools, server: Server, **kwargs: Any) -> UpstreamResponse:
    async with asyncio.timeout(BOUND):
        return await opened.transport.send(post(server, **kwargs))


async def fetch(opened: Pools, server: Server, **kwargs: Any) -> bytes:
    response = await send(opened, server, **kwargs)
    async with asyncio.timeout(BOUND):
        body = await response.read(LIMIT)
    response.release()
    return body


async def stream(response: UpstreamResponse) -> list[bytes]:
    async with asyncio.timeout(BOUND):
        return [piece async for piece in response.chunks()]


# --- the request on the wire ------------------------------------------------------------


def test_the_request_carries_host_content_length_and_the_callers_headers_only(run: Run) -> None:
    async def main() -> None:
        async with serving(answer(reply(b"ok"))) as server, pools() as opened:
            body = b'{"model": "m"}'
            headers = {"authorization": "Bearer k", "content-type": "application/json"}
            assert (
                await fetch(opened, server, body=body, headers=headers, path="/v1/x?a=b") == b"ok"
            )
        seen = server.seen[0]
        assert seen.request_line == b"POST /v1/x?a=b HTTP/1.1"
        assert seen.headers[b"host"] == [f"127.0.0.1:{server.port}".encode()]
        assert seen.headers[b"content-length"] == [str(len(body)).encode()]
        assert seen.headers[b"authorization"] == [b"Bearer k"]
        assert seen.body == body
        # Nothing advertised that the gateway would then have to undo.
        assert b"accept-encoding" not in seen.headers
        assert b"user-agent" not in seen.headers

    run(main())


def test_a_header_with_a_line_break_is_refused_before_anything_is_sent(run: Run) -> None:
    async def main() -> None:
        async with serving(answer(reply())) as server, pools() as opened:
            with pytest.raises(InvalidRequest):
                await send(opened, server, headers={"x-evil": "a\r\nhost: elsewhere"})
        assert server.connections == 0

    run(main())


# --- framing ------------------------------------------------------------------------------


def test_a_chunked_body_arrives_whole_by_read_and_piece_by_piece_by_chunks(run: Run) -> None:
    parts = [b"data: one\n\n", b"data: two\n\n", b"data: [DONE]\n\n"]

    async def respond(_: Seen, writer: asyncio.StreamWriter) -> bool:
        writer.write(chunked_head(("Content-Type", "text/event-stream")))
        for part in parts:
            await asyncio.sleep(0.02)
            writer.write(chunk(part))
        writer.write(LAST_CHUNK)
        return True

    async def main() -> None:
        async with serving(respond) as server, pools() as opened:
            assert await fetch(opened, server) == b"".join(parts)
            response = await send(opened, server)
            pieces = await stream(response)
            response.release()
            assert b"".join(pieces) == b"".join(parts)
            assert len(pieces) >= 2  # delivered as they came, not at the end
            assert await fetch(opened, server) == b"".join(parts)
        assert server.connections == 1  # each exchange ended cleanly: one connection served all

    run(main())


def test_a_body_delimited_by_close_ends_at_the_close_and_its_connection_is_not_reused(
    run: Run,
) -> None:
    async def respond(_: Seen, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ")
        await writer.drain()
        await asyncio.sleep(0.02)
        writer.write(b"the end")
        return False

    async def main() -> None:
        async with serving(respond) as server, pools() as opened:
            assert await fetch(opened, server) == b"until the end"
            assert await fetch(opened, server) == b"until the end"
        assert server.connections == 2

    run(main())


def test_connection_close_from_the_upstream_is_honoured(run: Run) -> None:
    async def respond(_: Seen, writer: asyncio.StreamWriter) -> bool:
        writer.write(reply(b"bye", headers=(("Connection", "close"),)))
        await writer.drain()
        # Our side stays open a while: a client that kept the connection would send its
        # next request into it, wait for this, and only then retry elsewhere.
        await asyncio.sleep(1.0)
        return False

    async def main() -> None:
        async with serving(respond) as server, pools() as opened:
            assert await fetch(opened, server) == b"bye"
            started = time.monotonic()
            assert await fetch(opened, server) == b"bye"
            assert time.monotonic() - started < 0.5
        assert server.connections == 2

    run(main())


def test_an_interim_100_continue_is_skipped(run: Run) -> None:
    async def main() -> None:
        data = b"HTTP/1.1 100 Continue\r\n\r\n" + reply(b"real", headers=(("X-Final", "yes"),))
        async with serving(answer(data)) as server, pools() as opened:
            response = await send(opened, server)
            assert (response.status, response.headers.get("x-final")) == (200, "yes")
            assert await response.read(LIMIT) == b"real"
            response.release()

    run(main())


def test_a_malformed_response_is_an_unavailable_upstream(run: Run) -> None:
    async def main() -> None:
        async with serving(answer(b"HTTP/1.1 abc Nope\r\n\r\n")) as server, pools() as opened:
            with pytest.raises(UpstreamUnavailable, match=f"upstream {server.origin} failed"):
                await send(opened, server)

    run(main())


def test_a_body_cut_short_is_the_upstream_closing_early(run: Run) -> None:
    async def main() -> None:
        cut = answer(reply(b"only part", length=100), keep=False)
        async with serving(cut) as server, pools() as opened:
            response = await send(opened, server)
            with pytest.raises(UpstreamUnavailable, match="closed the connection early"):
                await response.read(LIMIT)
            response.close()
            response = await send(opened, server)
            with pytest.raises(UpstreamUnavailable, match="closed the connection early"):
                await stream(response)

    run(main())


# --- keep-alive and the pool ----------------------------------------------------------------


def test_a_pooled_connection_the_upstream_closed_is_retried_once_on_a_new_one(run: Run) -> None:
    answered: list[int] = []

    async def respond(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        if answered == [0]:
            answered.append(-1)
            return False  # the second request on the first connection: closed unanswered
        answered.append(seen.connection)
        writer.write(reply(b"answer %d" % seen.connection))
        return True

    async def main() -> None:
        async with serving(respond) as server, pools() as opened:
            assert await fetch(opened, server) == b"answer 0"
            assert await fetch(opened, server) == b"answer 1"
        assert server.connections == 2
        assert [s.connection for s in server.seen] == [0, 0, 1]

    run(main())


def test_a_new_connection_closed_unanswered_is_not_retried(run: Run) -> None:
    async def main() -> None:
        async with serving(answer(b"", keep=False)) as server, pools() as opened:
            with pytest.raises(UpstreamUnavailable, match="closed the connection early"):
                await send(opened, server)
        assert len(server.seen) == 1

    run(main())


def test_a_pooled_connection_closed_after_part_of_the_response_is_not_retried(run: Run) -> None:
    async def respond(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        if seen.body == b"cut":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Le")  # then gone
            return False
        writer.write(reply(b"first"))
        return True

    async def main() -> None:
        async with serving(respond) as server, pools() as opened:
            assert await fetch(opened, server) == b"first"
            with pytest.raises(UpstreamUnavailable, match="closed the connection early"):
                await send(opened, server, body=b"cut")
        assert len(server.seen) == 2  # the request went out once

    run(main())


def test_an_idle_connection_is_closed_after_the_keepalive_time(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connections, "KEEPALIVE", 0.2)

    async def main() -> None:
        async with serving(answer(reply(b"x"))) as server, pools() as opened:
            assert await fetch(opened, server) == b"x"
            await asyncio.sleep(0.05)
            assert server.open == 1  # kept for reuse
            await asyncio.sleep(0.5)
            assert (server.open, server.closed_by_client) == (0, 1)
            assert await fetch(opened, server) == b"x"
        assert server.connections == 2

    run(main())


def test_the_most_recently_returned_connection_serves_next(run: Run) -> None:
    async def respond(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.05 if seen.connection == 0 else 0.1)
        writer.write(reply(b"%d" % seen.connection))
        return True

    async def main() -> None:
        async with serving(respond) as server, pools() as opened:
            # Two at once open two connections; #0 comes back first, #1 last.
            assert sorted(await asyncio.gather(fetch(opened, server), fetch(opened, server))) == [
                b"0",
                b"1",
            ]
            assert await fetch(opened, server) == b"1"

    run(main())


def test_requests_past_the_limit_wait_for_a_connection(run: Run) -> None:
    async def respond(_: Seen, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.05)
        writer.write(reply(b"ok"))
        return True

    async def main() -> None:
        async with serving(respond) as server, pools(limit=2) as opened:
            bodies = await asyncio.gather(*[fetch(opened, server) for _ in range(6)])
        assert bodies == [b"ok"] * 6
        assert (server.connections, server.max_open) == (2, 2)

    run(main())


def test_the_wait_for_a_connection_is_bounded_by_the_total_deadline(run: Run) -> None:
    async def respond(_: Seen, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(1.0)
        writer.write(reply(b"slow"))
        return True

    async def main() -> None:
        quick = Timeouts(connect=2, first_byte=5, idle=5, total=0.3)
        async with serving(respond) as server, pools(limit=1) as opened:
            first = asyncio.ensure_future(fetch(opened, server))
            await asyncio.sleep(0.05)
            started = time.monotonic()
            with pytest.raises(UpstreamTimeout, match="timed out waiting for response headers"):
                await send(opened, server, timeouts=quick)
            assert time.monotonic() - started < 0.9
            assert await first == b"slow"
        assert server.connections == 1

    run(main())


def test_release_before_the_end_drops_the_connection_and_close_aborts_a_stream(
    run: Run,
) -> None:
    async def respond(_: Seen, writer: asyncio.StreamWriter) -> bool:
        writer.write(chunked_head())
        for _ in range(50):
            writer.write(chunk(b"data: more\n\n"))
            await writer.drain()
            await asyncio.sleep(0.02)
        writer.write(LAST_CHUNK)
        return True

    async def main() -> None:
        async with serving(respond) as server, pools() as opened:
            response = await send(opened, server)
            async for _ in response.chunks():
                break
            response.release()  # not at the end: the rest must not reach the next request
            await asyncio.sleep(0.1)
            assert (server.open, server.closed_by_client) == (0, 1)
            response = await send(opened, server)
            async for _ in response.chunks():
                break
            response.close()
            await asyncio.sleep(0.1)
            assert (server.open, server.closed_by_client) == (0, 2)
        assert server.connections == 2

    run(main())


def test_an_answer_before_the_whole_request_went_out_does_not_keep_the_connection(
    run: Run,
) -> None:
    """An upstream may answer (say, 413) without reading a large body; the rest of the
    body must not be taken for the next request on that connection."""
    closed_by_client: list[bool] = []

    async def early(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(reply(b"too large", status=413))
        await asyncio.sleep(0.3)  # not reading the body meanwhile
        try:
            async with asyncio.timeout(1):
                while await reader.read(1 << 20):
                    pass
            closed_by_client.append(True)
        except ConnectionError:
            closed_by_client.append(True)
        except TimeoutError:
            closed_by_client.append(False)  # the client kept the connection for more
        writer.close()

    async def main() -> None:
        listening = await asyncio.start_server(early, "127.0.0.1", 0)
        origin = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
        request = UpstreamRequest("POST", origin + "/x", {}, b"z" * (32 << 20), TIMEOUTS)
        try:
            async with pools() as opened:
                response = await opened.transport.send(request)
                assert (response.status, await response.read(LIMIT)) == (413, b"too large")
                response.release()
                await asyncio.sleep(1.5)
        finally:
            listening.close()
            await listening.wait_closed()
        assert closed_by_client == [True]

    run(main())


def test_a_response_read_to_its_end_returns_its_connection_without_release(run: Run) -> None:
    async def main() -> None:
        async with serving(answer(reply(b"x"))) as server, pools() as opened:
            for _ in range(3):
                response = await send(opened, server)
                assert await response.read(LIMIT) == b"x"
        assert server.connections == 1

    run(main())


def test_a_response_dropped_without_release_or_close_frees_its_connection(run: Run) -> None:
    async def main() -> None:
        async with serving(answer(reply(b"x"))) as server, pools(limit=1) as opened:
            response = await send(opened, server)
            assert response.status == 200
            del response  # never read, released or closed (a stream never iterated)
            gc.collect()
            async with asyncio.timeout(0.5):  # the only slot is free again at once
                assert await fetch(opened, server) == b"x"
        assert server.connections == 2

    run(main())


def test_an_ended_exchange_is_freed_by_reference_counting_alone(run: Run) -> None:
    """The parser's callbacks point back at their response: that cycle is broken when the
    exchange ends, so the collector never has to find it (it cost ~30% of the worker's
    GC time under load, issue 5)."""

    async def main() -> None:
        async with serving(answer(reply(b"x"))) as server, pools() as opened:
            gc.collect()
            gc.disable()
            try:
                ended = []
                read = await send(opened, server)
                assert await read.read(LIMIT) == b"x"
                read.release()
                ended.append(weakref.ref(read))
                streamed = await send(opened, server)
                assert await stream(streamed) == [b"x"]
                streamed.release()
                ended.append(weakref.ref(streamed))
                closed = await send(opened, server)
                closed.close()
                ended.append(weakref.ref(closed))
                del read, streamed, closed
                assert [response() for response in ended] == [None, None, None]
            finally:
                gc.enable()

    run(main())


def test_a_cancelled_wait_for_headers_drops_the_connection(run: Run) -> None:
    async def respond(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        if seen.body == b"slow":
            await asyncio.sleep(1)  # answers after all, too late for the request given up
        writer.write(reply(b"ok"))
        return True

    async def main() -> None:
        async with serving(respond) as server, pools(limit=1) as opened:
            waiting = asyncio.ensure_future(send(opened, server, body=b"slow"))
            await asyncio.sleep(0.1)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            async with asyncio.timeout(0.5):  # the only slot is free again at once
                assert await fetch(opened, server) == b"ok"
        assert server.connections == 2  # the late answer never reaches another request

    run(main())


# --- backpressure ---------------------------------------------------------------------------


def test_an_unread_body_stops_being_read_from_the_socket_until_it_is_taken(run: Run) -> None:
    size = 48 * 1024 * 1024
    buffered: list[int] = []

    async def respond(_: Seen, writer: asyncio.StreamWriter) -> bool:
        writer.write(chunked_head())
        piece = b"x" * (1024 * 1024)
        for _ in range(size // len(piece)):
            writer.write(chunk(piece))
        writer.write(LAST_CHUNK)
        await asyncio.sleep(0.5)
        buffered.append(writer.transport.get_write_buffer_size())
        await writer.drain()
        return True

    async def main() -> None:
        async with serving(respond) as server, pools() as opened:
            response = await send(opened, server)
            await asyncio.sleep(0.7)  # not reading
            got = 0
            async with asyncio.timeout(BOUND * 2):
                async for piece in response.chunks():
                    got += len(piece)
            response.release()
            assert got == size
        # What the kernel's socket buffers cannot hold stayed with the server while the
        # client was not reading (a client reading it all into memory leaves nothing).
        assert buffered[0] > size // 2

    run(main())


# --- bodies: decoding and limits -------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some send it
    ],
    ids=["gzip", "deflate", "raw-deflate"],
)
def test_a_compressed_body_sent_unasked_is_decoded(
    run: Run, encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    text = b'{"choices": [{"text": "' + b"hello " * 2000 + b'"}]}'

    async def respond(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        data = encode(text)
        if seen.body == b"stream":
            writer.write(chunked_head(("Content-Encoding", encoding)))
            for at in range(0, len(data), 100):
                writer.write(chunk(data[at : at + 100]))
            writer.write(LAST_CHUNK)
        else:
            writer.write(reply(data, headers=(("Content-Encoding", encoding),)))
        return True

    async def main() -> None:
        async with serving(respond) as server, pools() as opened:
            assert await fetch(opened, server) == text
            response = await send(opened, server, body=b"stream")
            assert b"".join(await stream(response)) == text
            response.release()

    run(main())


def test_an_encoding_the_client_cannot_decode_is_refused(run: Run) -> None:
    async def main() -> None:
        data = reply(b"\x00\x01", headers=(("Content-Encoding", "br"),))
        async with serving(answer(data)) as server, pools() as opened:
            with pytest.raises(UpstreamUnavailable, match="'br'"):
                await send(opened, server)

    run(main())


def test_a_body_over_the_limit_is_refused_by_its_length_or_as_it_grows(run: Run) -> None:
    async def respond(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        big = b"y" * 5000
        if seen.body == b"length":
            writer.write(reply(big))
        elif seen.body == b"chunked":
            writer.write(chunked_head() + chunk(big) + LAST_CHUNK)
        else:
            writer.write(reply(gzip.compress(big), headers=(("Content-Encoding", "gzip"),)))
        return True

    async def main() -> None:
        async with serving(respond) as server, pools() as opened:
            checks = [
                (b"length", "sent 5000 bytes, over the 1000-byte limit"),
                (b"chunked", "response is over 1000 bytes"),
                (b"gzip", "response is over 1000 bytes"),
            ]
            for body, message in checks:
                response = await send(opened, server, body=body)
                with pytest.raises(UpstreamUnavailable, match=message):
                    await response.read(1000)
                response.close()
                response = await send(opened, server, body=body)
                assert len(await response.read(5000)) == 5000
                response.release()

    run(main())


# --- headers ------------------------------------------------------------------------------


def test_response_headers_are_case_insensitive_and_keep_every_value(run: Run) -> None:
    headers = (("X-Multi", "a"), ("Set-Cookie", "one=1"), ("x-multi", "b"), ("Retry-After", "3"))

    async def main() -> None:
        async with serving(answer(reply(b"{}", headers=headers))) as server, pools() as opened:
            response = await send(opened, server)
            await response.read(LIMIT)
            response.release()
        found = response.headers
        assert isinstance(found, ResponseHeaders)
        assert (found["retry-after"], found.get("RETRY-AFTER"), found.get("absent")) == (
            "3",
            "3",
            None,
        )
        assert found["X-MULTI"] == "a"
        assert found.getall("x-multi") == ["a", "b"]
        assert [(k.lower(), v) for k, v in found.items() if k.lower() == "x-multi"] == [
            ("x-multi", "a"),
            ("x-multi", "b"),
        ]
        assert "set-cookie" in found and "Content-Length" in found and "nope" not in found
        assert len(found) == len(headers) + 1  # + Content-Length
        assert list(found.values())[:3] == ["a", "one=1", "b"]

    run(main())


# --- deadlines ----------------------------------------------------------------------------


def test_no_answer_within_first_byte_is_a_timeout_waiting_for_headers(run: Run) -> None:
    async def respond(_: Seen, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(3)
        return True

    async def main() -> None:
        quick = Timeouts(connect=2, first_byte=0.2, idle=5, total=10)
        async with serving(respond) as server, pools() as opened:
            started = time.monotonic()
            with pytest.raises(
                UpstreamTimeout, match=f"upstream {server.origin} timed out waiting for response"
            ):
                await send(opened, server, timeouts=quick)
            assert 0.15 < time.monotonic() - started < 1.5

    run(main())


def test_a_stall_inside_a_non_stream_body_is_an_idle_timeout_while_reading(run: Run) -> None:
    async def respond(_: Seen, writer: asyncio.StreamWriter) -> bool:
        writer.write(reply(b"part", length=10))
        await asyncio.sleep(3)
        return True

    async def main() -> None:
        quick = Timeouts(connect=2, first_byte=5, idle=0.2, total=10)
        async with serving(respond) as server, pools() as opened:
            response = await send(opened, server, timeouts=quick)
            with pytest.raises(UpstreamTimeout, match="timed out reading the response"):
                await response.read(LIMIT)

    run(main())


def test_a_steady_stream_longer_than_idle_is_not_cut(run: Run) -> None:
    async def respond(_: Seen, writer: asyncio.StreamWriter) -> bool:
        writer.write(chunked_head())
        for _ in range(12):
            await asyncio.sleep(0.05)
            writer.write(chunk(b"tick"))
        writer.write(LAST_CHUNK)
        return True

    async def main() -> None:
        steady = Timeouts(connect=2, first_byte=0.3, idle=0.2, total=10)
        async with serving(respond) as server, pools() as opened:
            response = await send(opened, server, timeouts=steady)
            assert b"".join(await stream(response)) == b"tick" * 12
            response.release()

    run(main())


def test_a_connection_that_never_completes_its_handshake_is_a_connect_timeout(
    run: Run,
) -> None:
    """TLS to a server that accepts TCP but never answers the handshake."""

    done = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await done.wait()
        writer.close()
        await writer.wait_closed()

    async def main() -> None:
        listening = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = listening.sockets[0].getsockname()[1]
        origin = f"https://127.0.0.1:{port}"
        quick = Timeouts(connect=0.2, first_byte=5, idle=5, total=10)
        request = UpstreamRequest("POST", origin + "/v1/x", {}, b"{}", quick)
        try:
            async with pools() as opened:
                started = time.monotonic()
                with pytest.raises(
                    UpstreamTimeout, match=f"timed out connecting to upstream {origin}"
                ):
                    await opened.transport.send(request)
                assert time.monotonic() - started < 1.5
        finally:
            done.set()
            await asyncio.sleep(0.05)
            listening.close()
            await listening.wait_closed()

    run(main())


def test_a_refused_connection_is_could_not_connect(run: Run) -> None:
    async def main() -> None:
        listening = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = listening.sockets[0].getsockname()[1]
        listening.close()
        await listening.wait_closed()
        origin = f"http://127.0.0.1:{port}"
        request = UpstreamRequest("POST", origin + "/v1/x", {}, b"{}", TIMEOUTS)
        async with pools() as opened:
            with pytest.raises(
                UpstreamUnavailable, match=f"could not connect to upstream {origin}"
            ):
                await opened.transport.send(request)

    run(main())


# --- names and addresses --------------------------------------------------------------------


def test_a_host_name_is_resolved_and_its_addresses_cached(run: Run) -> None:
    async def main() -> None:
        resolver = connections.Resolver(ttl=60)
        first = await resolver.resolve("localhost", 80)
        again = await resolver.resolve("localhost", 80)
        assert again is first  # from the cache, not a second lookup
        assert ("127.0.0.1", 80) in [address for _, address in first] or any(
            address[0] == "::1" for _, address in first
        )
        short = connections.Resolver(ttl=0)
        assert await short.resolve("localhost", 80) is not await short.resolve("localhost", 80)

    run(main())


def test_a_named_origin_and_an_ipv6_literal_are_served(run: Run) -> None:
    async def main() -> None:
        async with serving(answer(reply(b"by name"))) as server, pools() as opened:
            origin = f"http://localhost:{server.port}"
            request = UpstreamRequest("POST", origin + "/x", {}, b"{}", TIMEOUTS)
            response = await opened.transport.send(request)
            assert await response.read(LIMIT) == b"by name"
            assert server.seen[0].headers[b"host"] == [f"localhost:{server.port}".encode()]
        try:
            async with serving(answer(reply(b"v6")), host="::1") as server, pools() as opened:
                assert await fetch(opened, server) == b"v6"
                assert server.seen[0].headers[b"host"] == [f"[::1]:{server.port}".encode()]
        except OSError:
            pytest.skip("no IPv6 loopback here")

    run(main())
