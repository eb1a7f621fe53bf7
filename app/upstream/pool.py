"""The pool's run-time view of each account: breaker, concurrency, credentials.

``order`` ranks the accounts that serve a model for one request (see
``app.upstream.selection``); ``succeeded`` / ``failed`` feed each outcome back
by failure class. State is per gateway process (see ``app.upstream.breaker``).
"""

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.canonical.protocol import WireProtocol
from app.config.model import AccountConfig
from app.upstream.breaker import BreakerState, CircuitBreaker
from app.upstream.failures import NEUTRAL, FailureClass
from app.upstream.limiter import ConcurrencyLimit
from app.upstream.registry import Target
from app.upstream.selection import Candidate, attempt_order

log = logging.getLogger("switchyard.pool")

# Rate limits without a retry-after hint still keep the account away briefly.
DEFAULT_RATE_LIMIT_HOLD = 1.0


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
    ) -> None:
        self._region = region
        self._rng = rng or random.Random()  # noqa: S311 - load spreading, not secrets
        self._configs = {account.name: account for account in accounts}
        self._states = {
            account.name: AccountState(
                CircuitBreaker(),
                ConcurrencyLimit(account.max_concurrency, max_waiting=account.max_waiting),
            )
            for account in accounts
        }

    def state(self, name: str) -> AccountState:
        return self._states[name]

    def config(self, name: str) -> AccountConfig:
        return self._configs[name]

    def order(self, targets: Sequence[Target], client: WireProtocol) -> list[Target]:
        """Attempt order: the pool's ranking, and inside it the accounts that speak the
        client's protocol (byte-for-byte relay) before those that need translation."""
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
        chosen = attempt_order(candidates, now=now, rng=self._rng, region=self._region)
        return [by_name[c.name] for c in chosen]

    def succeeded(self, name: str) -> None:
        state = self.state(name)
        state.requests += 1
        state.breaker.record_success(time.monotonic())

    def failed(self, name: str, failure: FailureClass, retry_after: float | None) -> None:
        state = self.state(name)
        now = time.monotonic()
        state.requests += 1
        state.last_failure, state.last_failure_at = failure, now
        if failure in NEUTRAL:
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
