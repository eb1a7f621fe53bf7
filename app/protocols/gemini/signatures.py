"""``thoughtSignature`` values as Gemini clients see them (PROTOCOLS.md 5.11, 7.11).

A Gemini client echoes a part's ``thoughtSignature`` back unchanged, so that
is where a foreign provider's opaque state (an Anthropic thinking signature,
an OpenAI ``encrypted_content``) travels through it, tagged with ``carry()``.
The field is ``bytes`` in the SDKs, though: python-genai rejects a value that
is not base64 ("Data should be valid base64") and re-encodes it with the
URL-safe alphabet. So a carried value is sent base64-encoded, and read back
from either alphabet.
"""

import base64
import binascii

from app.canonical.content import CARRIER_PREFIX, Provider, Signature, carry, read_signature

# The documented stand-in for a function call whose history did not come from
# Gemini; Gemini 3 rejects a current-turn call without any signature.
SKIP_VALIDATOR = "skip_thought_signature_validator"

_CARRIER_BYTES = CARRIER_PREFIX.encode()


def to_client(signature: Signature) -> str:
    """The ``thoughtSignature`` a Gemini client gets for ``signature``."""
    if signature.provider is Provider.GEMINI:
        return signature.value
    return base64.b64encode(carry(signature).encode()).decode()


def from_client(value: object) -> Signature | None:
    """The signature a Gemini client echoed back (None for an absent or empty one)."""
    if not isinstance(value, str) or not value:
        return None
    if value.startswith(CARRIER_PREFIX):
        return read_signature(value, native=Provider.GEMINI)
    carried = _carried(value)
    if carried is not None:
        return read_signature(carried, native=Provider.GEMINI)
    return Signature(Provider.GEMINI, value)


def _carried(value: str) -> str | None:
    """The carrier string inside base64 ``value``, if that is what it holds."""
    standard = value.replace("-", "+").replace("_", "/")
    standard += "=" * (-len(standard) % 4)
    try:
        raw = base64.b64decode(standard, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not raw.startswith(_CARRIER_BYTES):
        return None
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return None
