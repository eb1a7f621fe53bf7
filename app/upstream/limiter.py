"""Per-account concurrency limits with a bounded, time-limited wait.

An account with ``max_concurrency`` takes at most that many requests at
once. A request that finds it full may wait, but only while fewer than
``max_waiting`` others wait, and only for ``max_wait`` seconds: there is no
unbounded queue anywhere. Waiters are served in arrival order.
"""

import asyncio
from collections import deque


class Full(Exception):
    """No slot now and no room (or no time) to wait for one."""


class ConcurrencyLimit:
    __slots__ = ("_in_flight", "_limit", "_max_waiting", "_waiters")

    def __init__(self, limit: int | None, *, max_waiting: int = 0) -> None:
        self._limit = limit
        self._max_waiting = max_waiting
        self._in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def has_room(self) -> bool:
        return self._limit is None or self._in_flight < self._limit

    def try_acquire(self) -> bool:
        if self.has_room() and not self._waiters:
            self._in_flight += 1
            return True
        return False

    async def acquire(self, max_wait: float) -> None:
        """Take a slot, waiting at most ``max_wait`` seconds; raise ``Full`` otherwise."""
        if self.try_acquire():
            return
        if max_wait <= 0 or len(self._waiters) >= self._max_waiting:
            raise Full
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), max_wait)
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():
                return  # the slot arrived as the wait ended: keep it
            waiter.cancel()
            raise Full from None
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot while being cancelled: give it back
            else:
                waiter.cancel()
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def release(self) -> None:
        """Free a slot, handing it straight to the oldest live waiter if any."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes on; in_flight stays the same
                return
        self._in_flight -= 1
