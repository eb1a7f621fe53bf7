"""Realistic request bodies for the load tests, one JSON file per client shape.

- ``claude_code``: an Anthropic Messages request as Claude Code sends it mid-task: the
  attribution block and a long system prompt with cache breakpoints, 25 tools with
  draft-07 schemas (``$schema``, ``exclusiveMinimum``, ``-n``-style property names, a
  tool name over OpenAI's 64 characters), a tool loop with signed thinking, parallel
  ``tool_use`` blocks and their results, ``metadata.user_id``, thinking enabled.
- ``short_chat``: a two-message OpenAI Chat Completions request.
- ``codex``: a Codex CLI Responses request: instructions, developer/user messages,
  encrypted reasoning items, a ``shell`` function call with its output, a freeform
  ``apply_patch`` custom tool call, ``store: false``, ``prompt_cache_key``.
- ``gemini``: a Gemini CLI ``generateContent`` body: ``systemInstruction``, parallel
  function calls with a ``thoughtSignature`` and their responses, JSON-schema and
  OpenAPI-style declarations, ``thinkingConfig``.

The files are plain JSON so they can be read, diffed and replayed with curl; ``body``
turns one into the bytes a load generator sends, with the model and the stream switch
set per request shape. tests/unit/loadtest/test_payloads.py checks every file against
the official SDK types and the gateway's own decoders.
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

DIRECTORY = Path(__file__).resolve().parent
NAMES = ("claude_code", "short_chat", "codex", "gemini")

# The model travels in the URL for Gemini, and so does the stream switch.
_MODEL_IN_URL = frozenset({"gemini"})


@cache
def _raw(name: str) -> bytes:
    if name not in NAMES:
        raise KeyError(f"no payload {name!r}; known: {', '.join(NAMES)}")
    return (DIRECTORY / f"{name}.json").read_bytes()


def load(name: str) -> dict[str, Any]:
    """A fresh copy of the payload, safe to modify."""
    document: dict[str, Any] = json.loads(_raw(name))
    return document


def body(name: str, *, model: str | None = None, stream: bool | None = None) -> bytes:
    """The payload as request bytes, with ``model`` and ``stream`` set when given.

    A streamed Chat request asks for the usage chunk, as the OpenAI SDKs' users do to
    see their token counts; a non-streamed one must not carry ``stream_options`` (the
    API rejects it without ``stream``).
    """
    document = load(name)
    if name in _MODEL_IN_URL:
        if model is not None or stream is not None:
            raise ValueError(f"{name}: the model and the stream switch are in the URL")
        return _dumps(document)
    if model is not None:
        document["model"] = model
    if stream is not None:
        document["stream"] = stream
        if name == "short_chat":
            if stream:
                document["stream_options"] = {"include_usage": True}
            else:
                document.pop("stream_options", None)
    return _dumps(document)


def _dumps(document: dict[str, Any]) -> bytes:
    # Compact, as SDKs send it; non-ASCII kept as UTF-8 like the SDKs' JSON encoders.
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
