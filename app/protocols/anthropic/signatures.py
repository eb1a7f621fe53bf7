"""Thinking signatures and redacted thinking in and out of the canonical form (PROTOCOLS.md 7.11).

A ``redacted_thinking`` block has no text, only opaque ``data`` that must go
back to Anthropic unchanged. The canonical stream can only say "this reasoning
part ends with a signature", so the decoders of this package carry the data as
an Anthropic signature whose value is ``REDACTED_PREFIX + data``; the encoders
of this package turn such a signature back into a ``redacted_thinking`` block.
No real thinking signature starts with the prefix (they are base64).
"""

import re

from app.canonical.content import Provider, ReasoningPart, Signature, carry

REDACTED_PREFIX = "redacted:"

_TOOL_ID_INVALID = re.compile(r"[^a-zA-Z0-9_-]")


def redacted_signature(data: str) -> Signature:
    return Signature(Provider.ANTHROPIC, REDACTED_PREFIX + data)


def redacted_data(part: ReasoningPart) -> str | None:
    """The ``redacted_thinking`` data this part stands for, if it is one."""
    if part.redacted is not None:
        return part.redacted
    return signature_redacted_data(part.signature) if part.signature else None


def signature_redacted_data(signature: Signature) -> str | None:
    if signature.provider is Provider.ANTHROPIC and signature.value.startswith(REDACTED_PREFIX):
        return signature.value[len(REDACTED_PREFIX) :]
    return None


def client_signature(signature: Signature) -> str:
    """The ``thinking.signature`` an Anthropic client receives and echoes back:
    Anthropic's own as is, any other provider's wrapped by ``carry``."""
    if signature.provider is Provider.ANTHROPIC:
        return signature.value
    return carry(signature)


def tool_use_id(call_id: str) -> str:
    """An id Anthropic accepts (``^[a-zA-Z0-9_-]+$``). Deterministic, so the
    same function applied to a call and to its result keeps them paired."""
    return _TOOL_ID_INVALID.sub("_", call_id) or "_"
