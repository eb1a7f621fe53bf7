"""Failover between accounts: retryable failures move the request to the next account
while nothing has reached the client; client errors do not; breakers and cooldowns
remember what happened (issue: the account pool).

Two Anthropic accounts on the fake serve ``pool-model``: ``primary`` (priority 0, upstream
name ``primary-up``) and ``backup`` (priority 1, ``backup-up``), so the fake's scripts can
target one of them by model name. Each test starts its own gateway: pool state is per
process and must not leak between tests. The later tests add faults below HTTP (a port
nobody serves, a stall or a cut after the headers), a burst measured at the fake, and config
reloads under a steady closed loop of clients (tests/e2e/pool_load.py).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import httpx
import pytest

from tests.e2e.harness import CLIENT_KEY, PROVIDER_KEYS, Gateway, GatewayFactory, free_port
from tests.e2e.pool_load import (
    Exchange,
    LoopClient,
    closed_loop,
    log_events,
    message_body,
    message_problem,
    stream_problem,
)
from tests.fake_upstream import FakeUpstream
from tests.fake_upstream.contract import EventType

pytestmark = pytest.mark.e2e

OVERLOADED_EVENT = (
    'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
    '"message":"Overloaded"}}\n\n'
)


def pool_config(upstream_url: str, *, primary_url: str | None = None) -> str:
    """``primary_url``: somewhere else for the primary account (e.g. a port nobody serves)."""
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
base_url = "{primary_url or upstream_url}"
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


def test_the_last_accounts_in_band_error_reaches_the_client_and_counts_as_a_failure(
    gateway_factory: GatewayFactory, upstream: FakeUpstream
) -> None:
    gateway = gateway_factory(with_admin(pool_config(upstream.url)), env=ADMIN_ENV, name="inband")
    upstream.script(
        {"match": "primary-up", "chunks": [OVERLOADED_EVENT]},
        {"match": "backup-up", "chunks": [OVERLOADED_EVENT]},
    )
    response = ask(gateway, stream=True)
    assert response.status_code == 200  # the headers were the upstream's
    assert "overloaded_error" in response.text
    assert upstream_models(upstream) == ["primary-up", "backup-up"]
    primary, backup = attempts(gateway, response.headers["x-switchyard-request-id"], 2)
    assert (primary["outcome"], backup["outcome"]) == ("upstream_error", "upstream_error")
    assert "overloaded_error" in backup["error"]
    accounts = admin_accounts(gateway)
    assert accounts["backup"]["last_failure"] == "overloaded"
    assert accounts["backup"]["failures"] == 1


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


# --- Faults at the transport level, a larger burst, and reloads under load.

ADMIN_TOKEN = "adm-failover-token"
ADMIN_ENV = {**PROVIDER_KEYS, "ADMIN_TOKEN": ADMIN_TOKEN}
DEFAULT_TEXT = "Hello from the fake upstream."  # the fake's answer when nothing is scripted


def edited(config: str, old: str, new: str) -> str:
    """``config`` with ``old`` replaced; a test whose edit no longer applies fails here."""
    assert old in config, old
    return config.replace(old, new)


def with_admin(config: str) -> str:
    return edited(config, "[server]\n", '[server]\nadmin_token_env = "ADMIN_TOKEN"\n')


def admin_accounts(gateway: Gateway) -> dict[str, dict[str, Any]]:
    with httpx.Client(timeout=10) as client:
        shown = client.get(
            f"{gateway.url}/admin/accounts", headers={"authorization": f"Bearer {ADMIN_TOKEN}"}
        )
    assert shown.status_code == 200, shown.text
    return {account["name"]: account for account in shown.json()["accounts"]}


def attempts(gateway: Gateway, request_id: str, count: int) -> list[dict[str, Any]]:
    """The access-log records of one client request, one per account tried, in order.

    The ledger writes them in the background, so poll."""
    deadline = time.monotonic() + 5
    while True:
        records = [r for r in gateway.access_records() if r.get("request_id") == request_id]
        if len(records) >= count:
            return records
        assert time.monotonic() < deadline, f"{records}\n{gateway.log_text()[-2000:]}"
        time.sleep(0.05)


def test_a_refused_connection_fails_over_and_counts_as_a_connection_failure(
    gateway_factory: GatewayFactory, upstream: FakeUpstream
) -> None:
    dead_url = f"http://127.0.0.1:{free_port()}"  # nothing listens: connect() is refused
    config = with_admin(pool_config(upstream.url, primary_url=dead_url))
    gateway = gateway_factory(config, env=ADMIN_ENV, name="refused")
    upstream.script({"match": "backup-up", "text": "from the backup"})

    response = ask(gateway)

    assert response.status_code == 200
    assert response.json()["content"][0]["text"] == "from the backup"
    assert upstream_models(upstream) == ["backup-up"]  # the primary reached no server
    primary, backup = attempts(gateway, response.headers["x-switchyard-request-id"], 2)
    assert (primary["account"], primary["outcome"]) == ("primary", "error")
    assert "could not connect" in primary["error"]
    assert (backup["account"], backup["status"], backup["outcome"]) == ("backup", 200, "ok")
    accounts = admin_accounts(gateway)
    assert (accounts["primary"]["last_failure"], accounts["primary"]["failures"]) == (
        "connection",
        1,
    )
    assert (accounts["backup"]["last_failure"], accounts["backup"]["requests"]) == (None, 1)


# The reply's headers arrive, then nothing: the fake stalls (longer than the idle deadline)
# or cuts the connection, before the first event or byte of the body.
STALL = {"hang_ms": 2500, "hang_after": 0}
RESET = {"drop": "after_chunks", "drop_after": 0}


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "message"])
@pytest.mark.parametrize(
    ("fault", "fake_saw", "logged", "failure"),
    [
        (STALL, "client_disconnected", "timed out", "timeout"),
        (RESET, "dropped", "closed the connection early", "connection"),
    ],
    ids=["idle-timeout", "reset"],
)
def test_a_failure_after_the_headers_before_the_first_byte_fails_over_cleanly(
    gateway_factory: GatewayFactory,
    upstream: FakeUpstream,
    stream: bool,
    fault: dict[str, Any],
    fake_saw: EventType,
    logged: str,
    failure: str,
) -> None:
    # The first-byte deadline is far above the stall, so only the idle deadline (which
    # starts once the headers are in) can end the stall before the primary answers after all.
    timeouts = ("first_byte = 1\nidle = 2\n", "first_byte = 5\nidle = 0.5\n")
    config = with_admin(edited(pool_config(upstream.url), *timeouts))
    gateway = gateway_factory(config, env=ADMIN_ENV, name="after-headers")
    upstream.script(
        {"match": "primary-up", "text": "late words from the primary", **fault},
        {"match": "backup-up", "text": "from the backup"},
    )

    response = ask(gateway, stream=stream)

    assert response.status_code == 200
    check = stream_problem if stream else message_problem
    assert check(response.text, "from the backup") is None, response.text
    assert upstream_models(upstream) == ["primary-up", "backup-up"]
    primary_request = upstream.requests()[0]["id"]
    event = upstream.wait_for_event(fake_saw, request_id=primary_request)
    assert event["chunks_sent"] == 0
    first, second = attempts(gateway, response.headers["x-switchyard-request-id"], 2)
    assert (first["account"], first["outcome"]) == ("primary", "upstream_error")
    assert logged in first["error"]
    assert (second["account"], second["outcome"]) == ("backup", "ok")
    assert admin_accounts(gateway)["primary"]["last_failure"] == failure


BURST = 30


def test_a_burst_never_exceeds_any_accounts_limit_and_the_overflow_gets_429(
    gateway_factory: GatewayFactory, upstream: FakeUpstream
) -> None:
    limits = "max_concurrency = 2\nmax_waiting = 4\nmax_wait = 3\n"
    config = pool_config(upstream.url)
    for priority in ("priority = 0\n", "priority = 1\n"):
        config = edited(config, priority, priority + limits)
    config = with_admin(config)
    gateway = gateway_factory(config, env=ADMIN_ENV, name="burst")
    # Every upstream answer takes 0.6 s, far longer than the burst takes to arrive.
    upstream.script(*[{"delay_ms": 600} for _ in range(BURST)])

    async def burst() -> list[httpx.Response]:
        body = {
            "model": "pool-model",
            "max_tokens": 8,
            "messages": [{"role": "user", "content": "hi"}],
        }
        limits = httpx.Limits(max_connections=BURST)
        async with httpx.AsyncClient(timeout=20, limits=limits) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        f"{gateway.url}/v1/messages", json=body, headers={"x-api-key": CLIENT_KEY}
                    )
                    for _ in range(BURST)
                )
            )

    responses = asyncio.run(burst())

    served = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    # Two slots on each account, plus four requests queued for the backup's slots: only the
    # last account a request may try lets it wait (app/services/relay.py, _wait_for_slot).
    assert len(served) == 2 + 2 + 4
    assert all(r.json()["content"][0]["text"] == DEFAULT_TEXT for r in served)
    assert {r.status_code for r in refused} == {429}
    assert all(int(r.headers["retry-after"]) >= 1 for r in refused)
    assert {r.json()["error"]["type"] for r in refused} == {"rate_limit_error"}
    # Measured at the upstream: never more than two at once per account, and the burst did
    # fill both accounts.
    peaks = {model: load["max_in_flight"] for model, load in upstream.load().items()}
    assert peaks == {"primary-up": 2, "backup-up": 2}
    assert sorted(upstream_models(upstream)) == ["backup-up"] * 6 + ["primary-up"] * 2
    accounts = admin_accounts(gateway)
    assert [(a["in_flight"], a["waiting"]) for a in accounts.values()] == [(0, 0), (0, 0)]


SLOW_TEXT = " ".join(f"s{n}" for n in range(12))
LOAD_CLIENTS = [
    *[LoopClient("pool-model", stream=False, expected_text=DEFAULT_TEXT)] * 4,
    *[LoopClient("pool-model", stream=True, expected_text=DEFAULT_TEXT)] * 2,
    # About a second each: one is always mid-stream when the config is swapped.
    *[LoopClient("slow-model", stream=True, expected_text=SLOW_TEXT)] * 2,
]


def reloadable_config(
    upstream_url: str, *, weight: float = 1, alias: bool = False, swapped: bool = False
) -> str:
    """The pool with a slow model too; ``weight`` is the primary's, ``alias`` adds
    ``extra-model``, ``swapped`` makes the backup the first choice."""
    config = pool_config(upstream_url)
    for name in ("primary", "backup"):
        models = [
            f'{{ id = "pool-model", upstream = "{name}-up" }}',
            f'{{ id = "slow-model", upstream = "{name}-slow" }}',
        ]
        if alias:
            models.append(f'{{ id = "extra-model", upstream = "{name}-up" }}')
        line = f'models = [{{ id = "pool-model", upstream = "{name}-up" }}]'
        config = edited(config, line, f"models = [{', '.join(models)}]")
    config = edited(config, 'name = "primary"\n', f'name = "primary"\nweight = {weight}\n')
    if swapped:
        config = (
            config.replace("priority = 0", "priority = 9")
            .replace("priority = 1", "priority = 0")
            .replace("priority = 9", "priority = 1")
        )
    return config


def reload_events(gateway: Gateway) -> list[dict[str, Any]]:
    return [
        event
        for event in log_events(gateway, "switchyard.gateway")
        if event["message"].startswith("config reload")
    ]


def test_hot_reloads_under_a_steady_load_drop_nothing(
    gateway_factory: GatewayFactory, upstream: FakeUpstream
) -> None:
    gateway = gateway_factory(reloadable_config(upstream.url), env=PROVIDER_KEYS, name="load")
    path = gateway.log_path.with_suffix(".toml")
    upstream.script(
        *[{"match": "-slow", "text": SLOW_TEXT, "chunk_delay_ms": 60} for _ in range(40)]
    )
    # Each new file: what the log must say, and what extra-model answers once it is in force.
    files = [
        ("config reloaded", reloadable_config(upstream.url, weight=3, alias=True), 200),
        ("config reloaded", reloadable_config(upstream.url, weight=3, swapped=True), 404),
        ("config reload refused", reloadable_config(upstream.url, weight=0, swapped=True), 404),
    ]

    async def await_reload(seen: int) -> dict[str, Any]:
        deadline = time.monotonic() + 5  # the gateway looks at the file every second
        while len(events := await asyncio.to_thread(reload_events, gateway)) == seen:
            assert time.monotonic() < deadline, gateway.log_text()[-2000:]
            await asyncio.sleep(0.05)
        return events[-1]

    async def scenario() -> tuple[list[Exchange], list[float], list[str], list[int]]:
        stop = asyncio.Event()
        load = asyncio.ensure_future(closed_loop(gateway, LOAD_CLIENTS, stop))
        bounds, messages, probes = [time.time()], [], []
        async with httpx.AsyncClient(timeout=10, trust_env=False) as probe:
            await asyncio.sleep(0.2)
            for _, text, _ in files:
                seen = len(reload_events(gateway))
                await asyncio.to_thread(path.write_text, text, encoding="utf-8")
                event = await await_reload(seen)
                bounds.append(event["ts"])
                messages.append(event["message"])
                answer = await probe.post(
                    f"{gateway.url}/v1/messages",
                    json=message_body("extra-model", stream=False),
                    headers={"x-api-key": CLIENT_KEY},
                )
                probes.append(answer.status_code)
                await asyncio.sleep(0.1)
        stop.set()
        exchanges = await load
        return exchanges, [*bounds, time.time()], messages, probes

    exchanges, bounds, messages, probes = asyncio.run(scenario())

    assert len(messages) == len(files)
    for message, (expected, _, _) in zip(messages, files, strict=True):
        assert message.startswith(expected), message
    assert probes == [status for _, _, status in files]
    assert [x for x in exchanges if x.problem] == []  # every request: 200 and whole
    windows = list(itertools.pairwise(bounds))
    per_window = [sum(start <= x.sent < end for x in exchanges) for start, end in windows]
    assert all(count > 0 for count in per_window), per_window
    # Each swap (and the refusal) happened while a stream was being answered.
    for instant in bounds[1:-1]:
        assert any(x.stream and x.spans(instant) for x in exchanges), instant
    # The swaps took effect: the primary first, then (priority swapped) the backup first.
    # A request that chose its account just before a swap reaches the fake a moment later.
    settle = 0.25
    routed = [(r["received_at"], r["json"]["model"].split("-")[0]) for r in upstream.requests()]
    first_choice = {account for at, account in routed if bounds[1] + settle < at < bounds[2]}
    after_swap = {account for at, account in routed if bounds[2] + settle < at}
    assert (first_choice, after_swap) == ({"primary"}, {"backup"})
