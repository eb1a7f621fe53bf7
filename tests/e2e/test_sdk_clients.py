"""The official SDKs, pointed at the gateway, reach the fake account of their own protocol.

Each test scripts what the fake says, so the text an SDK parses can only have come through
the gateway; the fake's journal shows where the request went and how it was signed.
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.clients import (
    ANTHROPIC_HEADERS,
    anthropic_client,
    assert_signed_for,
    bearer,
    genai_client,
    only_request,
    openai_client,
)
from tests.e2e.harness import SECOND_KEY, Gateway
from tests.fake_upstream import FakeUpstream

pytestmark = pytest.mark.e2e

STREAM = pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
PROMPT = "Say hello through the gateway"


def _text(stream: bool, protocol: str) -> str:
    # Distinct per test, so a reply cached or crossed between tests would not match.
    return f"{protocol} {'streamed' if stream else 'whole'} reply: the switchyard works."


@STREAM
def test_openai_chat(gateway: Gateway, upstream: FakeUpstream, stream: bool) -> None:
    text = _text(stream, "chat")
    upstream.script({"text": text})
    messages = [{"role": "user", "content": PROMPT}]
    with openai_client(gateway.url) as client:
        if stream:
            with client.chat.completions.create(
                model="gpt-test", messages=messages, stream=True
            ) as chunks:
                received = list(chunks)
            # The client did not ask for usage, so no usage-only chunk may reach it.
            assert all(chunk.choices for chunk in received)
            got = "".join(chunk.choices[0].delta.content or "" for chunk in received)
        else:
            completion = client.chat.completions.create(model="gpt-test", messages=messages)
            got = completion.choices[0].message.content or ""
    assert got == text
    request = only_request(upstream)
    assert request["path"] == "/v1/chat/completions"
    assert request["json"]["model"] == "gpt-test"
    assert request["json"]["messages"] == messages
    assert_signed_for(request, "openai")


@STREAM
def test_openai_responses(gateway: Gateway, upstream: FakeUpstream, stream: bool) -> None:
    text = _text(stream, "responses")
    upstream.script({"text": text})
    with openai_client(gateway.url) as client:
        if stream:
            with client.responses.stream(model="gpt-test", input=PROMPT) as events:
                deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
                final = events.get_final_response()
            assert "".join(deltas) == text
        else:
            final = client.responses.create(model="gpt-test", input=PROMPT)
    assert final.output_text == text
    assert final.status == "completed"
    request = only_request(upstream)
    assert request["path"] == "/v1/responses"
    assert request["json"]["input"] == PROMPT
    assert_signed_for(request, "openai")


@STREAM
def test_anthropic_messages(gateway: Gateway, upstream: FakeUpstream, stream: bool) -> None:
    text = _text(stream, "anthropic")
    upstream.script({"text": text})
    messages = [{"role": "user", "content": PROMPT}]
    with anthropic_client(gateway.url) as client:
        version = client.default_headers["anthropic-version"]
        if stream:
            with client.messages.stream(
                model="claude-alias", max_tokens=64, messages=messages
            ) as events:
                got = "".join(events.text_stream)
                final = events.get_final_message()
            assert final.stop_reason == "end_turn"
        else:
            message = client.messages.create(model="claude-alias", max_tokens=64, messages=messages)
            got = "".join(block.text for block in message.content if block.type == "text")
    assert got == text
    request = only_request(upstream)
    assert request["path"] == "/v1/messages"
    # The account knows claude-alias under another name: the body carries that name.
    assert request["json"]["model"] == "claude-upstream-name"
    assert request["json"]["max_tokens"] == 64
    assert "authorization" not in request["headers"]
    assert_signed_for(request, "anthropic", anthropic_version=str(version))


@STREAM
def test_gemini(gateway: Gateway, upstream: FakeUpstream, stream: bool) -> None:
    text = _text(stream, "gemini")
    upstream.script({"text": text})
    with genai_client(gateway.url) as client:
        if stream:
            pieces = client.models.generate_content_stream(model="gemini-test", contents=PROMPT)
            got = "".join(chunk.text or "" for chunk in pieces)
        else:
            got = client.models.generate_content(model="gemini-test", contents=PROMPT).text or ""
    assert got == text
    request = only_request(upstream)
    method = "streamGenerateContent" if stream else "generateContent"
    assert request["path"] == f"/v1beta/models/gemini-test:{method}"
    if stream:
        assert request["query"] == {"alt": "sse"}
    assert request["json"]["contents"][0]["parts"][0]["text"] == PROMPT
    assert_signed_for(request, "gemini")


def test_anthropic_count_tokens(gateway: Gateway, upstream: FakeUpstream) -> None:
    upstream.script({"usage": {"input": 1234}})
    with anthropic_client(gateway.url) as client:
        version = client.default_headers["anthropic-version"]
        counted = client.messages.count_tokens(
            model="claude-test", messages=[{"role": "user", "content": PROMPT}]
        )
    assert counted.input_tokens == 1234
    request = only_request(upstream)
    assert request["path"] == "/v1/messages/count_tokens"
    assert_signed_for(request, "anthropic", anthropic_version=str(version))


def test_gemini_count_tokens(gateway: Gateway, upstream: FakeUpstream) -> None:
    upstream.script({"usage": {"input": 4321}})
    with genai_client(gateway.url) as client:
        counted = client.models.count_tokens(model="gemini-test", contents=PROMPT)
    assert counted.total_tokens == 4321
    request = only_request(upstream)
    assert request["path"] == "/v1beta/models/gemini-test:countTokens"
    assert_signed_for(request, "gemini")


@pytest.mark.parametrize(
    ("path", "requested", "upstream_model", "logged_model"),
    [
        ("/v1/chat/completions", "gpt-alias", "gpt-upstream-name", "gpt-alias"),
        ("/v1/messages", "claude-alias", "claude-upstream-name", "claude-alias"),
        # A catalog alias resolves to the catalog id, which is then billed and sent upstream.
        ("/v1/messages", "claude-nick", "claude-test", "claude-test"),
        # No model at all: the configured default.
        ("/v1/chat/completions", None, "gpt-test", "gpt-test"),
    ],
)
def test_model_names_resolve(
    gateway: Gateway,
    upstream: FakeUpstream,
    http: httpx.Client,
    path: str,
    requested: str | None,
    upstream_model: str,
    logged_model: str,
) -> None:
    body: dict[str, object] = {"messages": [{"role": "user", "content": PROMPT}], "max_tokens": 8}
    if requested is not None:
        body["model"] = requested
    response = http.post(path, json=body, headers={**bearer(), **ANTHROPIC_HEADERS})
    assert response.status_code == 200, response.text
    assert only_request(upstream)["json"]["model"] == upstream_model
    record = gateway.access_record(response.headers["x-switchyard-request-id"])
    assert record["model"] == logged_model
    assert record["upstream_model"] == upstream_model


def test_second_key_given_by_digest(gateway: Gateway, upstream: FakeUpstream) -> None:
    """A key declared only as its SHA-256 digest is accepted and logged under its own name."""
    upstream.script({"text": "digest key works"})
    with openai_client(gateway.url, key=SECOND_KEY) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-test", messages=[{"role": "user", "content": PROMPT}]
        )
    assert raw.parse().choices[0].message.content == "digest key works"
    record = gateway.access_record(raw.headers["x-switchyard-request-id"])
    assert record["key"] == "second"
    assert SECOND_KEY not in str(only_request(upstream)["headers"])
