"""The bare relay: the ceiling our stack can reach, built from the gateway's own libraries.

    python -m loadtest.relay --port P --upstream http://127.0.0.1:U [--workers N]
                             [--client gateway|aiohttp]

Granian (ASGI, uvloop) + BlackSheep + the gateway's upstream client (app.upstream.transport's
`Pools`, the one the product uses) and its request-body reader (app.http.incoming, one
`receive()` for a complete body), and nothing else: no auth, validation, routing, accounting
or logging. Any POST path is forwarded to the same path upstream; SSE replies are streamed
through, the rest relayed as one body. The benchmark runs it side by side with the gateway, so
the gap between them is the cost of the gateway's features. `--client aiohttp` relays over
one pooled aiohttp session instead: the ceiling of the stack with the card's kind of client
(the gateway used aiohttp before its own HTTP/1.1 client, issue 5).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator

import aiohttp
from blacksheep import Application, Content, Request, Response
from blacksheep.contents import StreamedContent
from blacksheep.server.routing import Router

from app.config.model import Timeouts
from app.http.incoming import Headers, header_map, read_body, receiver, request_path
from app.upstream.transport import Pools, UpstreamRequest

UPSTREAM_ENV = "LOADTEST_RELAY_UPSTREAM"
CLIENT_ENV = "LOADTEST_RELAY_CLIENT"
_FORWARDED = [
    (name.encode(), name)
    for name in ("content-type", "authorization", "x-api-key", "anthropic-version")
]
_TIMEOUTS = Timeouts(connect=5, first_byte=30, idle=30, total=120)


def _forwarded(received: Headers) -> dict[str, str]:
    headers = {}
    for raw, name in _FORWARDED:
        value = received.get(raw)
        if value is not None:
            headers[name] = value.decode()
    return headers


def create_app(upstream: str) -> Application:
    """The relay over the gateway's own upstream client."""
    application = Application(router=Router(), show_error_details=False)
    pools = Pools(connections_per_origin=2048)
    transport = pools.transport

    async def stop(_: Application) -> None:
        await pools.close()

    async def relay(request: Request) -> Response:
        received = header_map(request)
        body = await read_body(receiver(request), received.get(b"content-length"), 1 << 30)
        url = upstream + request_path(request)
        sent = UpstreamRequest("POST", url, _forwarded(received), body, _TIMEOUTS)
        upstream_response = await transport.send(sent)
        content_type = upstream_response.headers.get("content-type", "application/json").encode()
        if not content_type.startswith(b"text/event-stream"):
            data = await upstream_response.read(1 << 30)
            upstream_response.release()
            return Response(upstream_response.status, None, Content(content_type, data))

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in upstream_response.chunks():
                yield chunk
            upstream_response.release()

        return Response(upstream_response.status, None, StreamedContent(content_type, chunks))

    application.router.fallback = relay
    application.on_stop += stop
    return application


def create_aiohttp_app(upstream: str) -> Application:
    """The relay over one pooled aiohttp session."""
    application = Application(router=Router(), show_error_details=False)
    session: aiohttp.ClientSession | None = None

    async def start(_: Application) -> None:
        nonlocal session
        connector = aiohttp.TCPConnector(limit=256, limit_per_host=0, keepalive_timeout=30)
        session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None),
            skip_auto_headers=("User-Agent",),
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def stop(_: Application) -> None:
        if session is not None:
            await session.close()

    async def relay(request: Request) -> Response:
        assert session is not None
        received = header_map(request)
        headers = _forwarded(received)
        body = await read_body(receiver(request), received.get(b"content-length"), 1 << 30)
        path = request_path(request)
        upstream_response = await session.post(upstream + path, data=body, headers=headers)
        content_type = upstream_response.headers.get("content-type", "application/json").encode()
        if not content_type.startswith(b"text/event-stream"):
            data = await upstream_response.read()
            return Response(upstream_response.status, None, Content(content_type, data))

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in upstream_response.content.iter_any():
                    yield chunk
            finally:
                upstream_response.release()

        return Response(upstream_response.status, None, StreamedContent(content_type, chunks))

    application.router.fallback = relay
    application.on_start += start
    application.on_stop += stop
    return application


def app_from_environment() -> Application:
    upstream = os.environ.get(UPSTREAM_ENV, "http://127.0.0.1:8081").rstrip("/")
    if os.environ.get(CLIENT_ENV) == "aiohttp":
        return create_aiohttp_app(upstream)
    return create_app(upstream)


def main(argv: list[str] | None = None) -> None:
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:8081")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--client", choices=("gateway", "aiohttp"), default="gateway")
    args = parser.parse_args(argv)
    os.environ[UPSTREAM_ENV] = args.upstream
    os.environ[CLIENT_ENV] = args.client
    server = Server(
        "loadtest.relay:app",
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=args.workers,
        loop=Loops.uvloop,
        log_access=False,
    )
    server.serve()


# Granian imports this module in each worker as its target `loadtest.relay:app`.
app = app_from_environment()

if __name__ == "__main__":
    main()
