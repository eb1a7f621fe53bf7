"""Provider accounts at run time: where a request goes and how it is signed.

Credentials are arguments of the call, not state of a protocol adaptor: the
relay asks an ``Account`` for the URL and headers of one request.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from app.canonical.protocol import WireProtocol
from app.config.model import AccountConfig, ProviderType, Timeouts
from app.upstream.transport import Transport, origin_of

ANTHROPIC_VERSION = "2023-06-01"


class Operation(StrEnum):
    GENERATE = "generate"
    STREAM = "stream"
    COUNT_TOKENS = "count_tokens"


@dataclass(slots=True)
class Account:
    config: AccountConfig
    transport: Transport
    timeouts: Timeouts
    auth_headers: dict[str, str]
    # Copied from the config once: read several times per request.
    name: str = field(init=False)
    protocols: frozenset[WireProtocol] = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.config.name
        self.protocols = self.config.protocols

    @property
    def origin(self) -> str:
        return origin_of(self.config.base_url)

    def url(
        self, protocol: WireProtocol, operation: Operation, model: str, gemini_sse: bool = True
    ) -> str:
        base = self.config.base_url
        if protocol is WireProtocol.OPENAI_CHAT:
            return f"{base}/chat/completions"
        if protocol is WireProtocol.OPENAI_RESPONSES:
            suffix = "/input_tokens" if operation is Operation.COUNT_TOKENS else ""
            return f"{base}/responses{suffix}"
        if protocol is WireProtocol.ANTHROPIC:
            suffix = "/count_tokens" if operation is Operation.COUNT_TOKENS else ""
            return f"{base}/v1/messages{suffix}"
        version = self.config.gemini_api_version
        if operation is Operation.COUNT_TOKENS:
            return f"{base}/{version}/models/{model}:countTokens"
        if operation is Operation.STREAM:
            query = "?alt=sse" if gemini_sse else ""
            return f"{base}/{version}/models/{model}:streamGenerateContent{query}"
        return f"{base}/{version}/models/{model}:generateContent"


# When an account does not speak the client's protocol, the upstream protocol
# to translate into: the richest one it speaks (Responses carries reasoning
# summaries and encrypted reasoning that Chat cannot).
_TRANSLATION_PREFERENCE = (
    WireProtocol.ANTHROPIC,
    WireProtocol.GEMINI,
    WireProtocol.OPENAI_RESPONSES,
    WireProtocol.OPENAI_CHAT,
)


def upstream_protocol(client: WireProtocol, account: "Account") -> WireProtocol:
    """``client`` itself when the account speaks it (byte-for-byte relay), else the
    protocol to translate into."""
    if client in account.protocols:
        return client
    return next(p for p in _TRANSLATION_PREFERENCE if p in account.protocols)


def auth_headers(config: AccountConfig) -> dict[str, str]:
    """Signing headers for every request to this account, built once at start-up."""
    headers = dict(config.headers)
    key = config.api_key or ""
    if config.type in (ProviderType.OPENAI, ProviderType.OPENAI_COMPATIBLE):
        headers["authorization"] = f"Bearer {key}"
    elif config.type is ProviderType.ANTHROPIC:
        headers["x-api-key"] = key
    elif config.type is ProviderType.GEMINI:
        # The header, not ?key=, so the key never lands in a URL log (PROTOCOLS.md 1.2).
        headers["x-goog-api-key"] = key
    return headers
