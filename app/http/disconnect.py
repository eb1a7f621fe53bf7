"""Noticing that a client went away, so its upstream request stops too.

Granian's ASGI ``send`` does not fail once the peer is gone (it logs and
carries on), so the only signal is ``http.disconnect`` from ``receive``. A
callback waits for it and cancels the request's task; the relay's
``finally`` blocks then abort the upstream connection and write the record.

Listening is not free: each ``receive()`` is a future Granian completes from
its own threads, about 30 us of worker CPU per request under load (10% of
passthrough throughput, measured side by side). A client can only abandon a
request that is still running, and model calls run for seconds, so
``Watches`` starts a request's watch once it has run for ``delay``: replies
faster than that never pay for one, and a client that left earlier is noticed
at the first sweep after (``receive()`` then answers at once).
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]

START_AFTER = 0.1  # seconds a request runs before its watch starts


class DisconnectWatch:
    """Cancels the request's task when the client disconnects, once started.

    Granian's ``receive()`` returns a future-like object, so the watch is a done
    callback on it rather than a task of its own: no task to create, schedule
    and cancel (``ensure_future`` wraps a plain coroutine from another server in
    a task, so this works there too)."""

    __slots__ = ("_pending", "_receive", "_task", "_watches", "began", "fired")

    def __init__(
        self, receive: Receive, watches: "Watches", task: "asyncio.Task[Any]", began: float
    ) -> None:
        self.fired = False
        self._task = task
        self._receive = receive
        self._watches = watches
        self._pending: asyncio.Future[dict[str, Any]] | None = None
        self.began = began  # loop time the request began; the watch starts `delay` after

    def start(self) -> None:
        """Listen for the disconnect from now on."""
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
        self.start()

    def absorb(self) -> bool:
        """Inside ``except CancelledError``: True when the cancel was ours (client gone)."""
        if self.fired:
            self._task.uncancel()
        return self.fired

    def stop(self) -> None:
        self._watches.forget(self)
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


class Watches:
    """One per worker: the requests whose watch has not started yet, oldest first.

    Per request this is a dict insert and delete; a sweep runs every ``delay``
    while requests are waiting and starts the watches of those older than
    ``delay``, so a watch starts between ``delay`` and twice that after its
    request began."""

    __slots__ = ("_delay", "_loop", "_sweep_handle", "_waiting")

    def __init__(self, delay: float = START_AFTER) -> None:
        self._delay = delay
        self._waiting: dict[DisconnectWatch, None] = {}  # insertion order = start order
        self._sweep_handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def watch(self, receive: Receive) -> DisconnectWatch:
        """A watch for the calling task (which must run in an event loop)."""
        # The worker's loop is kept: on Python 3.11 every get_running_loop() (and
        # current_task() without a loop) makes a getpid() system call, two per request
        # here. A task of another loop finds no current task in the kept one.
        loop = self._loop
        task = asyncio.current_task(loop) if loop is not None else None
        if loop is None or task is None:
            loop = asyncio.get_running_loop()
            task = asyncio.current_task(loop)
            if task is None:
                raise RuntimeError("Watches.watch() must be called from a task")
            if loop is not self._loop:  # the first call, or a new loop (tests)
                self._loop, self._sweep_handle, self._waiting = loop, None, {}
        watch = DisconnectWatch(receive, self, task, loop.time())
        self._waiting[watch] = None
        if self._sweep_handle is None:
            self._sweep_handle = loop.call_later(self._delay, self._sweep)
        return watch

    def forget(self, watch: DisconnectWatch) -> None:
        self._waiting.pop(watch, None)

    def __len__(self) -> int:
        return len(self._waiting)

    def _sweep(self) -> None:
        loop = self._loop
        assert loop is not None  # scheduled by watch(), which set it
        due = loop.time() - self._delay
        ready = []
        for watch in self._waiting:
            if watch.began > due:
                break
            ready.append(watch)
        for watch in ready:
            del self._waiting[watch]
            watch.start()
        self._sweep_handle = loop.call_later(self._delay, self._sweep) if self._waiting else None


async def _close(stream: AsyncIterator[bytes]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
