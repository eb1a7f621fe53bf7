"""The disconnect watch starts only for requests that run long enough to be abandoned."""

import asyncio
from typing import Any

from app.http.disconnect import Watches

DELAY = 0.05


class Receiver:
    """An ASGI ``receive`` whose message is released by the test: the server's side."""

    def __init__(self) -> None:
        self.calls = 0
        self.message: asyncio.Future[dict[str, Any]] | None = None

    def __call__(self) -> "asyncio.Future[dict[str, Any]]":
        self.calls += 1
        self.message = asyncio.get_running_loop().create_future()
        return self.message

    def disconnect(self) -> None:
        assert self.message is not None, "receive() was never called"
        self.message.set_result({"type": "http.disconnect"})


def test_a_request_done_before_the_delay_never_listens() -> None:
    async def scenario() -> tuple[int, int]:
        watches, receiver = Watches(DELAY), Receiver()
        watch = watches.watch(receiver)
        await asyncio.sleep(DELAY / 10)
        watch.stop()
        await asyncio.sleep(DELAY * 3)  # sweeps would have started it by now
        return receiver.calls, len(watches)

    assert asyncio.run(scenario()) == (0, 0)


async def _request(watches: Watches, receiver: Receiver) -> str:
    watch = watches.watch(receiver)
    try:
        await asyncio.sleep(10)  # the upstream call
    except asyncio.CancelledError:
        if watch.absorb():
            return "client gone"
        raise
    return "finished"


def test_a_long_request_is_cancelled_when_its_client_leaves() -> None:
    async def scenario() -> tuple[str, int, bool]:
        watches, receiver = Watches(DELAY), Receiver()
        task = asyncio.create_task(_request(watches, receiver))
        await asyncio.sleep(DELAY * 2.5)  # past the first sweep that finds it due
        listening = receiver.calls
        receiver.disconnect()
        return await asyncio.wait_for(task, 1), listening, task.cancelling() == 0

    outcome, listening, uncancelled = asyncio.run(scenario())
    assert outcome == "client gone"
    assert listening == 1
    assert uncancelled


def test_only_the_requests_past_the_delay_start_listening() -> None:
    async def scenario() -> tuple[int, int, int]:
        delay = 0.2  # wide margins: the check must fall between the first two sweeps
        watches = Watches(delay)
        old, young = Receiver(), Receiver()
        first = watches.watch(old)
        await asyncio.sleep(delay * 0.7)
        second = watches.watch(young)
        await asyncio.sleep(delay * 0.7)  # the sweep at `delay` found only `first` due
        calls = (old.calls, young.calls, len(watches))
        first.stop()
        second.stop()
        return calls

    assert asyncio.run(scenario()) == (1, 0, 1)


def test_watches_follow_their_caller_to_a_new_event_loop() -> None:
    """Watches keeps the loop it first ran in; a caller in another loop rebinds it, and
    watches left waiting in the old loop are dropped, not started from the new one."""
    watches, old = Watches(DELAY), Receiver()

    async def abandoned_in_first_loop() -> None:
        watches.watch(old)  # never stopped: its loop ends with it waiting

    async def second_loop() -> tuple[str, int, int]:
        receiver = Receiver()
        task = asyncio.create_task(_request(watches, receiver))
        await asyncio.sleep(DELAY * 2.5)
        listening, waiting = receiver.calls, len(watches)
        receiver.disconnect()
        return await asyncio.wait_for(task, 1), listening, waiting

    asyncio.run(abandoned_in_first_loop())
    assert len(watches) == 1
    assert asyncio.run(second_loop()) == ("client gone", 1, 0)
    assert old.calls == 0
