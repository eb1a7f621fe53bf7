"""Typed configuration, as the rest of the gateway sees it once validated."""

from dataclasses import dataclass, field
from enum import StrEnum

from app.canonical.protocol import WireProtocol


class ProviderType(StrEnum):
    OPENAI = "openai"
    OPENAI_COMPATIBLE = "openai-compatible"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"
    DEMO = "demo"


DEFAULT_BASE_URL: dict[ProviderType, str] = {
    ProviderType.OPENAI: "https://api.openai.com/v1",
    ProviderType.ANTHROPIC: "https://api.anthropic.com",
    ProviderType.GEMINI: "https://generativelanguage.googleapis.com",
    ProviderType.DEMO: "demo://local",
}

NATIVE_PROTOCOLS: dict[ProviderType, frozenset[WireProtocol]] = {
    ProviderType.OPENAI: frozenset({WireProtocol.OPENAI_CHAT, WireProtocol.OPENAI_RESPONSES}),
    ProviderType.OPENAI_COMPATIBLE: frozenset({WireProtocol.OPENAI_CHAT}),
    ProviderType.ANTHROPIC: frozenset({WireProtocol.ANTHROPIC}),
    ProviderType.GEMINI: frozenset({WireProtocol.GEMINI}),
    ProviderType.DEMO: frozenset(WireProtocol),
}


_OPENAI_FAMILY = (ProviderType.OPENAI, ProviderType.OPENAI_COMPATIBLE)
_OPENAI_APIS: dict[str, frozenset[WireProtocol]] = {
    "chat": frozenset({WireProtocol.OPENAI_CHAT}),
    "responses": frozenset({WireProtocol.OPENAI_RESPONSES}),
    "both": frozenset({WireProtocol.OPENAI_CHAT, WireProtocol.OPENAI_RESPONSES}),
}


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. ``first_byte`` bounds the wait for response headers, ``idle`` the gap
    between two chunks of a body, ``total`` the whole exchange."""

    connect: float = 10.0
    first_byte: float = 300.0
    idle: float = 300.0
    total: float = 1800.0


@dataclass(frozen=True, slots=True)
class MediaSettings:
    """Downloading images and documents named by URL, for upstreams that need them inline.
    ``allow_private`` lifts the public-address guard; only for tests on loopback."""

    max_bytes: int = 20 * 1024 * 1024
    timeout: float = 15.0
    allow_private: bool = False


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    """Per-account circuit breakers (see app.upstream.breaker)."""

    consecutive_failures: int = 5
    window_seconds: float = 60.0
    failure_rate: float = 0.5
    min_window_requests: int = 20
    cooldown: float = 10.0
    max_cooldown: float = 300.0
    probes: int = 1


@dataclass(frozen=True, slots=True)
class FailoverSettings:
    max_attempts: int = 3  # accounts tried for one request
    deadline: float = 120.0  # seconds; no new attempt starts after this


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    max_body_bytes: int = 32 * 1024 * 1024
    timeouts: Timeouts = field(default_factory=Timeouts)
    pool_connections: int = 1024  # per origin and worker: open streams each hold one
    demo_chunk_delay_ms: int = 20
    media: MediaSettings = field(default_factory=MediaSettings)
    failover: FailoverSettings = field(default_factory=FailoverSettings)
    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    region: str | None = None
    admin_token_sha256: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ModelConfig:
    id: str
    aliases: tuple[str, ...] = ()
    display_name: str | None = None
    owned_by: str = "switchyard"
    context_window: int | None = None
    max_output_tokens: int | None = None
    created: int = 1735689600  # 2025-01-01: a fixed date keeps model lists stable


@dataclass(frozen=True, slots=True)
class ServedModel:
    """A public model id (or a glob such as ``claude-*``) and its name upstream."""

    id: str
    upstream: str | None = None

    @property
    def is_pattern(self) -> bool:
        return any(char in self.id for char in "*?[")


@dataclass(frozen=True, slots=True)
class AccountConfig:
    name: str
    type: ProviderType
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    api_key_env: str | None = None
    models: tuple[ServedModel, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    # OpenAI-family accounts: which APIs the account takes. "chat", "responses",
    # or "both"; unset means both for `openai`, chat for `openai-compatible`.
    # Responses-only models (o3-pro, codex models) want "responses": Chat
    # clients are then translated to it.
    api: str | None = None
    priority: int = 0  # lower is preferred; higher tiers are failover
    weight: float = 1.0
    region: str | None = None
    max_concurrency: int | None = None
    max_waiting: int = 0  # requests that may queue for a slot when it is full...
    max_wait: float = 0.0  # ...for at most this many seconds
    gemini_api_version: str = "v1beta"
    # The server's [server.timeouts] with this account's own [accounts.timeouts] over them
    # (a slow reasoning model may need a longer first byte than the rest of the pool).
    timeouts: Timeouts = field(default_factory=Timeouts)

    @property
    def protocols(self) -> frozenset[WireProtocol]:
        if self.api is None or self.type not in _OPENAI_FAMILY:
            return NATIVE_PROTOCOLS[self.type]
        return _OPENAI_APIS[self.api]


@dataclass(frozen=True, slots=True)
class KeyConfig:
    name: str
    sha256: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Config:
    server: ServerSettings
    models: tuple[ModelConfig, ...]
    accounts: tuple[AccountConfig, ...]
    keys: tuple[KeyConfig, ...]
    default_model: str | None
    source: str
