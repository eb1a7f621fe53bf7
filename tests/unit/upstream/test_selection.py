import random
from collections import Counter

from app.upstream.breaker import BreakerSettings, CircuitBreaker
from app.upstream.selection import Candidate, attempt_order


def account(
    name: str,
    priority: int = 0,
    weight: float = 1.0,
    region: str | None = None,
    in_flight: int = 0,
    disabled: bool = False,
) -> Candidate:
    breaker = CircuitBreaker(BreakerSettings(consecutive_failures=1, cooldown=10))
    return Candidate(name, priority, weight, region, in_flight, breaker, disabled)


def names(order: list[Candidate]) -> list[str]:
    return [c.name for c in order]


def firsts(candidates: list[Candidate], runs: int = 2000, **kwargs: object) -> Counter[str]:
    rng = random.Random(7)
    return Counter(
        attempt_order(candidates, now=0, rng=rng, **kwargs)[0].name  # type: ignore[arg-type]
        for _ in range(runs)
    )


def test_best_priority_tier_first_then_the_others_as_failover() -> None:
    order = attempt_order(
        [account("backup", priority=1), account("main", priority=0)], now=0, rng=random.Random(1)
    )
    assert names(order) == ["main", "backup"]


def test_own_region_first_inside_a_tier() -> None:
    candidates = [account("us", region="us"), account("eu", region="eu")]
    assert firsts(candidates, region="eu") == Counter({"eu": 2000})


def test_weights_share_the_first_attempts() -> None:
    counts = firsts([account("big", weight=3), account("small", weight=1)])
    assert 0.70 < counts["big"] / 2000 < 0.80


def test_busy_accounts_are_chosen_less() -> None:
    counts = firsts([account("idle"), account("busy", in_flight=3)])
    assert 0.75 < counts["idle"] / 2000 < 0.85  # 1 : 1/4


def test_open_breakers_come_last_and_disabled_accounts_are_skipped() -> None:
    broken, ok, off = account("broken"), account("ok"), account("off", disabled=True)
    broken.breaker.record_failure(0)
    assert names(attempt_order([broken, ok, off], now=1, rng=random.Random(1))) == [
        "ok",
        "broken",
    ]


def test_an_open_breaker_comes_after_every_closed_account_whatever_its_tier() -> None:
    main, backup = account("main", priority=0), account("backup", priority=5)
    main.breaker.record_failure(0)
    assert names(attempt_order([main, backup], now=1, rng=random.Random(1))) == [
        "backup",
        "main",
    ]


def test_open_accounts_are_tried_closest_to_recovery_first() -> None:
    early, late, held = account("early"), account("late"), account("held")
    late.breaker.record_failure(0)
    early.breaker.record_failure(-5)
    held.breaker.hold(0, 7)  # a rate limit's retry-after: recovers between the two
    order = attempt_order([late, held, early], now=1, rng=random.Random(1))
    assert names(order) == ["early", "held", "late"]


def test_sticky_account_goes_first_while_healthy_and_lets_go_when_not() -> None:
    a, b = account("a", weight=100), account("b", weight=0.01)
    assert names(attempt_order([a, b], now=0, rng=random.Random(3), sticky="b")) == ["b", "a"]
    b.breaker.record_failure(0)
    assert names(attempt_order([a, b], now=1, rng=random.Random(3), sticky="b")) == ["a", "b"]
