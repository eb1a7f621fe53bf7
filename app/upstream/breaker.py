"""A per-account circuit breaker.

closed --(N consecutive failures, or a failure rate over the sliding window)--> open
open --(cooldown elapsed)--> half-open: up to ``probes`` requests go through
half-open --(a probe succeeds)--> closed;  --(a probe fails)--> open, longer cooldown

The cooldown doubles on each consecutive trip, up to ``max_cooldown``. A rate
limit is not a trip: ``hold`` keeps requests away for the upstream's
``retry-after`` (a floor: a later, shorter hold never cuts it short).

State lives in one gateway process: breakers react in microseconds to what
this process sees, with no shared store on the request path; with several
workers each learns on its own, at the cost of a few extra failures.

All times are seconds from one monotonic clock, passed in by the caller, so
tests drive the breaker without sleeping.

The sliding window counts outcomes in ``WINDOW_BUCKETS`` time buckets rather than
keeping one entry per request: at 9,000 requests/s a 60 s window of entries held
half a million objects per account and worker, and every failure summed them all.
Counts leave the window a bucket at a time (1 s for the default 60 s window).
"""

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

WINDOW_BUCKETS = 60


class OutcomeWindow:
    """Successes and failures of the last ``seconds``, in ``WINDOW_BUCKETS`` buckets:
    constant time per outcome and constant memory, whatever the traffic. A bucket
    leaves as a whole once it is older than the window, so an outcome counts for
    between ``seconds`` minus one bucket's width and ``seconds``."""

    __slots__ = ("_buckets", "_width", "failures", "total")

    def __init__(self, seconds: float) -> None:
        self._width = seconds / WINDOW_BUCKETS
        self._buckets: deque[list[int]] = deque()  # [bucket index, outcomes, failures]
        self.total = 0
        self.failures = 0

    def add(self, now: float, *, ok: bool) -> None:
        index = int(now // self._width)
        buckets = self._buckets
        if buckets and index <= buckets[-1][0]:  # the current bucket (or a clock hiccup)
            # Nothing to expire: that ran when this bucket was opened, at this index.
            bucket = buckets[-1]
        else:
            self._drop_before(index - WINDOW_BUCKETS + 1)
            bucket = [index, 0, 0]
            buckets.append(bucket)
        bucket[1] += 1
        self.total += 1
        if not ok:
            bucket[2] += 1
            self.failures += 1

    def expire(self, now: float) -> None:
        """Drop the buckets that have left the window by ``now``."""
        self._drop_before(int(now // self._width) - WINDOW_BUCKETS + 1)

    def _drop_before(self, oldest: int) -> None:
        buckets = self._buckets
        while buckets and buckets[0][0] < oldest:
            _, outcomes, failures = buckets.popleft()
            self.total -= outcomes
            self.failures -= failures

    def clear(self) -> None:
        self._buckets.clear()
        self.total = self.failures = 0


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    consecutive_failures: int = 5
    window_seconds: float = 60.0
    failure_rate: float = 0.5  # open when this share of the window failed...
    min_window_requests: int = 20  # ...and the window holds at least this many
    cooldown: float = 10.0
    max_cooldown: float = 300.0
    probes: int = 1


class CircuitBreaker:
    __slots__ = (
        "_consecutive",
        "_open_until",
        "_probes_out",
        "_settings",
        "_state",
        "_trips",
        "_window",
        "opened",
        "transitions",
    )

    def __init__(self, settings: BreakerSettings | None = None) -> None:
        self._settings = settings or BreakerSettings()
        self._state = BreakerState.CLOSED
        self._consecutive = 0
        self._window = OutcomeWindow(self._settings.window_seconds)
        self._open_until = 0.0
        self._trips = 0
        self._probes_out = 0
        self.transitions: list[tuple[float, BreakerState]] = []  # the latest 20
        self.opened = 0  # times the breaker opened (trips and holds), for the admin view

    def state(self, now: float) -> BreakerState:
        if self._state is BreakerState.OPEN and now >= self._open_until:
            self._move(BreakerState.HALF_OPEN, now)
        return self._state

    def allow(self, now: float) -> bool:
        """Whether a request may go to the account now (a half-open breaker counts
        the probes it lets through)."""
        state = self.state(now)
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and self._probes_out < self._settings.probes:
            self._probes_out += 1
            return True
        return False

    def take_probe(self, now: float) -> bool:
        """Count a request as one of the half-open breaker's probes, if a slot is free
        (False, and nothing taken, otherwise). A probe taken ends in ``record_success``,
        ``record_failure`` or ``release_probe``."""
        if self._state is BreakerState.CLOSED:  # the common case; time cannot change it
            return False
        return self.state(now) is BreakerState.HALF_OPEN and self.allow(now)

    def release_probe(self) -> None:
        """A probe ended without a verdict on the account (the request's own error, or
        the client left): its slot is free again."""
        if self._state is BreakerState.HALF_OPEN and self._probes_out:
            self._probes_out -= 1

    def would_allow(self, now: float) -> bool:
        """``allow`` without taking a half-open probe slot (for ranking accounts)."""
        state = self.state(now)
        if state is BreakerState.HALF_OPEN:
            return self._probes_out < self._settings.probes
        return state is BreakerState.CLOSED

    def recovers_in(self, now: float) -> float:
        """Seconds until the breaker lets a request through again (0 when it does now)."""
        if self.state(now) is BreakerState.OPEN:
            return self._open_until - now
        return 0.0

    def record_success(self, now: float) -> None:
        self._window.add(now, ok=True)
        self._consecutive = 0
        if self._state is not BreakerState.CLOSED:
            self._trips = 0
            self._probes_out = 0
            self._move(BreakerState.CLOSED, now)

    def record_failure(self, now: float) -> None:
        """A failure that counts against the account's health. While the breaker is
        open (tripped or held) a failure can only come from a request sent before: it
        neither trips it again nor joins the window, else the requests in flight when
        it opened would double the cooldown per ``consecutive_failures`` of them, up to
        ``max_cooldown`` after a single burst."""
        state = self.state(now)
        if state is BreakerState.OPEN:
            return
        self._window.add(now, ok=False)
        self._consecutive += 1
        if state is BreakerState.HALF_OPEN or self._should_trip(now):
            self._trip(now)

    def hold(self, now: float, seconds: float) -> None:
        """Keep requests away for ``seconds`` (a rate limit's retry-after), without
        counting a trip: a busy account is not a broken one. Never shortens a hold."""
        self._open_until = max(self._open_until, now + seconds)
        self._probes_out = 0
        self._move(BreakerState.OPEN, now)

    def _should_trip(self, now: float) -> bool:
        settings = self._settings
        if self._consecutive >= settings.consecutive_failures:
            return True
        window = self._window  # brought up to `now` by the add just before
        if window.total < settings.min_window_requests:
            return False
        return window.failures / window.total >= settings.failure_rate

    def _trip(self, now: float) -> None:
        settings = self._settings
        self._trips += 1
        cooldown = min(settings.max_cooldown, settings.cooldown * 2 ** (self._trips - 1))
        self._open_until = max(self._open_until, now + cooldown)
        self._probes_out = 0
        self._consecutive = 0
        self._window.clear()
        self._move(BreakerState.OPEN, now)

    def _move(self, state: BreakerState, now: float) -> None:
        if state is not self._state:
            self._state = state
            self.transitions.append((now, state))
            del self.transitions[:-20]
            if state is BreakerState.OPEN:
                self.opened += 1
