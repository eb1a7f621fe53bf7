"""Noticing that a client went away, so its upstream request stops too.

Granian's ASGI ``send`` does not fail once the peer is gone (it logs and
carries on), so the only signal is ``http.disconnect`` from ``receive``. A
callback waits for it and cancels the request's task; the relay's
``finally`` blocks then abort the upstream connection and write the record.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]


class DisconnectWatch:
    """Cancels the request's task when the client disconnects.

    Granian's ``receive()`` returns a future-like object, so the watch is a done
    callback on it rather than a task of its own: no task to create, schedule
    and cancel on every request (``ensure_future`` wraps a plain coroutine from
    another server in a task, so this works there too)."""

    __slots__ = ("_pending", "_receive", "_task", "fired")

    def __init__(self, receive: Receive) -> None:
        self.fired = False
        task = asyncio.current_task()
        assert task is not None
        self._task = task
        self._receive = receive
        self._pending: asyncio.Future[dict[str, Any]] | None = None
        self._listen()

    def _listen(self) -> None:
        pending = asyncio.ensure_future(self._receive())
        pending.add_done_callback(self._on_message)
        self._pending = pending

    def _on_message(self, pending: "asyncio.Future[dict[str, Any]]") -> None:
        if pending.cancelled() or self._pending is not pending:
            return
        if pending.exception() is not None:
            self._pending = None  # the server has nothing more to tell
            return
        if pending.result().get("type") == "http.disconnect":
            self._pending = None
            self.fired = True
            self._task.cancel()
            return
        self._listen()

    def absorb(self) -> bool:
        """Inside ``except CancelledError``: True when the cancel was ours (client gone)."""
        if self.fired:
            self._task.uncancel()
        return self.fired

    def stop(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.cancel()

    async def guard(self, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """``stream``, ended quietly if the client leaves, with the watch stopped after."""
        try:
            async for chunk in stream:
                yield chunk
        except asyncio.CancelledError:
            if not self.absorb():
                raise
        finally:
            self.stop()
            await _close(stream)


async def _close(stream: AsyncIterator[bytes]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
