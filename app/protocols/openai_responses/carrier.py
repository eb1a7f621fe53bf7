"""The opaque state a Responses client echoes back: ``reasoning.encrypted_content``.

Codex replays every reasoning item it received, ``encrypted_content``
unchanged, so that field carries whatever opaque provider state a reply held
(PROTOCOLS.md 7.11): OpenAI's own value as is, a foreign signature tagged with
``carry()``. Anthropic ``redacted_thinking`` data has no Signature of its own;
it travels as a carried Anthropic value marked ``redacted.`` (Anthropic
signatures are base64, so no real one starts with that).
"""

from app.canonical.content import Provider, ReasoningPart, Signature, carry, read_signature

_REDACTED = "redacted."


def reasoning_secret(part: ReasoningPart) -> str | None:
    """The ``encrypted_content`` for a reasoning item sent to a Responses client."""
    if part.redacted:
        return carry(Signature(Provider.ANTHROPIC, _REDACTED + part.redacted))
    if part.signature is None:
        return None
    if part.signature.provider is Provider.OPENAI:
        return part.signature.value
    return carry(part.signature)


def read_secret(value: str | None) -> tuple[Signature | None, str | None]:
    """``(signature, redacted data)`` of an echoed ``encrypted_content``."""
    if not value:
        return None, None
    signature = read_signature(value, Provider.OPENAI)
    if signature.provider is Provider.ANTHROPIC and signature.value.startswith(_REDACTED):
        return None, signature.value[len(_REDACTED) :]
    return signature, None
