"""``make run`` with nothing configured: no config file, no provider keys, only the demo key.

The embedded default config serves every protocol from the built-in demo provider, so each
SDK gets an answer that says where it came from.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.clients import anthropic_client, genai_client, http_client, openai_client
from tests.e2e.harness import CLIENT_KEY, Gateway, running_gateway

pytestmark = pytest.mark.e2e

PROMPT = "ping from the demo test"
MODEL = "switchyard-demo"


@pytest.fixture(scope="module")
def demo_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    # No config argument; the harness also removes OPENAI_API_KEY, ANTHROPIC_API_KEY and
    # GEMINI_API_KEY from the environment, so only the demo account can exist.
    with running_gateway(tmp_path_factory.mktemp("demo"), None, name="demo") as gateway:
        yield gateway


def _assert_demo_reply(text: str) -> None:
    assert "demo provider" in text
    assert f'"{PROMPT}"' in text  # it quotes what it was told


def test_starts_with_the_demo_account_only(demo_gateway: Gateway) -> None:
    with http_client(demo_gateway.url) as client:
        ready = client.get("/readyz").json()
        models = client.get("/v1/models", headers={"authorization": f"Bearer {CLIENT_KEY}"})
    assert ready["accounts"] == 1
    assert [model["id"] for model in models.json()["data"]] == [MODEL]
    banner = demo_gateway.log_text()
    assert f"Switchyard listening on {demo_gateway.url}" in banner
    assert "embedded default" in banner


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_openai_sdk(demo_gateway: Gateway, stream: bool) -> None:
    messages = [{"role": "user", "content": PROMPT}]
    with openai_client(demo_gateway.url) as client:
        if stream:
            with client.chat.completions.create(
                model=MODEL, messages=messages, stream=True
            ) as chunks:
                chat = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            with client.responses.stream(model=MODEL, input=PROMPT) as events:
                responses = events.get_final_response().output_text
        else:
            completion = client.chat.completions.create(model=MODEL, messages=messages)
            chat = completion.choices[0].message.content or ""
            responses = client.responses.create(model=MODEL, input=PROMPT).output_text
    _assert_demo_reply(chat)
    _assert_demo_reply(responses)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_anthropic_sdk(demo_gateway: Gateway, stream: bool) -> None:
    messages = [{"role": "user", "content": PROMPT}]
    with anthropic_client(demo_gateway.url) as client:
        if stream:
            with client.messages.stream(model=MODEL, max_tokens=256, messages=messages) as events:
                text = "".join(events.text_stream)
        else:
            message = client.messages.create(model=MODEL, max_tokens=256, messages=messages)
            text = "".join(block.text for block in message.content if block.type == "text")
        counted = client.messages.count_tokens(model=MODEL, messages=messages)
    _assert_demo_reply(text)
    assert counted.input_tokens > 0


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_genai_sdk(demo_gateway: Gateway, stream: bool) -> None:
    with genai_client(demo_gateway.url) as client:
        if stream:
            pieces = client.models.generate_content_stream(model=MODEL, contents=PROMPT)
            text = "".join(chunk.text or "" for chunk in pieces)
        else:
            text = client.models.generate_content(model=MODEL, contents=PROMPT).text or ""
        counted = client.models.count_tokens(model=MODEL, contents=PROMPT)
    _assert_demo_reply(text)
    assert (counted.total_tokens or 0) > 0


def test_demo_requests_are_logged(demo_gateway: Gateway) -> None:
    with http_client(demo_gateway.url) as client:
        response = client.post(
            "/v1/chat/completions",
            json={"messages": [{"role": "user", "content": PROMPT}]},  # the default model
            headers={"authorization": f"Bearer {CLIENT_KEY}"},
        )
    assert response.status_code == 200
    _assert_demo_reply(response.json()["choices"][0]["message"]["content"])
    record = demo_gateway.access_record(response.headers["x-switchyard-request-id"])
    assert (record["account"], record["model"], record["key"]) == ("demo", MODEL, "demo")
    assert record["usage"]["output"] > 0
