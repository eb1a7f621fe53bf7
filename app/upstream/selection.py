"""Choosing the order in which accounts are tried for one request.

1. Accounts disabled for bad credentials are out.
2. Accounts whose breaker lets a request through now are ranked: the best
   priority tier first (lower number = preferred), and inside a tier the
   accounts of the gateway's own region first.
3. Inside that rank, a weighted random order that also prefers the least
   busy: each account's chance is its weight divided by one plus its
   requests in flight.
4. A sticky account (the one this session used last) goes first while it is
   healthy; stickiness never blocks failover, the rest of the order follows.
5. Accounts whose breaker is open (or held by a rate limit) come last, the
   closest to recovery first: they are tried only when every account above
   them failed, so that a request is not refused while an account that has
   just recovered, unknown to its breaker, could still answer it. The
   failover's ``max_attempts`` bounds the cost when every account is down.

Pure: the caller passes the clock and the random source.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass

from app.upstream.breaker import BreakerState, CircuitBreaker


@dataclass(slots=True)
class Candidate:
    name: str
    priority: int
    weight: float
    region: str | None
    in_flight: int
    breaker: CircuitBreaker
    disabled: bool = False


def attempt_order(
    candidates: Sequence[Candidate],
    *,
    now: float,
    rng: random.Random,
    region: str | None = None,
    sticky: str | None = None,
) -> list[Candidate]:
    usable = [c for c in candidates if not c.disabled]
    ready = [c for c in usable if _admits(c.breaker, now)]
    resting = sorted(
        (c for c in usable if not _admits(c.breaker, now)),
        key=lambda c: c.breaker.recovers_in(now),
    )
    ranks: dict[tuple[int, bool], list[Candidate]] = {}
    for candidate in ready:
        key = (candidate.priority, not (region is not None and candidate.region == region))
        ranks.setdefault(key, []).append(candidate)
    order: list[Candidate] = []
    for key in sorted(ranks):
        order += _weighted_shuffle(ranks[key], rng)
    for index, candidate in enumerate(order):
        if candidate.name == sticky:
            order.insert(0, order.pop(index))
            break
    return order + resting


def _admits(breaker: CircuitBreaker, now: float) -> bool:
    """Whether the breaker would let a request through now (without taking a probe)."""
    return breaker.state(now) is not BreakerState.OPEN and breaker.would_allow(now)


def _weighted_shuffle(group: list[Candidate], rng: random.Random) -> list[Candidate]:
    """Order by repeated weighted draws without replacement (weight / (1 + in flight))."""
    remaining = list(group)
    order = []
    while remaining:
        weights = [max(c.weight, 0.0) / (1 + c.in_flight) for c in remaining]
        total = sum(weights)
        if total <= 0:
            order += remaining
            break
        pick = rng.random() * total
        for index, weight in enumerate(weights):
            pick -= weight
            if pick < 0 or index == len(remaining) - 1:
                order.append(remaining.pop(index))
                break
    return order
