"""The access log records the usage the upstream reported, in canonical form, for streamed
and whole replies of every protocol.

Canonical usage (app/canonical/usage.py, PROTOCOLS.md 7.13): ``input`` counts every prompt
token, cache reads and writes included; ``output`` counts every generated token, reasoning
included. The fake is scripted with Anthropic-style numbers (input *excluding* cache tokens),
so the expected record is computed here from the script and what each wire format can carry.
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.clients import ANTHROPIC, CHAT, GEMINI, RESPONSES, Wire, post
from tests.e2e.harness import Gateway
from tests.fake_upstream import FakeUpstream

pytestmark = pytest.mark.e2e

SCRIPTED = {"input": 100, "output": 40, "cache_read": 30, "cache_write": 20, "reasoning": 10}

# Which wire formats have a field for cache writes and for reasoning tokens (as the fake
# renders them): Chat has prompt_tokens_details.cache_write_tokens, Anthropic
# cache_creation_input_tokens; Responses, Gemini and Chat report reasoning, Anthropic does not.
_REPORTS_CACHE_WRITE = {"chat": True, "responses": False, "anthropic": True, "gemini": False}
_REPORTS_REASONING = {"chat": True, "responses": True, "anthropic": False, "gemini": True}


def canonical_usage(wire: Wire) -> dict[str, int]:
    return {
        "input": SCRIPTED["input"] + SCRIPTED["cache_read"] + SCRIPTED["cache_write"],
        "output": SCRIPTED["output"],
        "cache_read": SCRIPTED["cache_read"],
        "cache_write": SCRIPTED["cache_write"] if _REPORTS_CACHE_WRITE[wire.name] else 0,
        "reasoning": SCRIPTED["reasoning"] if _REPORTS_REASONING[wire.name] else 0,
    }


CASES = [
    pytest.param(wire, stream, sse, id=f"{wire.name}-{label}")
    for wire in (CHAT, RESPONSES, ANTHROPIC, GEMINI)
    for stream, sse, label in (
        [(False, True, "whole"), (True, True, "stream")]
        + ([(True, False, "json-array-stream")] if wire is GEMINI else [])
    )
]


@pytest.mark.parametrize(("wire", "stream", "sse"), CASES)
def test_logged_usage_matches_the_upstreams(
    gateway: Gateway,
    upstream: FakeUpstream,
    http: httpx.Client,
    wire: Wire,
    stream: bool,
    sse: bool,
) -> None:
    upstream.script({"usage": SCRIPTED, "text": "counting tokens for the ledger"})
    response = post(http, wire, stream=stream, sse=sse)
    assert response.status_code == 200, response.text
    assert "counting" in response.text
    request_id = response.headers["x-switchyard-request-id"]
    record = gateway.access_record(request_id)
    assert record["usage"] == canonical_usage(wire)
    assert record["stream"] is stream
    assert record["status"] == 200
    assert record["outcome"] == "ok"
    assert record["key"] == "test"
    assert record["protocol"] == {"chat": "openai_chat", "responses": "openai_responses"}.get(
        wire.name, wire.name
    )
    assert record["model"] == wire.model
    assert record["account"] == {"chat": "openai", "responses": "openai"}.get(wire.name, wire.name)
