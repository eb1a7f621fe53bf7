"""Content parts shared by requests and responses (PROTOCOLS.md 6.1, 7.4).

A part is one tagged dataclass; a message or a reply is a list of them, in
the order the model produced or the client sent them.
"""

from dataclasses import dataclass, field
from enum import StrEnum


class Provider(StrEnum):
    """Who minted an opaque value (signature, encrypted reasoning)."""

    ANTHROPIC = "anthropic"
    OPENAI = "openai"
    GEMINI = "gemini"


@dataclass(slots=True, frozen=True)
class Signature:
    provider: Provider
    value: str


@dataclass(slots=True)
class TextPart:
    text: str


@dataclass(slots=True)
class ImagePart:
    """An image as base64 ``data`` with its ``media_type``, or as a ``url``."""

    media_type: str | None = None
    data: str | None = None
    url: str | None = None
    detail: str | None = None


@dataclass(slots=True)
class FilePart:
    """A document: base64 ``data`` (PDF, text, CSV...), a ``url``, or a provider ``file_id``."""

    media_type: str | None = None
    data: str | None = None
    url: str | None = None
    file_id: str | None = None
    filename: str | None = None


@dataclass(slots=True)
class AudioPart:
    data: str
    format: str


@dataclass(slots=True)
class ToolCallPart:
    id: str
    name: str
    arguments: str = "{}"  # a JSON object, as text
    signature: Signature | None = None  # Gemini thoughtSignature on this call


@dataclass(slots=True)
class ToolResultPart:
    call_id: str
    content: list["Part"] = field(default_factory=list)  # text and images
    is_error: bool = False
    name: str | None = None  # the called tool, resolved from the call when missing


@dataclass(slots=True)
class ReasoningPart:
    """Model thinking: visible ``text`` (summary or raw) and/or opaque state.

    ``signature``: Anthropic thinking signature, Gemini thoughtSignature, or
    OpenAI encrypted_content; ``redacted``: Anthropic redacted_thinking data.
    """

    text: str = ""
    signature: Signature | None = None
    redacted: str | None = None
    item_id: str | None = None


@dataclass(slots=True)
class RefusalPart:
    text: str


Part = (
    TextPart
    | ImagePart
    | FilePart
    | AudioPart
    | ToolCallPart
    | ToolResultPart
    | ReasoningPart
    | RefusalPart
)


# Opaque provider state can only go back to the provider that minted it. When
# a reply from one provider goes to a client of another protocol, the value
# travels in a field that client echoes unchanged (an Anthropic thinking
# signature, a Responses encrypted_content), tagged so the gateway recognises
# it on the next turn (PROTOCOLS.md 7.11):  swy1.<provider>.<value>
CARRIER_PREFIX = "swy1."


def carry(signature: Signature) -> str:
    """``signature`` as a string a client of another protocol can echo back."""
    return f"{CARRIER_PREFIX}{signature.provider.value}.{signature.value}"


def read_signature(value: str, native: Provider) -> Signature:
    """A signature field read from a request in the ``native`` provider's protocol:
    a carried foreign signature is unwrapped, anything else is the native one's."""
    if value.startswith(CARRIER_PREFIX):
        provider, _, inner = value[len(CARRIER_PREFIX) :].partition(".")
        if provider in Provider.__members__.values() and inner:
            return Signature(Provider(provider), inner)
    return Signature(native, value)
