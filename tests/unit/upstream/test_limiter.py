import asyncio

import pytest

from app.upstream.limiter import ConcurrencyLimit, Full


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_unlimited_always_admits() -> None:
    limit = ConcurrencyLimit(None)
    assert all(limit.try_acquire() for _ in range(1000))


def test_full_without_wait_room_refuses_at_once() -> None:
    async def main() -> None:
        limit = ConcurrencyLimit(1, max_waiting=0)
        await limit.acquire(1)
        with pytest.raises(Full):
            await limit.acquire(1)

    run(main())


def test_waiters_get_slots_in_order_and_in_flight_never_exceeds_the_limit() -> None:
    async def main() -> None:
        limit = ConcurrencyLimit(2, max_waiting=10)
        peak = 0
        served: list[int] = []

        async def job(n: int) -> None:
            nonlocal peak
            await limit.acquire(5)
            peak = max(peak, limit.in_flight)
            served.append(n)
            await asyncio.sleep(0.01)
            limit.release()

        await asyncio.gather(*(job(n) for n in range(8)))
        assert peak == 2
        assert served == list(range(8))
        assert limit.in_flight == 0

    run(main())


def test_a_wait_is_bounded_in_time_and_in_queue_length() -> None:
    async def main() -> None:
        limit = ConcurrencyLimit(1, max_waiting=1)
        await limit.acquire(1)
        first = asyncio.ensure_future(limit.acquire(0.05))
        await asyncio.sleep(0)
        with pytest.raises(Full):  # the queue already holds one waiter
            await limit.acquire(1)
        with pytest.raises(Full):  # and that one gives up after 50 ms
            await first
        assert limit.waiting == 0
        limit.release()
        assert limit.in_flight == 0

    run(main())


def test_a_cancelled_waiter_does_not_leak_its_slot() -> None:
    async def main() -> None:
        limit = ConcurrencyLimit(1, max_waiting=5)
        await limit.acquire(1)
        waiter = asyncio.ensure_future(limit.acquire(5))
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        limit.release()
        assert (limit.in_flight, limit.waiting) == (0, 0)
        assert limit.try_acquire()

    run(main())
