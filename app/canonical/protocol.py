"""Names of the wire protocols the gateway speaks, on either side."""

from enum import StrEnum


class WireProtocol(StrEnum):
    OPENAI_CHAT = "openai_chat"
    OPENAI_RESPONSES = "openai_responses"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"


class ErrorShape(StrEnum):
    """Which family's error body a caller understands."""

    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"


ERROR_SHAPE: dict[WireProtocol, ErrorShape] = {
    WireProtocol.OPENAI_CHAT: ErrorShape.OPENAI,
    WireProtocol.OPENAI_RESPONSES: ErrorShape.OPENAI,
    WireProtocol.ANTHROPIC: ErrorShape.ANTHROPIC,
    WireProtocol.GEMINI: ErrorShape.GEMINI,
}
