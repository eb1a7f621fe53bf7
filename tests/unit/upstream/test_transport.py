"""Deadlines of the upstream transport against a real loopback server: once the headers are
in, the wait for the body's bytes is the idle deadline, not the first-byte one."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web

from app.config.model import Timeouts
from app.core.errors import UpstreamTimeout
from app.upstream.transport import Pools, UpstreamRequest

# How long the server waits between its headers and its body.
PAUSE = 0.6
# Far beyond every deadline the tests expect to fire, so a wrong (longer) deadline shows as
# this bound running out rather than as a hung test.
BOUND = 5.0


async def headers_then_pause(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)  # a StreamResponse sends its headers here
    await asyncio.sleep(PAUSE)
    await response.write(b"data: late\n\n")
    await response.write_eof()
    return response


async def trickle(request: web.Request) -> web.StreamResponse:
    """A chunk every 0.1 s for 3 s: never idle, but longer than a short total deadline."""
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    for _ in range(30):
        await response.write(b"data: x\n\n")
        await asyncio.sleep(0.1)
    await response.write_eof()
    return response


async def silent(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(BOUND * 2)
    return web.Response()


Check = Callable[[Pools, str], Awaitable[None]]


def run_against_server(check: Check) -> None:
    async def main() -> None:
        app = web.Application()
        app.router.add_post("/slow", headers_then_pause)
        app.router.add_post("/trickle", trickle)
        app.router.add_post("/silent", silent)
        runner = web.AppRunner(app, handler_cancellation=True)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        origin = f"http://127.0.0.1:{runner.addresses[0][1]}"
        pools = Pools(connections_per_origin=4)
        pools.open([origin])
        try:
            await check(pools, origin)
        finally:
            await pools.close()
            await runner.cleanup()

    asyncio.run(main())


def request(origin: str, *, first_byte: float, idle: float) -> UpstreamRequest:
    timeouts = Timeouts(connect=2, first_byte=first_byte, idle=idle, total=30)
    return UpstreamRequest("POST", f"{origin}/slow", {}, b"{}", timeouts)


async def read_stream(pools: Pools, origin: str, upstream: UpstreamRequest) -> bytes:
    response = await pools.transport.send(upstream)
    try:
        return b"".join([chunk async for chunk in response.chunks()])
    finally:
        response.close()


def test_a_stall_after_the_headers_ends_at_the_idle_deadline() -> None:
    async def check(pools: Pools, origin: str) -> None:
        slow_first_byte = request(origin, first_byte=30, idle=0.2)
        async with asyncio.timeout(BOUND):
            with pytest.raises(UpstreamTimeout, match="waiting for the next chunk"):
                await read_stream(pools, origin, slow_first_byte)

    run_against_server(check)


def test_a_pause_after_the_headers_within_idle_is_not_cut_by_the_first_byte_deadline() -> None:
    async def check(pools: Pools, origin: str) -> None:
        quick_first_byte = request(origin, first_byte=0.2, idle=PAUSE * 5)
        async with asyncio.timeout(BOUND):
            assert await read_stream(pools, origin, quick_first_byte) == b"data: late\n\n"
            response = await pools.transport.send(quick_first_byte)
            assert await response.read(1000) == b"data: late\n\n"
            response.release()

    run_against_server(check)


def test_the_total_deadline_ends_a_stream_that_is_never_idle() -> None:
    async def check(pools: Pools, origin: str) -> None:
        timeouts = Timeouts(connect=2, first_byte=2, idle=1, total=0.5)
        upstream = UpstreamRequest("POST", f"{origin}/trickle", {}, b"{}", timeouts)
        received = []
        async with asyncio.timeout(BOUND):
            response = await pools.transport.send(upstream)
            with pytest.raises(UpstreamTimeout, match="timed out"):
                async for chunk in response.chunks():
                    received.append(chunk)
            response.close()
        assert 0 < len(b"".join(received)) < 30 * len(b"data: x\n\n")

    run_against_server(check)


def test_the_total_deadline_bounds_the_wait_for_headers() -> None:
    async def check(pools: Pools, origin: str) -> None:
        # /slow sends its headers at once, so aim at a handler that never answers.
        timeouts = Timeouts(connect=2, first_byte=30, idle=30, total=0.4)
        upstream = UpstreamRequest("POST", f"{origin}/silent", {}, b"{}", timeouts)
        async with asyncio.timeout(BOUND):
            with pytest.raises(UpstreamTimeout, match="waiting for response headers"):
                await pools.transport.send(upstream)

    run_against_server(check)
