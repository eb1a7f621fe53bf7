"""Noticing that a client went away, so its upstream request stops too.

Granian's ASGI ``send`` does not fail once the peer is gone (it logs and
carries on), so the only signal is ``http.disconnect`` from ``receive``. A
small task waits for it and cancels the request's task; the relay's
``finally`` blocks then abort the upstream connection and write the record.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]


class DisconnectWatch:
    __slots__ = ("_task", "_watcher", "fired")

    def __init__(self, receive: Receive) -> None:
        self.fired = False
        task = asyncio.current_task()
        assert task is not None
        self._task = task
        self._watcher = asyncio.ensure_future(self._watch(receive))

    async def _watch(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message.get("type") == "http.disconnect":
                self.fired = True
                self._task.cancel()
                return

    def absorb(self) -> bool:
        """Inside ``except CancelledError``: True when the cancel was ours (client gone)."""
        if self.fired:
            self._task.uncancel()
        return self.fired

    def stop(self) -> None:
        self._watcher.cancel()

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
