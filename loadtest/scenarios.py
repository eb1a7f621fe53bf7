"""What a benchmark point sends, and to whom: the targets side by side in one run.

Baselines use the OpenAI Chat request: the fast upstream answers every protocol at the same
cost, so `direct` and `relay` are the reference for every gateway target.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from loadtest.stack import ANTHROPIC_MODEL, CLIENT_KEY, OPENAI_MODEL

_SYSTEM = "You are a concise assistant for a software team. Answer in plain text."
_TURNS = [
    ("user", "Our service returns HTTP 502 under load. Where should we look first?"),
    (
        "assistant",
        "Check the upstream's connection pool limits and timeouts, then the proxy's logs.",
    ),
    ("user", "The pool has 100 connections. Summarize the next three checks in one sentence."),
]


def chat_body(model: str, stream: bool) -> dict[str, object]:
    messages = [{"role": "system", "content": _SYSTEM}]
    messages += [{"role": role, "content": text} for role, text in _TURNS]
    body: dict[str, object] = {
        "model": model,
        "messages": messages,
        "max_tokens": 256,
        "temperature": 0.2,
    }
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    return body


def messages_body(model: str, stream: bool) -> dict[str, object]:
    messages = [{"role": role, "content": text} for role, text in _TURNS]
    body: dict[str, object] = {
        "model": model,
        "system": _SYSTEM,
        "messages": messages,
        "max_tokens": 256,
        "temperature": 0.2,
    }
    if stream:
        body["stream"] = True
    return body


OPENAI_HEADERS = [f"authorization: Bearer {CLIENT_KEY}"]
ANTHROPIC_HEADERS = [f"x-api-key: {CLIENT_KEY}", "anthropic-version: 2023-06-01"]


@dataclass(frozen=True)
class Target:
    """One column of the report: which server, which client protocol, which model."""

    name: str
    server: str  # "upstream" | "relay" | "gateway"
    path: str
    client: str  # "openai" | "anthropic"
    model: str
    description: str

    @property
    def headers(self) -> list[str]:
        return ANTHROPIC_HEADERS if self.client == "anthropic" else OPENAI_HEADERS

    def body(self, stream: bool) -> bytes:
        build = messages_body if self.client == "anthropic" else chat_body
        return orjson.dumps(build(self.model, stream))

    def body_file(self, directory: Path, stream: bool) -> Path:
        path = directory / f"{self.name}{'-stream' if stream else ''}.json"
        if not path.exists():
            path.write_bytes(self.body(stream))
        return path


_CHAT = "/v1/chat/completions"
_MESSAGES = "/v1/messages"

TARGETS = [
    Target("direct", "upstream", _CHAT, "openai", OPENAI_MODEL, "fake upstream, no gateway"),
    Target(
        "relay",
        "relay",
        _CHAT,
        "openai",
        OPENAI_MODEL,
        "bare relay over the gateway's upstream client (the ceiling)",
    ),
    Target(
        "relay-aiohttp",
        "relay-aiohttp",
        _CHAT,
        "openai",
        OPENAI_MODEL,
        "bare relay over aiohttp (the stack's ceiling with the client the gateway used before)",
    ),
    Target(
        "passthrough",
        "gateway",
        _CHAT,
        "openai",
        OPENAI_MODEL,
        "gateway: OpenAI Chat client -> OpenAI account (bytes relayed)",
    ),
    Target(
        "anthropic-to-openai",
        "gateway",
        _MESSAGES,
        "anthropic",
        OPENAI_MODEL,
        "gateway: Anthropic client -> OpenAI Chat account (translated)",
    ),
    Target(
        "openai-to-anthropic",
        "gateway",
        _CHAT,
        "openai",
        ANTHROPIC_MODEL,
        "gateway: OpenAI Chat client -> Anthropic account (translated)",
    ),
]
TARGET_NAMES = [t.name for t in TARGETS]
