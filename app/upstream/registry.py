"""Public model names -> the accounts that serve them, and under which upstream name.

A name resolves, in order: to a catalog id or alias; else to the accounts
whose served-model patterns (``claude-*``) match it, the most specific
pattern winning, the name passed upstream unchanged.
"""

from dataclasses import dataclass
from fnmatch import fnmatchcase

from app.canonical.protocol import WireProtocol
from app.config.model import Config, ModelConfig
from app.core.errors import NotFound
from app.upstream.accounts import Account


@dataclass(frozen=True, slots=True)
class Target:
    account: Account
    upstream_model: str


@dataclass(frozen=True, slots=True)
class Resolution:
    model: str  # the public id the caller is billed and logged under
    targets: tuple[Target, ...]

    def for_protocol(self, protocol: WireProtocol) -> tuple[Target, ...]:
        return tuple(t for t in self.targets if protocol in t.account.protocols)


class Registry:
    def __init__(self, config: Config, accounts: list[Account]) -> None:
        self.models: tuple[ModelConfig, ...] = config.models
        self.default_model = config.default_model
        self._by_name: dict[str, ModelConfig] = {}
        for model in config.models:
            self._by_name[model.id] = model
            for alias in model.aliases:
                self._by_name[alias] = model
        self._explicit: dict[str, list[Target]] = {}
        self._patterns: list[tuple[str, Account]] = []
        for account in accounts:
            for served in account.config.models:
                if served.is_pattern:
                    self._patterns.append((served.id, account))
                else:
                    target = Target(account, served.upstream or served.id)
                    self._explicit.setdefault(served.id, []).append(target)
        self._cache: dict[str, Resolution] = {}

    def model(self, name: str) -> ModelConfig | None:
        return self._by_name.get(name)

    def resolve(self, requested: str | None, *, models_route: str) -> Resolution:
        name = requested or self.default_model
        if not name:
            raise NotFound("No model given and no default model configured.", param="model")
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        resolution = self._resolve(name)
        if not resolution.targets:
            raise NotFound(
                f"The model '{name}' does not exist or is not served here. "
                f"GET {models_route} lists the available models.",
                param="model",
                code="model_not_found",
            )
        if len(self._cache) < 10_000:  # bounded: names come from clients
            self._cache[name] = resolution
        return resolution

    def _resolve(self, name: str) -> Resolution:
        known = self._by_name.get(name)
        public = known.id if known else name
        targets = list(self._explicit.get(public, ()))
        # A catch-all pattern ("*") only serves names nothing else serves.
        minimum = 1 if targets else 0
        targets += [
            Target(account, public)
            for account in self._best_pattern_accounts(public, minimum)
            if all(t.account is not account for t in targets)
        ]
        return Resolution(public, tuple(targets))

    def _best_pattern_accounts(self, name: str, minimum: int) -> list[Account]:
        matches = [
            (_specificity(pattern), account)
            for pattern, account in self._patterns
            if _specificity(pattern) >= minimum and fnmatchcase(name, pattern)
        ]
        if not matches:
            return []
        best = max(score for score, _ in matches)
        return [account for score, account in matches if score == best]


def _specificity(pattern: str) -> int:
    return sum(1 for char in pattern if char not in "*?[]")
