import time

from app.config.loader import build_config
from app.upstream.breaker import BreakerSettings
from app.upstream.failures import FailureClass
from app.upstream.pool import Pool


def accounts(max_concurrency: int | None = None):  # type: ignore[no-untyped-def]
    extra = {"max_concurrency": max_concurrency} if max_concurrency else {}
    raw = {
        "accounts": [
            {"name": "a", "type": "openai", "api_key_env": "K", "models": ["m"], **extra},
            {"name": "b", "type": "openai", "api_key_env": "K", "models": ["m"]},
        ]
    }
    return build_config(raw, {"K": "k", "SWITCHYARD_DEMO_KEY": "d"}, source="t").accounts


def test_a_reload_keeps_the_health_of_accounts_that_stay_the_same() -> None:
    old = Pool(accounts())
    old.failed("a", FailureClass.CREDENTIAL, None)
    old.remember("key:session", "b")
    new = Pool(accounts(), previous=old)
    assert new.state("a").disabled is not None
    assert new.state("a") is old.state("a")
    assert new._sticky_account("key:session", now=time.monotonic()) == "b"


def test_a_reload_that_changes_an_accounts_limits_starts_it_afresh() -> None:
    old = Pool(accounts())
    old.failed("a", FailureClass.CREDENTIAL, None)
    new = Pool(accounts(max_concurrency=4), previous=old)
    assert new.state("a").disabled is None
    assert new.state("b") is old.state("b")


def test_snapshot_shows_state_without_secrets() -> None:
    pool = Pool(accounts())
    pool.failed("a", FailureClass.RATE_LIMIT, 30)
    rows = {row["name"]: row for row in pool.snapshot()}
    assert rows["a"]["breaker"] == "open" and rows["a"]["cooldown_left"] > 29
    assert (rows["a"]["breaker_opened"], rows["b"]["breaker_opened"]) == (1, 0)
    assert rows["a"]["last_failure"] == "rate_limit" and rows["b"]["requests"] == 0
    assert "k" not in {str(value) for row in rows.values() for value in row.values()}


def half_open_pool() -> Pool:
    """Account a's breaker tripped with a zero cooldown: half-open at once, no waiting."""
    pool = Pool(accounts(), breaker=BreakerSettings(consecutive_failures=1, cooldown=0.0))
    pool.failed("a", FailureClass.OVERLOADED, None)
    return pool


def test_a_half_open_account_takes_one_probe_at_a_time() -> None:
    pool = half_open_pool()
    assert pool.take_probe("a")
    assert not pool.take_probe("a")
    assert not pool.take_probe("b")  # closed: its attempts are not probes


def test_a_probe_that_ends_without_a_verdict_gives_its_slot_back() -> None:
    pool = half_open_pool()
    assert pool.take_probe("a")
    pool.failed("a", FailureClass.CLIENT_ERROR, None, probe=True)
    assert pool.take_probe("a")
    pool.abandoned("a", probe=True)
    assert pool.take_probe("a")
    pool.abandoned("a", probe=False)  # an attempt that was not the probe frees nothing
    assert not pool.take_probe("a")
