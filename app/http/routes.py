"""Which endpoint a method and path name, with hints for near misses.

Pure functions over strings, so the whole route table is unit-tested without a
server. Exact paths are one dict lookup; only Gemini's ``{model}:{method}``
paths need a regular expression.
"""

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum

from app.canonical.protocol import ErrorShape, WireProtocol
from app.core.errors import MethodNotAllowed, NotFound


class Endpoint(StrEnum):
    CHAT = "chat"
    RESPONSES = "responses"
    MESSAGES = "messages"
    COUNT_TOKENS = "count_tokens"
    GEMINI_GENERATE = "gemini_generate"
    GEMINI_STREAM = "gemini_stream"
    GEMINI_COUNT_TOKENS = "gemini_count_tokens"
    MODELS = "models"
    MODEL = "model"
    GEMINI_MODELS = "gemini_models"
    GEMINI_MODEL = "gemini_model"
    ROOT = "root"
    HEALTHZ = "healthz"
    READYZ = "readyz"
    ADMIN_ACCOUNTS = "admin_accounts"


PROTOCOL: dict[Endpoint, WireProtocol] = {
    Endpoint.CHAT: WireProtocol.OPENAI_CHAT,
    Endpoint.RESPONSES: WireProtocol.OPENAI_RESPONSES,
    Endpoint.MESSAGES: WireProtocol.ANTHROPIC,
    Endpoint.COUNT_TOKENS: WireProtocol.ANTHROPIC,
    Endpoint.GEMINI_GENERATE: WireProtocol.GEMINI,
    Endpoint.GEMINI_STREAM: WireProtocol.GEMINI,
    Endpoint.GEMINI_COUNT_TOKENS: WireProtocol.GEMINI,
}

_POST = ("POST",)
_GET = ("GET", "HEAD")

_EXACT: dict[str, tuple[Endpoint, tuple[str, ...]]] = {
    "/v1/chat/completions": (Endpoint.CHAT, _POST),
    "/v1/responses": (Endpoint.RESPONSES, _POST),
    "/v1/messages": (Endpoint.MESSAGES, _POST),
    "/v1/messages/count_tokens": (Endpoint.COUNT_TOKENS, _POST),
    "/v1/models": (Endpoint.MODELS, _GET),
    "/models": (Endpoint.MODELS, _GET),
    "/v1beta/models": (Endpoint.GEMINI_MODELS, _GET),
    "/": (Endpoint.ROOT, _GET),
    "/api/hello": (Endpoint.ROOT, _GET),
    "/healthz": (Endpoint.HEALTHZ, _GET),
    "/readyz": (Endpoint.READYZ, _GET),
    "/admin/accounts": (Endpoint.ADMIN_ACCOUNTS, _GET),
}

# Prefixes hosted gateways put in front of the provider paths
# (e.g. /api/v1/messages, /claude/v1/messages, /openai/v1/chat/completions).
_PREFIXES = ("/api", "/claude", "/openai", "/anthropic", "/gemini")

_GEMINI_METHODS = {
    "generateContent": Endpoint.GEMINI_GENERATE,
    "streamGenerateContent": Endpoint.GEMINI_STREAM,
    "countTokens": Endpoint.GEMINI_COUNT_TOKENS,
}
_GEMINI_CALL = re.compile(
    r"^/(?P<version>v1beta|v1|v1alpha)/models/(?P<model>[^:]+):(?P<method>\w+)$"
)
_MODEL_GET = re.compile(r"^/(?P<version>v1beta|v1|v1alpha)/models/(?P<model>[^:]+)$")
_MULTI_SLASH = re.compile(r"/{2,}")


@dataclass(frozen=True, slots=True)
class RouteMatch:
    endpoint: Endpoint
    model: str | None = None
    api_version: str | None = None


def normalize_path(path: str) -> str:
    if "//" in path:
        path = _MULTI_SLASH.sub("/", path)
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    for prefix in _PREFIXES:
        if path.startswith(prefix + "/v1"):
            return path[len(prefix) :]
    return path


def _known_routes() -> dict[str, dict[str, RouteMatch]]:
    """Every exact path as clients send it (hosted-gateway prefixes included), with
    its methods: the common request is one lookup and no allocation."""
    known: dict[str, dict[str, RouteMatch]] = {}
    for path, (endpoint, methods) in _EXACT.items():
        spellings = [path]
        if path.startswith("/v1/"):
            spellings += [prefix + path for prefix in _PREFIXES]
        for spelling in spellings:
            known[spelling] = {method: RouteMatch(endpoint) for method in methods}
    return known


def match_route(method: str, raw_path: str) -> RouteMatch:
    known = _KNOWN.get(raw_path)
    if known is not None and method in known:
        return known[method]
    path = normalize_path(raw_path)
    exact = _EXACT.get(path)
    if exact is not None:
        return _allowed(RouteMatch(exact[0]), method, exact[1], path)
    call = _GEMINI_CALL.match(path)
    if call is not None:
        endpoint = _GEMINI_METHODS.get(call["method"])
        if endpoint is None:
            raise NotFound(
                f"Gemini method '{call['method']}' is not served here; supported: "
                f"{', '.join(_GEMINI_METHODS)}."
            )
        model = call["model"].removeprefix("models/")
        return _allowed(RouteMatch(endpoint, model, call["version"]), method, _POST, path)
    single = _MODEL_GET.match(path)
    if single is not None:
        endpoint = Endpoint.GEMINI_MODEL if single["version"] != "v1" else Endpoint.MODEL
        model = single["model"].removeprefix("models/")
        return _allowed(RouteMatch(endpoint, model, single["version"]), method, _GET, path)
    raise NotFound(_not_found_message(raw_path, path))


_KNOWN = _known_routes()


def error_shape_for_path(path: str) -> ErrorShape:
    """The error family a caller on an unknown path most likely speaks."""
    if "/messages" in path or path.startswith("/claude"):
        return ErrorShape.ANTHROPIC
    if "v1beta" in path or ":" in path:
        return ErrorShape.GEMINI
    return ErrorShape.OPENAI


def _allowed(match: RouteMatch, method: str, methods: tuple[str, ...], path: str) -> RouteMatch:
    if method not in methods:
        raise MethodNotAllowed(
            f"{method} is not allowed on {path}; use {' or '.join(methods)}.", allowed=methods
        )
    return match


def _not_found_message(raw_path: str, path: str) -> str:
    message = f"Unknown path '{raw_path}'."
    if "/v1/v1/" in path or path.startswith("/v1/v1"):
        fixed = path.replace("/v1/v1", "/v1", 1)
        return f"{message} The base URL already ends in /v1: remove it there (try '{fixed}')."
    if "/v1beta/v1beta" in path:
        return f"{message} The base URL already ends in /v1beta: remove it there."
    if f"/v1{path}" in _EXACT:
        return (
            f"{message} Did you mean '/v1{path}'? OpenAI clients take a base URL ending "
            "in /v1; Anthropic clients take the base URL without /v1."
        )
    close = difflib.get_close_matches(path, [p for p in _EXACT if p.startswith("/v1")], n=1)
    if close:
        return f"{message} Did you mean '{close[0]}'?"
    return (
        f"{message} Served: /v1/chat/completions, /v1/responses, /v1/messages, "
        "/v1/messages/count_tokens, /v1beta/models/{model}:generateContent, "
        ":streamGenerateContent, :countTokens, /v1/models, /v1beta/models."
    )
