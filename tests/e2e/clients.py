"""Clients for the gateway under test: the official SDKs, and raw HTTP for byte-level checks.

Every SDK client retries nothing (a retry would hide the status under test) and is a context
manager, so nothing is left open for ``filterwarnings = error`` to trip over.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai
from google import genai
from google.genai import types

from tests.e2e.harness import CLIENT_KEY, PROVIDER_KEYS
from tests.fake_upstream import FakeUpstream, RecordedRequest

TIMEOUT = 15.0
ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01"}


def openai_client(base_url: str, key: str = CLIENT_KEY) -> openai.OpenAI:
    # trust_env=False, here and below: a proxy from the environment must never sit between
    # the tests and the gateway. The SDK client owns its transport and closes it.
    transport = openai.DefaultHttpxClient(trust_env=False, timeout=TIMEOUT)
    return openai.OpenAI(
        base_url=f"{base_url}/v1", api_key=key, max_retries=0, http_client=transport
    )


def anthropic_client(base_url: str, key: str = CLIENT_KEY) -> anthropic.Anthropic:
    # The SDK's own default client class: it may run on another httpx than the tests.
    transport = anthropic.DefaultHttpxClient(trust_env=False, timeout=TIMEOUT)
    return anthropic.Anthropic(base_url=base_url, api_key=key, max_retries=0, http_client=transport)


def genai_client(base_url: str, key: str = CLIENT_KEY) -> genai.Client:
    options = types.HttpOptions(
        base_url=base_url,
        timeout=int(TIMEOUT * 1000),
        client_args={"trust_env": False},
    )
    return genai.Client(api_key=key, http_options=options)


def http_client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, trust_env=False, timeout=TIMEOUT)


def bearer(key: str = CLIENT_KEY) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


@dataclass(frozen=True)
class Wire:
    """One client protocol, as raw HTTP: where to POST and a minimal valid body."""

    name: str
    shape: str  # the error family: openai | anthropic | gemini
    model: str

    def path(self, *, stream: bool = False, sse: bool = True, model: str | None = None) -> str:
        model = model or self.model
        if self.name == "gemini":
            if not stream:
                return f"/v1beta/models/{model}:generateContent"
            query = "?alt=sse" if sse else ""
            return f"/v1beta/models/{model}:streamGenerateContent{query}"
        return {
            "chat": "/v1/chat/completions",
            "responses": "/v1/responses",
            "anthropic": "/v1/messages",
        }[self.name]

    def body(self, *, stream: bool = False, model: str | None = None) -> dict[str, Any]:
        model = model or self.model
        if self.name == "gemini":
            return {"contents": [{"role": "user", "parts": [{"text": "Say hello"}]}]}
        body: dict[str, Any]
        if self.name == "responses":
            body = {"model": model, "input": "Say hello"}
        else:
            body = {"model": model, "messages": [{"role": "user", "content": "Say hello"}]}
        if self.name == "anthropic":
            body["max_tokens"] = 64
        if stream:
            body["stream"] = True
        return body

    @property
    def headers(self) -> dict[str, str]:
        if self.name == "anthropic":
            return {"x-api-key": CLIENT_KEY, **ANTHROPIC_HEADERS}
        if self.name == "gemini":
            return {"x-goog-api-key": CLIENT_KEY}
        return bearer()


CHAT = Wire("chat", "openai", "gpt-test")
RESPONSES = Wire("responses", "openai", "gpt-test")
ANTHROPIC = Wire("anthropic", "anthropic", "claude-test")
GEMINI = Wire("gemini", "gemini", "gemini-test")
WIRES = (CHAT, RESPONSES, ANTHROPIC, GEMINI)


def post(
    client: httpx.Client,
    wire: Wire,
    *,
    stream: bool = False,
    sse: bool = True,
    model: str | None = None,
    body: Mapping[str, Any] | None = None,
) -> httpx.Response:
    payload = body if body is not None else wire.body(stream=stream, model=model)
    return client.post(
        wire.path(stream=stream, sse=sse, model=model), json=payload, headers=wire.headers
    )


def assert_error_shape(response: httpx.Response, shape: str, status: int) -> str:
    """Check the body is ``shape``'s error envelope with ``status``; return its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    if shape == "anthropic":
        assert body["type"] == "error"
        assert set(body["error"]) >= {"type", "message"}
        message: str = body["error"]["message"]
    elif shape == "gemini":
        assert set(body["error"]) >= {"code", "message", "status"}
        assert body["error"]["code"] == status
        message = body["error"]["message"]
    else:
        assert set(body["error"]) >= {"message", "type", "code"}
        assert "type" not in body  # not the Anthropic envelope
        message = body["error"]["message"]
    assert message
    return message


def error_kind(response: httpx.Response, shape: str) -> str:
    """The machine-readable kind: OpenAI ``type``, Anthropic ``error.type``, Gemini ``status``."""
    error = response.json()["error"]
    return str(error["status"] if shape == "gemini" else error["type"])


def only_request(upstream: FakeUpstream) -> RecordedRequest:
    requests = upstream.requests()
    assert len(requests) == 1, [(r["method"], r["path"]) for r in requests]
    return requests[0]


def assert_signed_for(
    request: RecordedRequest, provider: str, *, anthropic_version: str = "2023-06-01"
) -> None:
    """The fake got the account's key in the provider's header, and never the client's key.

    ``anthropic_version``: what the client sent, which the gateway forwards verbatim.
    """
    headers = request["headers"]
    if provider == "openai":
        assert headers["authorization"] == f"Bearer {PROVIDER_KEYS['FAKE_OPENAI_KEY']}"
    elif provider == "anthropic":
        assert headers["x-api-key"] == PROVIDER_KEYS["FAKE_ANTHROPIC_KEY"]
        assert headers["anthropic-version"] == anthropic_version
    else:
        assert headers["x-goog-api-key"] == PROVIDER_KEYS["FAKE_GEMINI_KEY"]
    leaked = [name for name, value in headers.items() if CLIENT_KEY in value]
    assert not leaked, f"the client's gateway key reached the upstream in {leaked}"
    assert CLIENT_KEY not in json.dumps(request["query"])


def sse_data(events: list[dict[str, Any]], *, newline: str = "\n") -> str:
    """``data:``-only SSE frames (Chat, Gemini)."""
    return "".join(f"data: {json.dumps(event)}{newline}{newline}" for event in events)


def sse_named(events: list[dict[str, Any]]) -> str:
    """``event:`` + ``data:`` frames whose JSON repeats the type (Anthropic, Responses)."""
    return "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events)


def split_every(text: str, size: int) -> list[str]:
    """``text`` in pieces of ``size`` characters: boundaries land mid-line and mid-separator."""
    return [text[start : start + size] for start in range(0, len(text), size)]
