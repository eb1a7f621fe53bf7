"""Failover between accounts: retryable failures move the request to the next account
while nothing has reached the client; client errors do not; breakers and cooldowns
remember what happened (issue: the account pool).

Two Anthropic accounts on the fake serve ``pool-model``: ``primary`` (priority 0, upstream
name ``primary-up``) and ``backup`` (priority 1, ``backup-up``), so the fake's scripts can
target one of them by model name. Each test starts its own gateway: pool state is per
process and must not leak between tests.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.e2e.harness import CLIENT_KEY, PROVIDER_KEYS, Gateway, GatewayFactory
from tests.fake_upstream import FakeUpstream

pytestmark = pytest.mark.e2e

OVERLOADED_EVENT = (
    'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
    '"message":"Overloaded"}}\n\n'
)


def pool_config(upstream_url: str) -> str:
    return f"""
[server]
demo_chunk_delay_ms = 0
[server.timeouts]
connect = 2
first_byte = 1
idle = 2
total = 30
[server.failover]
max_attempts = 3

[[accounts]]
name = "primary"
type = "anthropic"
base_url = "{upstream_url}"
api_key_env = "FAKE_ANTHROPIC_KEY"
priority = 0
models = [{{ id = "pool-model", upstream = "primary-up" }}]

[[accounts]]
name = "backup"
type = "anthropic"
base_url = "{upstream_url}"
api_key_env = "FAKE_ANTHROPIC_KEY"
priority = 1
models = [{{ id = "pool-model", upstream = "backup-up" }}]

