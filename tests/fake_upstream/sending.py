"""Writing a reply with the scripted timing: delays, hangs, drops, and noticing disconnects.

How a disconnect is noticed: the server runs with aiohttp's `handler_cancellation=True`, so
when the peer closes the socket the protocol's `connection_lost` cancels the handler task at
its next await (a chunk delay, a hang, a drain). A write that races the close fails instead
with `ClientConnectionResetError`, a `ConnectionResetError`. Both end here as one
`client_disconnected` event.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from .journal import Exchange
from .protocols.common import Reply
from .script import Action


async def send_reply(
    request: web.BaseRequest, reply: Reply, action: Action, exchange: Exchange
) -> web.StreamResponse:
    response = web.StreamResponse(status=reply.status, headers=reply.headers)
    try:
        await _send(request, response, reply, action, exchange)
    except asyncio.CancelledError:
        exchange.finish("client_disconnected")
        raise
    except ConnectionResetError:
        exchange.finish("client_disconnected")
    # Returning a response whose connection is gone is fine: aiohttp's finish_response treats
    # the ConnectionError it then meets as a premature client disconnection and logs nothing.
    return response


async def _send(
    request: web.BaseRequest,
    response: web.StreamResponse,
    reply: Reply,
    action: Action,
    exchange: Exchange,
) -> None:
    await _sleep_ms(action.delay_ms)
    if action.drop == "before_headers":
        _cut_connection(request, exchange)
        return
    if not reply.streamed:
        response.content_length = reply.body_length
    # A StreamResponse puts its headers on the wire in prepare(); a plain web.Response would
    # hold them back to coalesce with the body, which would hide a scripted hang after headers.
    await response.prepare(request)
    if not await _write_chunks(request, response, reply, action, exchange):
        return
    await response.write_eof()
    exchange.finish("completed", status=reply.status)


async def _write_chunks(
    request: web.BaseRequest,
    response: web.StreamResponse,
    reply: Reply,
    action: Action,
    exchange: Exchange,
) -> bool:
    """Write every chunk, hanging and dropping where scripted; False if the fake dropped."""
    total = len(reply.chunks)
    for position in range(total + 1):
        if action.hang_ms and position == min(action.hang_after, total):
            await _sleep_ms(action.hang_ms)
        if action.drop == "after_chunks" and position == min(action.drop_after, total):
            _cut_connection(request, exchange)
            return False
        if position == total:
            return True
        if position:
            await _sleep_ms(action.chunk_delay_ms)
        await response.write(reply.chunks[position])
        exchange.chunks_sent += 1
    return True


def _cut_connection(request: web.BaseRequest, exchange: Exchange) -> None:
    """Cut the connection without a terminator (no last chunk, no `[DONE]`).

    close(), not abort(): abort() would discard chunks still in the transport's buffer, so the
    peer could get fewer than `drop_after` of them. Either way the peer sees a plain FIN in the
    middle of the body.
    """
    exchange.finish("dropped")
    if request.transport is not None:
        request.transport.close()


async def _sleep_ms(milliseconds: int) -> None:
    if milliseconds:
        await asyncio.sleep(milliseconds / 1000)
