"""Which provider endpoint a request is for, by method, path and headers (PROTOCOLS.md 1.1)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Family(StrEnum):
    """Whose error shape and request-id header a reply uses."""

    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"


class Operation(StrEnum):
    CHAT = "chat"
    RESPONSES = "responses"
    RESPONSES_INPUT_TOKENS = "responses_input_tokens"
    OPENAI_MODELS = "openai_models"
    MESSAGES = "messages"
    COUNT_TOKENS = "count_tokens"
    ANTHROPIC_MODELS = "anthropic_models"
    GENERATE = "generate"
    STREAM_GENERATE = "stream_generate"
    GEMINI_COUNT_TOKENS = "gemini_count_tokens"
    GEMINI_MODELS = "gemini_models"


_LISTINGS = frozenset(
    {Operation.OPENAI_MODELS, Operation.ANTHROPIC_MODELS, Operation.GEMINI_MODELS}
)


@dataclass(frozen=True, slots=True)
class Endpoint:
    operation: Operation
    family: Family
    path_model: str | None = None  # Gemini names the model in the path

    @property
    def takes_json_body(self) -> bool:
        return self.operation not in _LISTINGS


_POST_ROUTES = {
    "/v1/chat/completions": Endpoint(Operation.CHAT, Family.OPENAI),
    "/v1/responses": Endpoint(Operation.RESPONSES, Family.OPENAI),
    "/v1/responses/input_tokens": Endpoint(Operation.RESPONSES_INPUT_TOKENS, Family.OPENAI),
    "/v1/messages": Endpoint(Operation.MESSAGES, Family.ANTHROPIC),
    "/v1/messages/count_tokens": Endpoint(Operation.COUNT_TOKENS, Family.ANTHROPIC),
}

_GEMINI_PATH = re.compile(r"/v1(?:beta)?/models/(?P<model>[^/:]+):(?P<method>[A-Za-z]+)")
_GEMINI_METHODS = {
    "generateContent": Operation.GENERATE,
    "streamGenerateContent": Operation.STREAM_GENERATE,
    "countTokens": Operation.GEMINI_COUNT_TOKENS,
}


def resolve_endpoint(method: str, path: str, headers: Mapping[str, str]) -> Endpoint | None:
    if method == "POST":
        return _POST_ROUTES.get(path) or _resolve_gemini(path)
    if method != "GET":
        return None
    if path.rstrip("/") == "/v1/models":
        # OpenAI and Anthropic share this path; Anthropic clients always send anthropic-version.
        if "anthropic-version" in headers:
            return Endpoint(Operation.ANTHROPIC_MODELS, Family.ANTHROPIC)
        return Endpoint(Operation.OPENAI_MODELS, Family.OPENAI)
    if path.rstrip("/") == "/v1beta/models":
        return Endpoint(Operation.GEMINI_MODELS, Family.GEMINI)
    return None


def guess_family(path: str, headers: Mapping[str, str]) -> Family:
    """The error shape for a request to no known endpoint."""
    if "anthropic-version" in headers:
        return Family.ANTHROPIC
    return Family.GEMINI if path.startswith("/v1beta/") else Family.OPENAI


def _resolve_gemini(path: str) -> Endpoint | None:
    found = _GEMINI_PATH.fullmatch(path)
    if found is None or found["method"] not in _GEMINI_METHODS:
        return None
    return Endpoint(_GEMINI_METHODS[found["method"]], Family.GEMINI, found["model"])
