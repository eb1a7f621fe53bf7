"""The model catalog in each client family's shape, paginated the way each SDK pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.clients import (
    ANTHROPIC_HEADERS,
    anthropic_client,
    assert_error_shape,
    bearer,
    genai_client,
    openai_client,
)
from tests.e2e.harness import CLIENT_KEY, SESSION_MODEL_IDS, Gateway
from tests.fake_upstream import FakeUpstream

pytestmark = pytest.mark.e2e

# What the session config says about the models it describes ([[models]] tables).
DISPLAY_NAMES = {"gpt-test": "GPT Test", "claude-test": "Claude Test", "gemini-test": "Gemini Test"}


def test_openai_shape(http: httpx.Client, upstream: FakeUpstream) -> None:
    body = http.get("/v1/models", headers=bearer()).json()
    assert body["object"] == "list"
    assert [model["id"] for model in body["data"]] == list(SESSION_MODEL_IDS)
    assert all(model["object"] == "model" for model in body["data"])
    owners = {model["id"]: model["owned_by"] for model in body["data"]}
    assert owners["claude-test"] == "anthropic"
    assert owners["gpt-alias"] == "openai"  # undeclared: owned by its account's provider
    assert upstream.requests() == []  # answered from the catalog, not fetched


@pytest.mark.parametrize("path", ["/models", "/v1/models/"])
def test_models_path_aliases(http: httpx.Client, path: str) -> None:
    body = http.get(path, headers=bearer()).json()
    assert [model["id"] for model in body["data"]] == list(SESSION_MODEL_IDS)


def test_openai_sdk_lists_and_retrieves(gateway: Gateway) -> None:
    with openai_client(gateway.url) as client:
        assert [model.id for model in client.models.list()] == list(SESSION_MODEL_IDS)
        assert client.models.retrieve("claude-test").owned_by == "anthropic"


def test_anthropic_shape(http: httpx.Client) -> None:
    body = http.get("/v1/models", headers={**bearer(), **ANTHROPIC_HEADERS}).json()
    assert [model["id"] for model in body["data"]] == list(SESSION_MODEL_IDS)
    assert all(model["type"] == "model" for model in body["data"])
    names = {model["id"]: model["display_name"] for model in body["data"]}
    assert {model: names[model] for model in DISPLAY_NAMES} == DISPLAY_NAMES
    assert names["claude-alias"] == "claude-alias"  # no display name configured: the id
    assert body["has_more"] is False
    assert body["first_id"] == SESSION_MODEL_IDS[0]
    assert body["last_id"] == SESSION_MODEL_IDS[-1]


def test_anthropic_cursor_pages(http: httpx.Client) -> None:
    headers = {**bearer(), **ANTHROPIC_HEADERS}
    first = http.get("/v1/models", params={"limit": 4}, headers=headers).json()
    assert [model["id"] for model in first["data"]] == list(SESSION_MODEL_IDS[:4])
    assert first["has_more"] is True
    rest = http.get(
        "/v1/models", params={"limit": 4, "after_id": first["last_id"]}, headers=headers
    ).json()
    assert [model["id"] for model in rest["data"]] == list(SESSION_MODEL_IDS[4:])
    assert rest["has_more"] is False
    before = http.get(
        "/v1/models", params={"limit": 2, "before_id": SESSION_MODEL_IDS[3]}, headers=headers
    ).json()
    assert [model["id"] for model in before["data"]] == list(SESSION_MODEL_IDS[1:3])


def test_anthropic_sdk_pages_through_everything(gateway: Gateway) -> None:
    with anthropic_client(gateway.url) as client:
        page = client.models.list(limit=2)
        assert len(page.data) == 2
        assert page.has_next_page()
        # Iterating a page follows after_id cursors to the end.
        assert [model.id for model in page] == list(SESSION_MODEL_IDS)
        retrieved = client.models.retrieve("claude-test")
    assert retrieved.display_name == "Claude Test"


def test_gemini_shape(http: httpx.Client) -> None:
    body = http.get("/v1beta/models", headers={"x-goog-api-key": CLIENT_KEY})
    models = body.json()["models"]
    assert [model["name"] for model in models] == [f"models/{m}" for m in SESSION_MODEL_IDS]
    gemini = next(model for model in models if model["name"] == "models/gemini-test")
    assert gemini["displayName"] == "Gemini Test"
    assert gemini["inputTokenLimit"] == 1048576
    assert gemini["outputTokenLimit"] == 65536
    assert "generateContent" in gemini["supportedGenerationMethods"]
    assert "nextPageToken" not in body.json()


def test_gemini_page_tokens(http: httpx.Client) -> None:
    headers = {"x-goog-api-key": CLIENT_KEY}
    first = http.get("/v1beta/models", params={"pageSize": 5}, headers=headers).json()
    assert len(first["models"]) == 5
    rest = http.get(
        "/v1beta/models",
        params={"pageSize": 5, "pageToken": first["nextPageToken"]},
        headers=headers,
    ).json()
    assert [model["name"] for model in first["models"] + rest["models"]] == [
        f"models/{m}" for m in SESSION_MODEL_IDS
    ]
    assert "nextPageToken" not in rest


def test_genai_sdk_lists_pages_and_gets(gateway: Gateway) -> None:
    with genai_client(gateway.url) as client:
        names = [model.name for model in client.models.list(config={"page_size": 4})]
        model = client.models.get(model="gemini-test")
    assert names == [f"models/{m}" for m in SESSION_MODEL_IDS]
    assert model.display_name == "Gemini Test"
    assert model.input_token_limit == 1048576


@pytest.mark.parametrize(
    ("path", "headers", "check"),
    [
        ("/v1/models/claude-test", bearer(), lambda b: b["id"] == "claude-test"),
        # A catalog alias names the same model.
        ("/v1/models/claude-nick", bearer(), lambda b: b["id"] == "claude-test"),
        (
            "/v1/models/claude-test",
            {**bearer(), **ANTHROPIC_HEADERS},
            lambda b: b["type"] == "model" and b["display_name"] == "Claude Test",
        ),
        ("/v1beta/models/gemini-test", bearer(), lambda b: b["name"] == "models/gemini-test"),
        (
            "/v1beta/models/models/gemini-test",
            bearer(),
            lambda b: b["displayName"] == "Gemini Test",
        ),
    ],
)
def test_single_model(
    http: httpx.Client,
    path: str,
    headers: dict[str, str],
    check: Callable[[dict[str, Any]], bool],
) -> None:
    response = http.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert check(response.json()), response.text


@pytest.mark.parametrize(
    ("path", "headers", "shape", "hint"),
    [
        ("/v1/models/no-such-model", bearer(), "openai", "/v1/models"),
        ("/v1/models/no-such-model", {**bearer(), **ANTHROPIC_HEADERS}, "anthropic", "/v1/models"),
        ("/v1beta/models/no-such-model", bearer(), "gemini", "/v1beta/models"),
    ],
)
def test_unknown_model_is_404(
    http: httpx.Client, path: str, headers: dict[str, str], shape: str, hint: str
) -> None:
    message = assert_error_shape(http.get(path, headers=headers), shape, 404)
    assert "no-such-model" in message
    assert f"GET {hint} " in message
