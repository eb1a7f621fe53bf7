"""--rounds: each point measured N times, the median round kept whole."""

from loadtest.report import Point, median_points


def _closed(target: str, rps: float, cpu_s: float, level: int = 16) -> Point:
    return Point(1, "closed", level, target, {"ok": 1000, "rps": rps, "p50_ms": 1000 / rps}, cpu_s)


def test_the_median_round_is_kept_with_its_own_figures_and_the_range():
    rounds = [_closed("passthrough", 7000, 0.15), _closed("passthrough", 9000, 0.11)]
    rounds += [_closed("passthrough", 8000, 0.13)]
    (kept,) = median_points(rounds)
    assert (kept.result["rps"], kept.cpu_s) == (8000, 0.13)  # one measurement, not a mix
    assert (kept.rounds, kept.spread) == (3, (7000, 9000))


def test_an_even_count_keeps_the_lower_middle_and_one_round_has_no_range():
    (kept,) = median_points([_closed("relay", 12000, 0.1), _closed("relay", 11000, 0.1)])
    assert kept.result["rps"] == 11000
    (single,) = median_points([_closed("relay", 12000, 0.1)])
    assert (single.rounds, single.spread) == (1, None)


def test_points_are_grouped_by_target_level_and_chunks_in_first_seen_order():
    stream = {"ok": 100, "rps": 300.0, "p50_ms": 200.0}
    points = [
        _closed("relay", 12000, 0.1),
        _closed("passthrough", 8000, 0.1),
        _closed("relay", 11000, 0.1, level=64),
        Point(1, "stream", 64, "passthrough", stream, 0.1, chunks=20),
        Point(1, "stream", 64, "passthrough", {**stream, "rps": 60.0}, 0.4, chunks=100),
        _closed("relay", 10000, 0.1),
    ]
    kept = median_points(points)
    assert [(p.target, p.level, p.chunks, p.rounds) for p in kept] == [
        ("relay", 16, 0, 2),
        ("passthrough", 16, 0, 1),
        ("relay", 64, 0, 1),
        ("passthrough", 64, 20, 1),
        ("passthrough", 64, 100, 1),
    ]
    assert kept[0].result["rps"] == 10000


def test_open_loop_rounds_are_ranked_by_latency_not_rate():
    fixed = [
        Point(1, "open", 1000, "passthrough", {"ok": 5000, "rps": 1000.0, "p50_ms": p50}, 0.5)
        for p50 in (0.9, 0.7, 2.0)
    ]
    (kept,) = median_points(fixed)
    assert kept.result["p50_ms"] == 0.9
    assert kept.spread == (0.7, 2.0)