[[keys]]
name = "test"
env = "SWITCHYARD_DEMO_KEY"
"""


@pytest.fixture
def pool(gateway_factory: GatewayFactory, upstream: FakeUpstream) -> Gateway:
    return gateway_factory(pool_config(upstream.url), env=PROVIDER_KEYS, name="pool")


def ask(gateway: Gateway, *, stream: bool = False) -> httpx.Response:
    body: dict[str, Any] = {
        "model": "pool-model",
        "max_tokens": 64,
        "stream": stream,
        "messages": [{"role": "user", "content": "hello"}],
    }
    headers = {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01"}
    with httpx.Client(timeout=20) as client:
        return client.post(f"{gateway.url}/v1/messages", json=body, headers=headers)


def upstream_models(upstream: FakeUpstream) -> list[str]:
    return [request["json"]["model"] for request in upstream.requests()]


@pytest.mark.parametrize("status", [500, 502, 503, 529])
def test_server_errors_fail_over_to_the_next_account(
    pool: Gateway, upstream: FakeUpstream, status: int
) -> None:
    upstream.script({"match": "primary-up", "status": status}, {"text": "from the backup"})
    response = ask(pool)
    assert response.status_code == 200
    assert response.json()["content"][0]["text"] == "from the backup"
    assert upstream_models(upstream) == ["primary-up", "backup-up"]


def test_a_rate_limit_fails_over_and_the_account_cools_down(
    pool: Gateway, upstream: FakeUpstream
) -> None:
    upstream.script({"match": "primary-up", "status": 429, "headers": {"retry-after": "30"}})
    assert ask(pool).status_code == 200
    assert ask(pool).status_code == 200  # primary is held for 30 s: straight to the backup
    assert upstream_models(upstream) == ["primary-up", "backup-up", "backup-up"]


def test_a_client_error_is_passed_through_without_failover(
    pool: Gateway, upstream: FakeUpstream
) -> None:
    error = {"type": "error", "error": {"type": "invalid_request_error", "message": "no"}}
    upstream.script({"match": "primary-up", "status": 400, "body": error})
    response = ask(pool)
    assert response.status_code == 400
    assert response.json() == error
    assert upstream_models(upstream) == ["primary-up"]
    assert ask(pool).status_code == 200  # the breaker was not touched: primary again
    assert upstream_models(upstream) == ["primary-up", "primary-up"]


def test_refused_credentials_disable_the_account(pool: Gateway, upstream: FakeUpstream) -> None:
    upstream.script({"match": "primary-up", "status": 401})
    assert ask(pool).status_code == 200
    assert ask(pool).status_code == 200
    assert upstream_models(upstream) == ["primary-up", "backup-up", "backup-up"]
    assert "account primary disabled" in pool.log_text()


def test_a_connection_dropped_before_the_reply_fails_over(
    pool: Gateway, upstream: FakeUpstream
) -> None:
    upstream.script({"match": "primary-up", "drop": "before_headers"})
    assert ask(pool).status_code == 200
    assert upstream_models(upstream) == ["primary-up", "backup-up"]


def test_a_first_byte_timeout_fails_over(pool: Gateway, upstream: FakeUpstream) -> None:
    upstream.script({"match": "primary-up", "delay_ms": 2500})
    assert ask(pool).status_code == 200
    assert upstream_models(upstream)[-1] == "backup-up"


def test_an_error_as_the_first_stream_event_fails_over(
    pool: Gateway, upstream: FakeUpstream
) -> None:
    upstream.script(
        {"match": "primary-up", "chunks": [OVERLOADED_EVENT]}, {"text": "streamed from the backup"}
    )
    response = ask(pool, stream=True)
    assert response.status_code == 200
    assert "event: error" not in response.text
    assert response.text.count("event: message_start") == 1
    assert "streamed" in response.text and "event: message_stop" in response.text
    assert upstream_models(upstream) == ["primary-up", "backup-up"]


def test_a_failure_after_the_first_byte_ends_the_stream_with_an_error_and_no_retry(
    pool: Gateway, upstream: FakeUpstream
) -> None:
    upstream.script(
        {
            "match": "primary-up",
            "drop": "after_chunks",
            "drop_after": 3,
            "text": "one two three four five six",
        }
    )
    response = ask(pool, stream=True)
    assert response.status_code == 200
    assert response.text.count("event: message_start") == 1
    assert response.text.rstrip().split("\n\n")[-1].startswith("event: error")
    assert upstream_models(upstream) == ["primary-up"]


def test_when_every_account_fails_the_last_error_reaches_the_client(
    pool: Gateway, upstream: FakeUpstream
) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}
    upstream.script(
        {"match": "primary-up", "status": 529, "body": overloaded},
        {"match": "backup-up", "status": 529, "body": overloaded},
    )
    response = ask(pool)
    assert response.status_code == 529
    assert response.json() == overloaded
    assert upstream_models(upstream) == ["primary-up", "backup-up"]


def test_a_session_sticks_to_its_account_and_lets_go_when_it_fails(
    gateway_factory: GatewayFactory, upstream: FakeUpstream
) -> None:
    gateway = gateway_factory(
        pool_config(upstream.url).replace("priority = 1", "priority = 0"),
        env=PROVIDER_KEYS,
        name="sticky",
    )
    headers = {"x-api-key": CLIENT_KEY, "x-claude-code-session-id": "session-42"}
    body = {"model": "pool-model", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client(timeout=20) as client:
        for _ in range(8):
            assert (
                client.post(f"{gateway.url}/v1/messages", json=body, headers=headers).status_code
                == 200
            )
        first = upstream_models(upstream)[0]
        assert upstream_models(upstream) == [first] * 8
        upstream.reset()
        upstream.script({"match": first, "status": 529})
        assert (
            client.post(f"{gateway.url}/v1/messages", json=body, headers=headers).status_code == 200
        )
    other = "backup-up" if first == "primary-up" else "primary-up"
    assert upstream_models(upstream) == [first, other]


def test_the_concurrency_limit_holds_and_overflow_gets_429_with_retry_after(
    gateway_factory: GatewayFactory, upstream: FakeUpstream
) -> None:
    config = (
        pool_config(upstream.url)
        .replace("priority = 0\n", "priority = 0\nmax_concurrency = 1\n")
        .replace("priority = 1\n", "priority = 1\nmax_concurrency = 1\n")
    )
    gateway = gateway_factory(config, env=PROVIDER_KEYS, name="limited")
    upstream.script(*[{"delay_ms": 600} for _ in range(3)])

    async def burst() -> list[httpx.Response]:
        body = {
            "model": "pool-model",
            "max_tokens": 8,
            "messages": [{"role": "user", "content": "hi"}],
        }
        async with httpx.AsyncClient(timeout=20) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        f"{gateway.url}/v1/messages", json=body, headers={"x-api-key": CLIENT_KEY}
                    )
                    for _ in range(3)
                )
            )

    responses = asyncio.run(burst())
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 429]  # two accounts, one slot each, no queue
    refused = next(r for r in responses if r.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1
    assert sorted(upstream_models(upstream)) == ["backup-up", "primary-up"]


def test_the_admin_endpoint_shows_breakers_behind_its_token(
    gateway_factory: GatewayFactory, upstream: FakeUpstream
) -> None:
    config = pool_config(upstream.url).replace(
        "[server]\n", '[server]\nadmin_token_env = "ADMIN_TOKEN"\n', 1
    )
    gateway = gateway_factory(
        config, env={**PROVIDER_KEYS, "ADMIN_TOKEN": "adm-secret"}, name="admin"
    )
    upstream.script({"match": "primary-up", "status": 401})
    assert ask(gateway).status_code == 200
    with httpx.Client(timeout=10) as client:
        denied = client.get(
            f"{gateway.url}/admin/accounts", headers={"authorization": f"Bearer {CLIENT_KEY}"}
        )
        shown = client.get(
            f"{gateway.url}/admin/accounts", headers={"authorization": "Bearer adm-secret"}
        )
    assert denied.status_code == 401
    accounts = {a["name"]: a for a in shown.json()["accounts"]}
    assert accounts["primary"]["disabled"] and accounts["primary"]["last_failure"] == "credential"
    assert accounts["backup"]["breaker"] == "closed" and accounts["backup"]["requests"] == 1
    assert "adm-secret" not in shown.text and "sk-ant-fake" not in shown.text


def test_hot_reload_swaps_models_without_dropping_in_flight_and_refuses_bad_files(
    gateway_factory: GatewayFactory, upstream: FakeUpstream
) -> None:
    config = pool_config(upstream.url)
    gateway = gateway_factory(config, env=PROVIDER_KEYS, name="reload")
    path = gateway.log_path.with_suffix(".toml")
    body = {"model": "new-model", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-api-key": CLIENT_KEY}
    words = " ".join(f"w{n}" for n in range(12))
    upstream.script({"match": "primary-up", "text": words, "chunk_delay_ms": 150})

    async def scenario() -> tuple[httpx.Response, list[int]]:
        async with httpx.AsyncClient(timeout=30) as client:
            slow = asyncio.ensure_future(
                client.post(
                    f"{gateway.url}/v1/messages",
                    headers=headers,
                    json={**body, "model": "pool-model", "stream": True},
                )
            )
            await asyncio.sleep(0.3)  # the stream is running on the old config
            before = await client.post(f"{gateway.url}/v1/messages", json=body, headers=headers)
            statuses = [before.status_code]
            path.write_text(
                config.replace(
                    '{ id = "pool-model", upstream = "primary-up" }',
                    '{ id = "pool-model", upstream = "primary-up" }, '
                    '{ id = "new-model", upstream = "primary-up" }',
                ),
                encoding="utf-8",
            )
            for _ in range(40):
                response = await client.post(
                    f"{gateway.url}/v1/messages", json=body, headers=headers
                )
                statuses.append(response.status_code)
                if response.status_code == 200:
                    break
                await asyncio.sleep(0.2)
            return await slow, statuses

    streamed, statuses = asyncio.run(scenario())
    assert statuses[0] == 404 and statuses[-1] == 200  # unknown before, served after
    assert streamed.status_code == 200
    assert "event: message_stop" in streamed.text and "w11" in streamed.text

    path.write_text("[[accounts]\nname = ", encoding="utf-8")  # not TOML
    deadline = time.monotonic() + 10
    while "config reload refused" not in gateway.log_text():
        assert time.monotonic() < deadline, gateway.log_text()[-2000:]
        time.sleep(0.2)
    with httpx.Client(timeout=10) as client:
        kept = client.post(f"{gateway.url}/v1/messages", json=body, headers=headers)
    assert kept.status_code == 200  # the running config stayed


def test_the_breaker_opens_after_the_configured_failures_and_closes_after_a_probe(
    gateway_factory: GatewayFactory, upstream: FakeUpstream
) -> None:
    config = (
        pool_config(upstream.url)
        .replace(
            "[server.failover]",
            "[server.breaker]\nconsecutive_failures = 2\ncooldown = 1\nmin_window_requests = 100\n"
            "[server.failover]",
        )
        .replace("[server]\n", '[server]\nadmin_token_env = "ADMIN_TOKEN"\n', 1)
    )
    gateway = gateway_factory(config, env={**PROVIDER_KEYS, "ADMIN_TOKEN": "adm"}, name="brk")
    upstream.script({"match": "primary-up", "status": 500}, {"match": "primary-up", "status": 500})
    for _ in range(3):
        assert ask(gateway).status_code == 200
    # two failures open it: the third request goes straight to the backup
    assert upstream_models(upstream) == ["primary-up", "backup-up"] * 2 + ["backup-up"]
    time.sleep(1.3)  # past the cooldown: half-open, one probe goes to the primary
    assert ask(gateway).status_code == 200
    assert ask(gateway).status_code == 200
    assert upstream_models(upstream)[-2:] == ["primary-up", "primary-up"]
    with httpx.Client(timeout=10) as client:
        shown = client.get(
            f"{gateway.url}/admin/accounts", headers={"authorization": "Bearer adm"}
        ).json()
    primary = next(a for a in shown["accounts"] if a["name"] == "primary")
    assert (primary["breaker"], primary["breaker_opened"]) == ("closed", 1)
