"""A model request in canonical form (PROTOCOLS.md 6.1).

Every client protocol decodes into ``Request``; every upstream protocol
encodes out of it. Field by field:

- ``system`` holds the leading system/developer/instructions text; system
  text found later in a conversation stays in place as a ``SYSTEM`` message.
- Tool results live in ``TOOL`` messages (one part per result), so emitters
  can place them where their protocol wants them (OpenAI ``tool`` messages,
  Anthropic ``tool_result`` blocks first in the next user turn, Gemini
  ``functionResponse`` parts in one user content).
- Tool-call arguments stay a JSON *string* (the OpenAI form); emitters that
  need an object parse it.
- Reasoning parts carry the provider that produced their opaque signature, so
  an emitter replays it only to that provider (7.11).
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.canonical.content import Part


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    TOOL = "tool"


@dataclass(slots=True)
class Message:
    role: Role
    parts: list[Part] = field(default_factory=list)


@dataclass(slots=True)
class Tool:
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None  # JSON Schema of the arguments object
    strict: bool | None = None


class ToolChoiceMode(StrEnum):
    AUTO = "auto"
    NONE = "none"
    REQUIRED = "required"  # some tool must be called
    TOOL = "tool"  # the named tool must be called


@dataclass(slots=True)
class ToolChoice:
    mode: ToolChoiceMode = ToolChoiceMode.AUTO
    name: str | None = None  # with TOOL
    allowed: list[str] | None = None  # OpenAI allowed_tools / Gemini allowedFunctionNames


class FormatKind(StrEnum):
    TEXT = "text"
    JSON_OBJECT = "json_object"
    JSON_SCHEMA = "json_schema"


@dataclass(slots=True)
class ResponseFormat:
    kind: FormatKind
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


class Effort(StrEnum):
    NONE = "none"
    MINIMAL = "minimal"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    XHIGH = "xhigh"
    MAX = "max"


@dataclass(slots=True)
class Reasoning:
    """What the client asked of the model's thinking. ``effort`` and
    ``budget_tokens`` may both be known; emitters derive the missing one
    with the ladder in PROTOCOLS.md 7.11. ``enabled=None`` means "auto"."""

    enabled: bool | None = True
    effort: Effort | None = None
    budget_tokens: int | None = None
    summary: bool = False  # the client wants reasoning text back


@dataclass(slots=True)
class Request:
    model: str
    messages: list[Message] = field(default_factory=list)
    system: list[str] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] = field(default_factory=list)
    n: int = 1
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    response_format: ResponseFormat | None = None
    reasoning: Reasoning | None = None
    stream: bool = False
    include_usage: bool = False  # an OpenAI Chat client asked for the usage chunk
    user: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    cache_key: str | None = None  # OpenAI prompt_cache_key; session identity for stickiness
