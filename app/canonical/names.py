"""Tool names that fit an upstream's rules, and the way back (PROTOCOLS.md 7.5).

OpenAI limits function names to 64 characters of ``[a-zA-Z0-9_-]``;
Anthropic and Gemini allow 128 (Gemini also ``.`` and ``:``). MCP tool names
from Claude Code (``mcp__server__tool_name``) exceed 64 easily. A request
encoder maps each name it emits through ``ToolNames.outbound``; the same
object restores the client's names in the upstream's reply.
"""

import hashlib
import re
from dataclasses import dataclass, field


@dataclass(slots=True)
class ToolNames:
    limit: int = 128
    invalid: re.Pattern[str] = field(default_factory=lambda: re.compile(r"[^a-zA-Z0-9_-]"))
    _to_upstream: dict[str, str] = field(default_factory=dict)
    _to_client: dict[str, str] = field(default_factory=dict)

    def outbound(self, name: str) -> str:
        known = self._to_upstream.get(name)
        if known is not None:
            return known
        safe = self.invalid.sub("_", name) or "_"
        if len(safe) > self.limit:
            digest = hashlib.sha256(name.encode()).hexdigest()[:8]
            safe = f"{safe[: self.limit - 9]}_{digest}"
        self._to_upstream[name] = safe
        self._to_client[safe] = name
        return safe

    def inbound(self, name: str) -> str:
        return self._to_client.get(name, name)


def openai_names() -> ToolNames:
    return ToolNames(limit=64)


def anthropic_names() -> ToolNames:
    return ToolNames(limit=128)


def gemini_names() -> ToolNames:
    return ToolNames(limit=128, invalid=re.compile(r"[^a-zA-Z0-9_.:-]"))
