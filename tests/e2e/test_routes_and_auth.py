"""Every route takes every credential form, refuses a bad one in its own error shape, and
answers under the path aliases clients and hosted gateways use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.clients import (
    ANTHROPIC_HEADERS,
    CHAT,
    GEMINI,
    RESPONSES,
    assert_error_shape,
    error_kind,
    only_request,
)
from tests.e2e.harness import CLIENT_KEY, SESSION_MODEL_IDS, Gateway
from tests.fake_upstream import FakeUpstream

pytestmark = pytest.mark.e2e

_MESSAGES = [{"role": "user", "content": "hello"}]
_CONTENTS = [{"role": "user", "parts": [{"text": "hello"}]}]


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    shape: str  # whose error envelope a failure comes back in
    body: dict[str, Any] | None = None
    upstream_path: str | None = None  # where the fake receives it; None: answered locally


ROUTES = [
    Route("chat", "POST", "/v1/chat/completions", "openai", CHAT.body(), "/v1/chat/completions"),
    Route("responses", "POST", "/v1/responses", "openai", RESPONSES.body(), "/v1/responses"),
    Route(
        "messages",
        "POST",
        "/v1/messages",
        "anthropic",
        {"model": "claude-test", "max_tokens": 16, "messages": _MESSAGES},
        "/v1/messages",
    ),
    Route(
        "count_tokens",
        "POST",
        "/v1/messages/count_tokens",
        "anthropic",
        {"model": "claude-test", "messages": _MESSAGES},
        "/v1/messages/count_tokens",
    ),
    Route(
        "gemini_generate",
        "POST",
        "/v1beta/models/gemini-test:generateContent",
        "gemini",
        GEMINI.body(),
        "/v1beta/models/gemini-test:generateContent",
    ),
    Route(
        "gemini_stream",
        "POST",
        "/v1beta/models/gemini-test:streamGenerateContent?alt=sse",
        "gemini",
        GEMINI.body(),
        "/v1beta/models/gemini-test:streamGenerateContent",
    ),
    Route(
        "gemini_count",
        "POST",
        "/v1beta/models/gemini-test:countTokens",
        "gemini",
        {"contents": _CONTENTS},
        "/v1beta/models/gemini-test:countTokens",
    ),
    Route("models", "GET", "/v1/models", "openai"),
    Route("model", "GET", "/v1/models/gpt-test", "openai"),
    Route("gemini_models", "GET", "/v1beta/models", "gemini"),
    Route("gemini_model", "GET", "/v1beta/models/gemini-test", "gemini"),
]
_ROUTE_IDS = [route.name for route in ROUTES]


def _with_query_key(path: str, key: str) -> str:
    # Built by hand: httpx's params= would replace a query already in the path (alt=sse).
    return f"{path}{'&' if '?' in path else '?'}key={key}"


def _send(
    http: httpx.Client, route: Route, headers: dict[str, str], path: str | None = None
) -> httpx.Response:
    return http.request(route.method, path or route.path, json=route.body, headers=headers)


CREDENTIALS = {
    "bearer": lambda key: ({"authorization": f"Bearer {key}"}, None),
    "x-api-key": lambda key: ({"x-api-key": key}, None),
    "x-goog-api-key": lambda key: ({"x-goog-api-key": key}, None),
    "query-key": lambda key: ({}, key),
}


@pytest.mark.parametrize("credential", list(CREDENTIALS))
@pytest.mark.parametrize("route", ROUTES, ids=_ROUTE_IDS)
def test_every_credential_form_on_every_route(
    upstream: FakeUpstream, http: httpx.Client, route: Route, credential: str
) -> None:
    headers, query_key = CREDENTIALS[credential](CLIENT_KEY)
    path = _with_query_key(route.path, query_key) if query_key else route.path
    response = _send(http, route, headers, path)
    assert response.status_code == 200, response.text
    if route.upstream_path is None:
        assert upstream.requests() == []
        return
    request = only_request(upstream)
    assert request["path"] == route.upstream_path
    assert "key" not in request["query"]  # the client's ?key= is not passed on
    assert "x-switchyard-request-id" in response.headers


@pytest.mark.parametrize("presented", ["missing", "wrong"])
@pytest.mark.parametrize("route", ROUTES, ids=_ROUTE_IDS)
def test_bad_key_is_refused_in_the_routes_error_shape(
    upstream: FakeUpstream, http: httpx.Client, route: Route, presented: str
) -> None:
    headers: dict[str, str] = {}
    if presented == "wrong":
        name = {"openai": "authorization", "anthropic": "x-api-key", "gemini": "x-goog-api-key"}
        value = f"{CLIENT_KEY}-but-wrong"
        headers[name[route.shape]] = f"Bearer {value}" if route.shape == "openai" else value
    response = _send(http, route, headers)
    message = assert_error_shape(response, route.shape, 401)
    expected_kind = {
        "openai": "invalid_request_error",
        "anthropic": "authentication_error",
        "gemini": "UNAUTHENTICATED",
    }
    assert error_kind(response, route.shape) == expected_kind[route.shape]
    assert ("Missing" in message) == (presented == "missing")
    assert CLIENT_KEY not in response.text
    assert upstream.requests() == []


@pytest.mark.parametrize(
    ("headers", "shape"),
    [
        ({"x-api-key": "wrong", **ANTHROPIC_HEADERS}, "anthropic"),
        # The Anthropic SDK's default: x-api-key and no Authorization (PROTOCOLS.md 1.4).
        ({"x-api-key": "wrong"}, "anthropic"),
        ({"x-goog-api-key": "wrong"}, "gemini"),
        ({"authorization": "Bearer wrong"}, "openai"),
    ],
)
def test_shared_models_route_answers_auth_errors_in_the_callers_family(
    http: httpx.Client, headers: dict[str, str], shape: str
) -> None:
    assert_error_shape(http.get("/v1/models", headers=headers), shape, 401)


@dataclass(frozen=True)
class Alias:
    path: str
    body: dict[str, Any]
    upstream_path: str


ALIASES = [
    Alias("/api/v1/messages", {"max_tokens": 8, "messages": _MESSAGES}, "/v1/messages"),
    Alias("/claude/v1/messages", {"max_tokens": 8, "messages": _MESSAGES}, "/v1/messages"),
    Alias("//v1/messages", {"max_tokens": 8, "messages": _MESSAGES}, "/v1/messages"),
    Alias("/v1/messages?beta=true", {"max_tokens": 8, "messages": _MESSAGES}, "/v1/messages"),
    Alias(
        "/v1/messages/count_tokens?beta=true",
        {"messages": _MESSAGES},
        "/v1/messages/count_tokens",
    ),
    Alias("/openai/v1/chat/completions", {"messages": _MESSAGES}, "/v1/chat/completions"),
    Alias("/openai/v1/responses", {"input": "hello"}, "/v1/responses"),
    Alias(
        "/v1/models/gemini-test:generateContent",
        {"contents": _CONTENTS},
        "/v1beta/models/gemini-test:generateContent",
    ),
    # SDKs may send the resource name, models/ included, in the path.
    Alias(
        "/v1beta/models/models/gemini-test:generateContent",
        {"contents": _CONTENTS},
        "/v1beta/models/gemini-test:generateContent",
    ),
]


@pytest.mark.parametrize("alias", ALIASES, ids=[alias.path for alias in ALIASES])
def test_alias_paths_reach_the_provider_endpoint(
    gateway: Gateway, upstream: FakeUpstream, http: httpx.Client, alias: Alias
) -> None:
    model = {"/v1/messages": "claude-test"}.get(alias.upstream_path.removesuffix("/count_tokens"))
    body = {**alias.body, "model": model} if model else alias.body
    upstream.script({"text": f"reached via {alias.path}"})
    # An absolute URL: httpx would read a relative '//v1/...' as a host name.
    response = http.post(
        gateway.url + alias.path, json=body, headers={"x-api-key": CLIENT_KEY, **ANTHROPIC_HEADERS}
    )
    assert response.status_code == 200, response.text
    request = only_request(upstream)
    assert request["path"] == alias.upstream_path
    assert "beta" not in request["query"]
    if "count_tokens" not in alias.path:
        assert f"reached via {alias.path}" in response.text


def test_openai_models_alias_path(http: httpx.Client) -> None:
    response = http.get("/openai/v1/models", headers={"authorization": f"Bearer {CLIENT_KEY}"})
    assert response.status_code == 200
    assert [model["id"] for model in response.json()["data"]] == list(SESSION_MODEL_IDS)


def test_probes_need_no_key(http: httpx.Client) -> None:
    head = http.head("/")
    assert head.status_code == 200
    assert head.content == b""
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "accounts": 4, "models": len(SESSION_MODEL_IDS)}


def test_anthropic_version_defaults_and_beta_headers_pass_verbatim(
    upstream: FakeUpstream, http: httpx.Client
) -> None:
    body = {"model": "claude-test", "max_tokens": 8, "messages": _MESSAGES}
    assert http.post("/v1/messages", json=body, headers={"x-api-key": CLIENT_KEY}).is_success
    assert only_request(upstream)["headers"]["anthropic-version"] == "2023-06-01"
    upstream.reset()
    headers = [
        ("x-api-key", CLIENT_KEY),
        ("anthropic-version", "2099-01-01"),
        ("anthropic-beta", "context-1m-2025-08-07"),
        ("anthropic-beta", "interleaved-thinking-2025-05-14"),
    ]
    assert http.post("/v1/messages", json=body, headers=headers).is_success
    forwarded = only_request(upstream)["headers"]
    assert forwarded["anthropic-version"] == "2099-01-01"
    assert forwarded["anthropic-beta"] == "context-1m-2025-08-07,interleaved-thinking-2025-05-14"
