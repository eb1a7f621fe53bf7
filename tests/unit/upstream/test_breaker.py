import pytest

from app.upstream.breaker import (
    WINDOW_BUCKETS,
    BreakerSettings,
    BreakerState,
    CircuitBreaker,
    OutcomeWindow,
)

SETTINGS = BreakerSettings(
    consecutive_failures=3,
    window_seconds=10,
    failure_rate=0.5,
    min_window_requests=6,
    cooldown=5,
    max_cooldown=40,
    probes=2,
)


def tripped(at: float = 0.0) -> CircuitBreaker:
    breaker = CircuitBreaker(SETTINGS)
    for step in range(3):
        breaker.record_failure(at + step * 0.1)
    return breaker


def test_consecutive_failures_open_the_breaker_and_block_requests() -> None:
    breaker = CircuitBreaker(SETTINGS)
    breaker.record_failure(0)
    breaker.record_failure(0.1)
    assert breaker.allow(0.2)
    breaker.record_failure(0.2)
    assert breaker.state(0.3) is BreakerState.OPEN
    assert not breaker.allow(0.3)
    assert breaker.recovers_in(0.3) == pytest.approx(4.9)


def test_a_success_resets_the_consecutive_count() -> None:
    breaker = CircuitBreaker(SETTINGS)
    for now in (0, 0.1):
        breaker.record_failure(now)
    breaker.record_success(0.2)
    breaker.record_failure(0.3)
    breaker.record_failure(0.4)
    assert breaker.state(0.5) is BreakerState.CLOSED


def test_failure_rate_over_the_window_opens_it_without_a_consecutive_run() -> None:
    breaker = CircuitBreaker(SETTINGS)
    for step in range(6):
        now = step * 0.5
        (breaker.record_failure if step % 2 else breaker.record_success)(now)
    assert breaker.state(3.0) is BreakerState.OPEN


def test_old_outcomes_leave_the_window() -> None:
    breaker = CircuitBreaker(SETTINGS)
    for step in range(5):
        (breaker.record_failure if step % 2 else breaker.record_success)(step * 0.1)
    breaker.record_failure(20.0)  # the earlier five are older than the 10 s window
    assert breaker.state(20.0) is BreakerState.CLOSED


def test_half_open_after_cooldown_lets_a_bounded_number_of_probes_through() -> None:
    breaker = tripped()
    assert breaker.state(5.3) is BreakerState.HALF_OPEN
    assert [breaker.allow(5.3) for _ in range(3)] == [True, True, False]


def test_a_successful_probe_closes_it() -> None:
    breaker = tripped()
    assert breaker.allow(6)
    breaker.record_success(6.1)
    assert breaker.state(6.2) is BreakerState.CLOSED
    assert [state for _, state in breaker.transitions] == [
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.CLOSED,
    ]
    assert breaker.opened == 1


def test_a_failed_probe_reopens_it_with_a_doubled_cooldown_up_to_the_cap() -> None:
    breaker = tripped()
    expected = [10, 20, 40, 40]
    now = 5.3
    for cooldown in expected:
        assert breaker.allow(now)
        breaker.record_failure(now)
        assert breaker.recovers_in(now) == pytest.approx(cooldown)
        now += cooldown


def test_failures_of_requests_in_flight_when_it_opened_do_not_trip_it_again() -> None:
    breaker = tripped()  # open at 0.2 for the 5 s cooldown
    for step in range(9):  # requests sent before it opened fail afterwards
        breaker.record_failure(0.3 + step * 0.01)
    assert breaker.recovers_in(0.4) == pytest.approx(4.8)
    assert breaker.allow(5.3)
    breaker.record_failure(5.3)  # the probe fails: the cooldown doubles once, not four times
    assert breaker.recovers_in(5.3) == pytest.approx(10)
    assert breaker.opened == 2


def test_failures_during_a_hold_do_not_trip_it() -> None:
    breaker = CircuitBreaker(SETTINGS)
    breaker.hold(0, 2)
    for step in range(6):
        breaker.record_failure(0.1 + step * 0.1)
    assert breaker.recovers_in(1.0) == pytest.approx(1.0)  # the hold alone, no 5 s trip


def test_take_probe_counts_half_open_probes_only_and_release_frees_one() -> None:
    assert not CircuitBreaker(SETTINGS).take_probe(0)  # closed: nothing to count
    breaker = tripped()
    assert not breaker.take_probe(1)  # open
    assert [breaker.take_probe(5.3) for _ in range(3)] == [True, True, False]
    assert not breaker.would_allow(5.3)
    breaker.release_probe()
    assert breaker.would_allow(5.4) and breaker.take_probe(5.4)


def test_hold_keeps_requests_away_for_retry_after_without_counting_a_trip() -> None:
    breaker = CircuitBreaker(SETTINGS)
    breaker.hold(0, 30)
    assert not breaker.allow(29.9)
    breaker.hold(1, 2)  # a shorter hint never cuts the first one short
    assert breaker.recovers_in(10) == pytest.approx(20)
    assert breaker.allow(30)
    breaker.record_success(30.1)
    tripped_later = breaker
    for step in range(3):
        tripped_later.record_failure(31 + step)
    assert tripped_later.recovers_in(33) == pytest.approx(5)  # first real trip: base cooldown


def test_the_window_counts_in_buckets_and_forgets_a_bucket_at_a_time() -> None:
    window = OutcomeWindow(60.0)  # 60 buckets of 1 s
    window.add(0.2, ok=True)
    window.add(0.7, ok=False)
    window.add(30.5, ok=False)
    assert (window.total, window.failures) == (3, 2)
    window.expire(59.9)  # the first bucket, [0, 1), is still within 60 s
    assert (window.total, window.failures) == (3, 2)
    window.expire(60.0)  # now it is not: both of its outcomes leave together
    assert (window.total, window.failures) == (1, 1)
    window.expire(90.6)
    assert (window.total, window.failures) == (0, 0)


def test_the_window_holds_a_bounded_number_of_buckets_under_any_traffic() -> None:
    window = OutcomeWindow(10.0)
    for step in range(100_000):  # 1,000 outcomes a second for 100 s, one in ten failed
        window.add(step / 1000, ok=step % 10 != 0)
    assert len(window._buckets) == WINDOW_BUCKETS
    # The last 60 buckets of 1/6 s: outcomes from 90.0 s on.
    assert window.total == 10_000
    assert window.failures == 1_000


def test_a_clock_that_steps_back_counts_in_the_current_bucket() -> None:
    window = OutcomeWindow(60.0)
    window.add(10.5, ok=True)
    window.add(9.2, ok=False)
    assert (window.total, window.failures, len(window._buckets)) == (2, 1, 1)
