"""The in-process harness drives the real app: its replies must be the gateway's real work."""

import asyncio

import orjson
import pytest

from loadtest import inproc


@pytest.fixture(scope="module")
def harness():
    # One per module: BlackSheep apps in one process share a default router.
    harness = inproc.Harness()
    asyncio.run(harness.app.start())
    yield harness
    asyncio.run(harness.app.stop())


def _reply(harness: inproc.Harness, name: str) -> bytes:
    case = next(case for case in inproc.CASES if case.name == name)
    body = case.body(case.stream)

    async def go() -> bytes:
        return await harness.request(case, body, inproc._headers(case, body))

    return asyncio.run(go())


def test_passthrough_relays_the_canned_chat_reply(harness):
    reply = orjson.loads(_reply(harness, "passthrough"))
    assert reply["object"] == "chat.completion"
    assert reply["choices"][0]["message"]["content"].startswith("Hello w1")


def test_anthropic_client_gets_a_translated_message(harness):
    reply = orjson.loads(_reply(harness, "anthropic-to-openai"))
    assert reply["type"] == "message"
    assert reply["content"][0]["text"].startswith("Hello w1")
    assert reply["usage"]["input_tokens"] == 24


def test_translated_stream_has_one_delta_per_chunk(harness):
    harness.set_chunks(7)
    try:
        events = _reply(harness, "anthropic-to-openai-stream").decode()
    finally:
        harness.set_chunks(20)
    assert events.count("event: content_block_delta") == 7
    assert events.rstrip().endswith('{"type":"message_stop"}')


def test_claude_code_payload_reaches_the_openai_account_translated(harness):
    reply = orjson.loads(_reply(harness, "claude-code-to-openai"))
    assert reply["type"] == "message"


def test_render_lists_every_case_with_its_chunk_cost():
    rows = [
        {"case": "passthrough", "us_per_request": 40.0},
        {"case": "passthrough-stream", "us_per_request": 150.0, "us_per_extra_chunk": 5.25},
    ]
    text = inproc.render(rows, 100, 1, "###")
    assert text.startswith("### In-process cost")
    assert "| passthrough | 40.0 | - |" in text
    assert "| passthrough-stream | 150.0 | 5.2 |" in text
