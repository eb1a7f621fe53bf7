"""The pool's run-time view of each account: breaker, concurrency, credentials.

``order`` ranks the accounts that serve a model for one request (see
``app.upstream.selection``); ``succeeded`` / ``failed`` feed each outcome back
by failure class. State is per gateway process (see ``app.upstream.breaker``).
"""

import logging
import random
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.canonical.protocol import WireProtocol
from app.config.model import AccountConfig
from app.upstream.breaker import BreakerSettings, BreakerState, CircuitBreaker
from app.upstream.failures import NEUTRAL, FailureClass
from app.upstream.limiter import ConcurrencyLimit
from app.upstream.registry import Target
from app.upstream.selection import Candidate, attempt_order

log = logging.getLogger("switchyard.pool")

# Rate limits without a retry-after hint still keep the account away briefly.
DEFAULT_RATE_LIMIT_HOLD = 1.0
# Session stickiness: bounded, and forgotten after an hour without use.
STICKY_SESSIONS = 10_000
STICKY_SECONDS = 3600.0


@dataclass(slots=True)
class AccountState:
    breaker: CircuitBreaker
    limit: ConcurrencyLimit
    disabled: str | None = None  # why, when the provider refused the credentials
    last_failure: FailureClass | None = None
    last_failure_at: float = 0.0
    requests: int = 0
    failures: int = 0
    seen: list[BreakerState] = field(default_factory=list)


class Pool:
    def __init__(
        self,
        accounts: Sequence[AccountConfig],
        *,
        region: str | None = None,
        rng: random.Random | None = None,
        previous: "Pool | None" = None,
        breaker: BreakerSettings | None = None,
    ) -> None:
        """``previous``: the pool this one replaces on a config reload; accounts that
        keep their name and limits keep their health, load and sessions."""
        self._region = region
        self._rng = rng or random.Random()  # noqa: S311 - load spreading, not secrets
        self._configs = {account.name: account for account in accounts}
        self._sticky: OrderedDict[str, tuple[str, float]] = (
            previous._sticky if previous is not None else OrderedDict()
        )
        self._breaker = breaker or BreakerSettings()
        self._states = {account.name: self._carry(account, previous) for account in accounts}

    def _carry(self, account: AccountConfig, previous: "Pool | None") -> AccountState:
        if previous is not None and account.name in previous._states:
            old_config = previous._configs[account.name]
            same_limits = (old_config.max_concurrency, old_config.max_waiting) == (
                account.max_concurrency,
                account.max_waiting,
            )
            same_key = old_config.api_key == account.api_key
            if same_limits and same_key:
                return previous._states[account.name]
        return AccountState(
            CircuitBreaker(self._breaker),
            ConcurrencyLimit(account.max_concurrency, max_waiting=account.max_waiting),
        )

    def state(self, name: str) -> AccountState:
        return self._states[name]

    def config(self, name: str) -> AccountConfig:
        return self._configs[name]

    def order(
        self, targets: Sequence[Target], client: WireProtocol, session: str | None = None
    ) -> list[Target]:
        """Attempt order: the pool's ranking, and inside it the accounts that speak the
        client's protocol (byte-for-byte relay) before those that need translation; a
        session's last account first while it is healthy (its prompt cache is there)."""
        if len(targets) == 1 and self._states[targets[0].account.name].disabled is None:
            return [targets[0]]  # nothing to rank; open breakers are still tried last
        now = time.monotonic()
        by_name = {t.account.name: t for t in targets}
        candidates = []
        for target in targets:
            name = target.account.name
            config = self._configs[name]
            native = client in target.account.protocols
            state = self.state(name)
            candidates.append(
                Candidate(
                    name,
                    config.priority * 2 + (0 if native else 1),
                    config.weight,
                    config.region,
                    state.limit.in_flight,
                    state.breaker,
                    disabled=state.disabled is not None,
                )
            )
        sticky = self._sticky_account(session, now)
        chosen = attempt_order(
            candidates, now=now, rng=self._rng, region=self._region, sticky=sticky
        )
        return [by_name[c.name] for c in chosen]

    def remember(self, session: str | None, name: str) -> None:
        """``session`` was served by account ``name``."""
        if not session:
            return
        self._sticky[session] = (name, time.monotonic())
        self._sticky.move_to_end(session)
        while len(self._sticky) > STICKY_SESSIONS:
            self._sticky.popitem(last=False)

    def _sticky_account(self, session: str | None, now: float) -> str | None:
        if not session:
            return None
        entry = self._sticky.get(session)
        if entry is None or now - entry[1] > STICKY_SECONDS:
            return None
        return entry[0]

    def snapshot(self) -> list[dict[str, Any]]:
        """What the admin endpoint shows: each account's health and load, no secrets."""
        now = time.monotonic()
        accounts = []
        for name, state in self._states.items():
            config = self._configs[name]
            accounts.append(
                {
                    "name": name,
                    "type": config.type.value,
                    "protocols": sorted(p.value for p in config.protocols),
                    "priority": config.priority,
                    "weight": config.weight,
                    "region": config.region,
                    "breaker": state.breaker.state(now).value,
                    "breaker_opened": state.breaker.opened,
                    "cooldown_left": round(state.breaker.recovers_in(now), 3),
                    "in_flight": state.limit.in_flight,
                    "waiting": state.limit.waiting,
                    "max_concurrency": config.max_concurrency,
                    "requests": state.requests,
                    "failures": state.failures,
                    "error_rate": round(state.failures / state.requests, 4)
                    if state.requests
                    else 0.0,
                    "last_failure": state.last_failure.value if state.last_failure else None,
                    "last_failure_ago": (
                        round(now - state.last_failure_at, 3) if state.last_failure else None
                    ),
                    "disabled": state.disabled,
                }
            )
        return accounts

    def take_probe(self, name: str) -> bool:
        """Called as an attempt on ``name`` starts: True when it is its half-open
        breaker's probe, which then keeps other requests away (they rank it with the
        open accounts) until the outcome is reported, or ``abandoned``."""
        return self.state(name).breaker.take_probe(time.monotonic())

    def abandoned(self, name: str, probe: bool) -> None:
        """The attempt ended with no outcome (cancelled, or an error of its own)."""
        if probe:
            self.state(name).breaker.release_probe()

    def succeeded(self, name: str) -> None:
        state = self.state(name)
        state.requests += 1
        state.breaker.record_success(time.monotonic())

    def failed(
        self, name: str, failure: FailureClass, retry_after: float | None, *, probe: bool = False
    ) -> None:
        state = self.state(name)
        now = time.monotonic()
        state.requests += 1
        state.last_failure, state.last_failure_at = failure, now
        if failure in NEUTRAL:
            self.abandoned(name, probe)  # says nothing of the account: probe again
            return
        state.failures += 1
        if failure is FailureClass.CREDENTIAL:
            state.disabled = "the provider refused the account's credentials"
            log.error(
                "account %s disabled: the provider refused its credentials "
                "(fix the key and reload the config)",
                name,
            )
            return
        if failure is FailureClass.RATE_LIMIT:
            state.breaker.hold(now, retry_after or DEFAULT_RATE_LIMIT_HOLD)
            return
        before = state.breaker.state(now)
        state.breaker.record_failure(now)
        if retry_after:
            state.breaker.hold(now, retry_after)
        after = state.breaker.state(now)
        if after is not before:
            log.warning(
                "account %s breaker %s -> %s after %s",
                name,
                before.value,
                after.value,
                failure.value,
            )
