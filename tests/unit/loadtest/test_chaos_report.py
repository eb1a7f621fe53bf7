"""The chaos run's verdict: which client-visible errors count against "no error while one
account is healthy", and which are excused (no processes, no timing: synthetic phases)."""

from __future__ import annotations

from typing import Any

from loadtest.chaos_report import (
    CUT,
    KILL,
    NO_HEALTHY,
    Phase,
    PhaseRecord,
    Run,
    Sample,
    percentile,
    read_attempts,
)

E503: dict[str, Any] = {"mode": "status", "status": 503}


def record(phase: Phase, start: float, healthy: str, settled: float | None = None) -> PhaseRecord:
    admin = {name: {"breaker_opened": 0} for name in "abc"}
    counts = dict.fromkeys("abc", 0)
    at = start if settled is None else settled
    return PhaseRecord(phase, start, frozenset(healthy), counts, admin, settled=at)


# Phases 10 s apart; the faults of the last one took 0.5 s to clear.
RECORDS = [
    record(Phase("baseline", 10), 0.0, "abc"),
    record(Phase("c 503", 10, {"c": E503}), 10.0, "ab"),
    record(Phase("a killed", 10, {"a": KILL}), 20.0, "bc"),
    record(Phase("b + c 503", 10, {"b": E503, "c": E503}, restart=("a",)), 30.0, "a"),
    record(Phase("outage", 10, dict.fromkeys("abc", E503)), 40.0, ""),
    record(Phase("recovered", 10), 50.0, "abc", settled=50.5),
]


def failed(start: float, end: float, *, ttfb: float | None = None) -> Sample:
    return Sample("chat stream", ttfb is not None, start, end, 503, ttfb, "HTTP 503", "req")


def judged(*samples: Sample) -> list[str]:
    Run(RECORDS, list(samples), 0, {})
    return [sample.excuse for sample in samples]


def test_an_error_inside_one_phase_with_a_healthy_account_counts() -> None:
    assert judged(failed(12.0, 12.1)) == [""]


def test_an_error_while_the_healthy_account_changed_under_it_is_excused() -> None:
    # b and c were healthy until 30 s, a from 30 s: none was healthy all along.
    assert judged(failed(29.5, 30.5)) == [NO_HEALTHY]


def test_a_stream_cut_by_the_kill_after_its_first_byte_is_excused() -> None:
    assert judged(failed(19.9, 20.1, ttfb=0.05)) == [CUT]


def test_a_stream_whose_first_byte_came_after_the_kill_counts() -> None:
    # It had not been committed when the upstream died: the gateway could still fail over.
    assert judged(failed(19.99, 20.2, ttfb=0.1)) == [""]


def test_while_faults_are_being_cleared_the_previous_phase_still_applies() -> None:
    assert judged(failed(50.2, 50.3), failed(50.6, 50.7)) == [NO_HEALTHY, ""]


def test_only_unexcused_errors_fail_the_run() -> None:
    ok = Sample("chat", False, 1.0, 1.1, 200)
    counted, excused = failed(12.0, 12.1), failed(29.5, 30.5)
    run = Run(RECORDS, [ok, counted, excused], 0, {})
    assert run.unexpected() == [counted]
    assert [len(run.by_phase[index]) for index in (0, 1, 2)] == [1, 1, 1]


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, share) for share in (0.5, 0.9, 0.99)] == [50.0, 90.0, 99.0]
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) is None


def test_the_access_log_groups_attempts_by_request() -> None:
    log = (
        b"[INFO] Starting granian\n"
        b'{"event":"request","request_id":"r1","account":"a","status":503,"outcome":"x"}\n'
        b'{"level":"warning","message":"account a breaker closed -> open"}\n'
        b'{"event":"request","request_id":"r1","account":"b","status":200,"outcome":"ok"}\n'
    )
    assert read_attempts(log) == {"r1": [("a", 503, "x"), ("b", 200, "ok")]}
