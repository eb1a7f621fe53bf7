"""Failures across protocols, through the official SDKs: upstream error replies of one
protocol reach a client of another in the client's own shape (status family, message and
``retry-after`` kept), a stream the upstream cuts off ends in the client's in-stream error,
and token counting uses the upstream's counter where it has one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anthropic
import openai
import pytest
from google.genai import errors as genai_errors

from tests.e2e.clients import anthropic_client, genai_client, only_request, openai_client
from tests.e2e.harness import Gateway
from tests.e2e.translation import (
    MODEL,
    PROMPT,
    ask,
    assert_reached,
    assert_signed,
    user_texts,
)
from tests.fake_upstream import FakeUpstream

pytestmark = pytest.mark.e2e

_ERROR_KIND = {  # status -> (OpenAI error.type, Anthropic error.type, Gemini error.status)
    400: ("invalid_request_error", "invalid_request_error", "INVALID_ARGUMENT"),
    429: ("rate_limit_error", "rate_limit_error", "RESOURCE_EXHAUSTED"),
    503: ("server_error", "overloaded_error", "UNAVAILABLE"),
}
# Anthropic clients know overload as 529 (their SDK's OverloadedError), everyone else as 503.
_CLIENT_STATUS = {("anthropic", 503): 529}


@dataclass(frozen=True)
class Failure:
    """What a client's SDK raised for an error reply."""

    error: Exception
    status: int
    headers: Mapping[str, str]
    body: Any


def _failure(url: str, client: str, provider: str, *, stream: bool) -> Failure:
    """Run the text exchange, which must fail; the error as the client's SDK raised it."""
    expected: Any = {
        "anthropic": anthropic.APIStatusError,
        "gemini": genai_errors.APIError,
    }.get(client, openai.APIStatusError)
    with pytest.raises(expected) as raised:
        ask(client, url, MODEL[provider], stream=stream)
    error = raised.value
    if isinstance(error, genai_errors.APIError):
        return Failure(error, error.code, error.response.headers, error.details)
    return Failure(error, error.status_code, error.response.headers, error.response.json())


def _error_message(client: str, status: int, failure: Failure) -> str:
    """Check the failure is ``status`` in the envelope of ``client``'s protocol; return the
    message."""
    assert failure.status == _CLIENT_STATUS.get((client, status), status)
    openai_type, anthropic_type, gemini_status = _ERROR_KIND[status]
    body = failure.body
    error = body["error"]
    if client == "anthropic":
        assert (body["type"], error["type"]) == ("error", anthropic_type)
    elif client == "gemini":
        assert (error["code"], error["status"]) == (status, gemini_status)
    else:
        assert error["type"] == openai_type
        assert "type" not in body
    message: str = error["message"]
    return message


# One pair per client protocol and per upstream protocol, half of them streamed.
_ONE_EACH = pytest.mark.parametrize(
    ("client", "provider", "stream"),
    [
        ("chat", "anthropic", False),
        ("responses", "gemini", True),
        ("anthropic", "chat", True),
        ("gemini", "responses", False),
    ],
    ids=[
        "chat-to-anthropic",
        "responses-to-gemini-stream",
        "anthropic-to-chat-stream",
        "gemini-to-responses",
    ],
)


_RATE_LIMITED: dict[str, type[Exception]] = {
    "chat": openai.RateLimitError,
    "responses": openai.RateLimitError,
    "anthropic": anthropic.RateLimitError,
    "gemini": genai_errors.ClientError,
}


@_ONE_EACH
def test_rate_limit_reaches_the_client_as_its_429_with_retry_after(
    translation_gateway: Gateway, upstream: FakeUpstream, client: str, provider: str, stream: bool
) -> None:
    upstream.script({"status": 429, "headers": {"retry-after": "7"}})
    failure = _failure(translation_gateway.url, client, provider, stream=stream)
    assert isinstance(failure.error, _RATE_LIMITED[client])
    assert _error_message(client, 429, failure) == "fake upstream: scripted status 429"
    assert failure.headers["retry-after"] == "7"
    assert_reached(only_request(upstream), provider, stream=stream)


_ANTHROPIC_529 = (
    '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},'
    '"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}'
)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("client", ["chat", "responses", "gemini"])
def test_anthropic_overload_reaches_other_clients_as_503(
    translation_gateway: Gateway, upstream: FakeUpstream, client: str, stream: bool
) -> None:
    upstream.script({"status": 529, "body_text": _ANTHROPIC_529})
    failure = _failure(translation_gateway.url, client, "anthropic", stream=stream)
    sdk_class = genai_errors.ServerError if client == "gemini" else openai.InternalServerError
    assert isinstance(failure.error, sdk_class)
    assert _error_message(client, 503, failure) == "Overloaded"


# Each provider's own wording, in its own error body.
_MESSAGE_400 = {
    "gemini": "* GenerateContentRequest.contents: contents is not specified\n",
    "chat": "Invalid 'messages[0].content': string too long.",
    "anthropic": "messages.0.content: Input should be a valid list",
    "responses": "Unsupported parameter: 'temperature'.",
}


