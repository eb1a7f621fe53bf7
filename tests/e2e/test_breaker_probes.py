"""A half-open breaker lets a bounded number of probes through (``[server.breaker] probes``)
while the other requests go elsewhere; a probe that ends without a verdict on the account
gives its slot back (found by the chaos run: every request went to a half-open account,
so a hanging upstream cost each of them the first-byte timeout).

Two Anthropic accounts on the fake serve ``pool-model``: ``primary`` (priority 0, upstream
name ``primary-up``) and ``backup`` (priority 1, ``backup-up``). One failure opens the
primary's breaker for one second.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.harness import CLIENT_KEY, PROVIDER_KEYS, Gateway, GatewayFactory
from tests.fake_upstream import FakeUpstream

pytestmark = pytest.mark.e2e

COOLDOWN = 1.0


def probes_config(upstream_url: str) -> str:
    accounts = "".join(
        f"""
[[accounts]]
name = "{name}"
type = "anthropic"
base_url = "{upstream_url}"
api_key_env = "FAKE_ANTHROPIC_KEY"
priority = {priority}
models = [{{ id = "pool-model", upstream = "{name}-up" }}]
"""
        for name, priority in (("primary", 0), ("backup", 1))
    )
    return f"""
[server.timeouts]
first_byte = 5
[server.breaker]
consecutive_failures = 1
cooldown = {COOLDOWN}
min_window_requests = 100
probes = 1
{accounts}
[[keys]]
name = "test"
env = "SWITCHYARD_DEMO_KEY"
"""


@pytest.fixture
def pool(gateway_factory: GatewayFactory, upstream: FakeUpstream) -> Gateway:
    gateway = gateway_factory(probes_config(upstream.url), env=PROVIDER_KEYS, name="probes")
    upstream.script({"match": "primary-up", "status": 500})
    assert ask(gateway).status_code == 200  # the primary failed: the backup answered
    time.sleep(COOLDOWN + 0.3)  # past the cooldown: the primary's breaker is half-open
    return gateway


def ask(gateway: Gateway) -> httpx.Response:
    body = {"model": "pool-model", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01"}
    with httpx.Client(timeout=20) as client:
        return client.post(f"{gateway.url}/v1/messages", json=body, headers=headers)


def upstream_models(upstream: FakeUpstream) -> list[str]:
    return [request["json"]["model"] for request in upstream.requests()]


def test_one_probe_goes_to_a_half_open_account_and_the_rest_to_the_backup(
    pool: Gateway, upstream: FakeUpstream
) -> None:
    upstream.script({"match": "primary-up", "delay_ms": 1000, "text": "the probe"})
    with ThreadPoolExecutor(1) as runner:
        probe = runner.submit(ask, pool)
        time.sleep(0.3)  # the probe is waiting on the primary
        others = [ask(pool) for _ in range(4)]
        assert probe.result().json()["content"][0]["text"] == "the probe"
    assert [response.status_code for response in others] == [200] * 4
    assert (
        upstream_models(upstream) == ["primary-up", "backup-up", "primary-up"] + ["backup-up"] * 4
    )
    assert ask(pool).status_code == 200  # the probe succeeded: the primary is back
    assert upstream_models(upstream)[-1] == "primary-up"


def test_a_probe_answered_with_a_client_error_leaves_the_slot_to_the_next_request(
    pool: Gateway, upstream: FakeUpstream
) -> None:
    error = {"type": "error", "error": {"type": "invalid_request_error", "message": "no"}}
    upstream.script({"match": "primary-up", "status": 400, "body": error})
    assert ask(pool).status_code == 400  # the request's own fault: no verdict on the account
    assert ask(pool).status_code == 200
    assert upstream_models(upstream)[-2:] == ["primary-up", "primary-up"]
