"""The embedded default: a demo provider that needs no network, plus a real
provider account for each of ``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY`` and
``GEMINI_API_KEY`` that is set.

Each real account serves its family's model names by pattern, so any current
model id reaches it unchanged; the demo answers every other name, so a client
pointed at a fresh gateway gets a reply whatever model it asks for.
"""

from collections.abc import Mapping
from typing import Any

DEMO_KEY_ENV = "SWITCHYARD_DEMO_KEY"
DEMO_MODEL = "switchyard-demo"

_PROVIDERS: tuple[tuple[str, str, list[str], list[dict[str, Any]]], ...] = (
    (
        "OPENAI_API_KEY",
        "openai",
        ["gpt-*", "o1*", "o3*", "o4*", "chatgpt-*", "codex-*"],
        [
            {
                "id": "gpt-5",
                "owned_by": "openai",
                "context_window": 400000,
                "max_output_tokens": 128000,
            },
            {
                "id": "gpt-5-mini",
                "owned_by": "openai",
                "context_window": 400000,
                "max_output_tokens": 128000,
            },
            {
                "id": "gpt-4.1",
                "owned_by": "openai",
                "context_window": 1047576,
                "max_output_tokens": 32768,
            },
        ],
    ),
    (
        "ANTHROPIC_API_KEY",
        "anthropic",
        ["claude-*"],
        [
            {
                "id": "claude-sonnet-4-5",
                "display_name": "Claude Sonnet 4.5",
                "owned_by": "anthropic",
                "context_window": 200000,
                "max_output_tokens": 64000,
            },
            {
                "id": "claude-haiku-4-5",
                "display_name": "Claude Haiku 4.5",
                "owned_by": "anthropic",
                "context_window": 200000,
                "max_output_tokens": 64000,
            },
            {
                "id": "claude-opus-4-1",
                "display_name": "Claude Opus 4.1",
                "owned_by": "anthropic",
                "context_window": 200000,
                "max_output_tokens": 32000,
            },
        ],
    ),
    (
        "GEMINI_API_KEY",
        "gemini",
        ["gemini-*"],
        [
            {
                "id": "gemini-2.5-pro",
                "display_name": "Gemini 2.5 Pro",
                "owned_by": "google",
                "context_window": 1048576,
                "max_output_tokens": 65536,
            },
            {
                "id": "gemini-2.5-flash",
                "display_name": "Gemini 2.5 Flash",
                "owned_by": "google",
                "context_window": 1048576,
                "max_output_tokens": 65536,
            },
        ],
    ),
)


def embedded_config(env: Mapping[str, str]) -> dict[str, Any]:
    models: list[dict[str, Any]] = [
        {
            "id": DEMO_MODEL,
            "aliases": ["demo"],
            "display_name": "Switchyard demo",
            "owned_by": "switchyard",
            "context_window": 128000,
            "max_output_tokens": 8192,
        }
    ]
    accounts: list[dict[str, Any]] = []
    for key_env, kind, patterns, known in _PROVIDERS:
        if env.get(key_env, "").strip():
            models += known
            accounts.append(
                {
                    "name": kind,
                    "type": kind,
                    "api_key_env": key_env,
                    "models": [model["id"] for model in known] + patterns,
                }
            )
    accounts.append({"name": "demo", "type": "demo", "models": [DEMO_MODEL, "*"]})
    return {"default_model": DEMO_MODEL, "models": models, "accounts": accounts}