def _body_400(provider: str) -> dict[str, Any]:
    message = _MESSAGE_400[provider]
    if provider == "anthropic":
        return {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
    if provider == "gemini":
        return {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    return {"error": error}


@_ONE_EACH
def test_upstream_400_keeps_its_message(
    translation_gateway: Gateway, upstream: FakeUpstream, client: str, provider: str, stream: bool
) -> None:
    upstream.script({"status": 400, "body": _body_400(provider)})
    failure = _failure(translation_gateway.url, client, provider, stream=stream)
    assert _error_message(client, 400, failure) == _MESSAGE_400[provider]
    assert_reached(only_request(upstream), provider, stream=stream)


# Chunks the fake sends before its first text piece, per upstream protocol.
_PREAMBLE = {"chat": 1, "responses": 4, "anthropic": 3, "gemini": 0}
_WORDS = ["one", " two", " three", " four", " five", " six"]


def _cut_chat(url: str, model: str) -> str:
    received = []
    with (
        openai_client(url) as client,
        client.chat.completions.stream(
            model=model, messages=[{"role": "user", "content": PROMPT}]
        ) as events,
        pytest.raises(openai.APIError),
    ):
        for event in events:
            if event.type == "content.delta":
                received.append(event.delta)
    return "".join(received)


def _cut_responses(url: str, model: str) -> str:
    with openai_client(url) as client, client.responses.stream(model=model, input=PROMPT) as events:
        seen = list(events)
        with pytest.raises(RuntimeError, match=r"response\.completed"):
            events.get_final_response()
    kinds = [event.type for event in seen]
    assert kinds[-2:] == ["error", "response.failed"]
    return "".join(event.delta for event in seen if event.type == "response.output_text.delta")


def _cut_anthropic(url: str, model: str) -> str:
    received = []
    messages: Any = [{"role": "user", "content": PROMPT}]
    with (
        anthropic_client(url) as client,
        client.messages.stream(model=model, max_tokens=64, messages=messages) as events,
        pytest.raises(anthropic.APIStatusError),
    ):
        received.extend(events.text_stream)
    return "".join(received)


def _cut_gemini(url: str, model: str) -> str:
    received = []
    with genai_client(url) as client, pytest.raises(genai_errors.APIError):
        for chunk in client.models.generate_content_stream(model=model, contents=PROMPT):
            received.append(chunk.text or "")
    return "".join(received)


_CUT = {
    "chat": _cut_chat,
    "responses": _cut_responses,
    "anthropic": _cut_anthropic,
    "gemini": _cut_gemini,
}


@pytest.mark.parametrize(
    ("client", "provider"),
    [
        ("chat", "anthropic"),
        ("responses", "gemini"),
        ("anthropic", "responses"),
        ("gemini", "chat"),
    ],
    ids=["chat-to-anthropic", "responses-to-gemini", "anthropic-to-responses", "gemini-to-chat"],
)
def test_stream_cut_off_upstream_ends_in_the_clients_error(
    translation_gateway: Gateway, upstream: FakeUpstream, client: str, provider: str
) -> None:
    """Two words arrive, then the upstream drops the connection: the client got the words,
    then an error its SDK raises, and no clean end."""
    drop_after = _PREAMBLE[provider] + 2
    upstream.script({"words": _WORDS, "drop": "after_chunks", "drop_after": drop_after})
    assert _CUT[client](translation_gateway.url, MODEL[provider]) == "one two"
    upstream.wait_for_event("dropped", request_id=only_request(upstream)["id"])


# --- Token counting ----------------------------------------------------------------------------

_COUNT_PATH = {
    "responses": "/v1/responses/input_tokens",
    "gemini": "/v1beta/models/gemini-upstream:countTokens",
    "anthropic": "/v1/messages/count_tokens",
}


@pytest.mark.parametrize("provider", ["gemini", "responses"])
def test_anthropic_count_tokens_asks_the_upstream_counter(
    translation_gateway: Gateway, upstream: FakeUpstream, provider: str
) -> None:
    upstream.script({"usage": {"input": 321}})
    with anthropic_client(translation_gateway.url) as client:
        raw = client.messages.with_raw_response.count_tokens(
            model=MODEL[provider], messages=[{"role": "user", "content": PROMPT}]
        )
    assert raw.parse().input_tokens == 321
    assert raw.headers["x-switchyard-token-count"] == "upstream"
    request = only_request(upstream)
    assert request["path"] == _COUNT_PATH[provider]
    assert_signed(request, provider)
    body = request["json"]
    if provider == "gemini":
        embedded = body["generateContentRequest"]
        assert embedded["model"] == "models/gemini-upstream"
        assert user_texts("gemini", embedded) == [PROMPT]
    else:
        assert body["model"] == "resp-upstream"
        assert user_texts("responses", body) == [PROMPT]


def test_anthropic_count_tokens_estimates_for_a_chat_only_account(
    translation_gateway: Gateway, upstream: FakeUpstream
) -> None:
    """Chat Completions has no counting endpoint: a local estimate, labelled as one."""
    with anthropic_client(translation_gateway.url) as client:
        raw = client.messages.with_raw_response.count_tokens(
            model=MODEL["chat"], messages=[{"role": "user", "content": PROMPT}]
        )
    assert raw.headers["x-switchyard-token-count"] == "estimate"
    assert 1 <= raw.parse().input_tokens <= len(PROMPT)
    assert upstream.requests() == []


def test_genai_count_tokens_asks_the_anthropic_counter(
    translation_gateway: Gateway, upstream: FakeUpstream
) -> None:
    upstream.script({"usage": {"input": 654}})
    with genai_client(translation_gateway.url) as client:
        counted = client.models.count_tokens(model=MODEL["anthropic"], contents=PROMPT)
    assert counted.total_tokens == 654
    assert counted.sdk_http_response is not None and counted.sdk_http_response.headers
    assert counted.sdk_http_response.headers["x-switchyard-token-count"] == "upstream"
    request = only_request(upstream)
    assert request["path"] == _COUNT_PATH["anthropic"]
    assert_signed(request, "anthropic")
    assert request["json"]["model"] == "claude-upstream"
    assert user_texts("anthropic", request["json"]) == [PROMPT]
