"""The gateway process as an operator meets it: a bad config stops it before it listens,
SIGHUP reloads it only when the file is valid, and SIGTERM ends it, workers included,
with every usage record written."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.clients import CHAT, http_client, post
from tests.e2e.harness import (
    CLIENT_KEY,
    PROVIDER_KEYS,
    REPO_ROOT,
    Gateway,
    GatewayFactory,
    gateway_env,
    session_config,
)
from tests.fake_upstream import FakeUpstream

pytestmark = pytest.mark.e2e


def test_bad_config_is_refused_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[[accounts]]\nname = "x"\ntype = "openai"\nbase_ulr = "http://127.0.0.1:9"\n'
    )
    finished = subprocess.run(
        [sys.executable, "-m", "app", "--config", str(config), "--check"],
        cwd=REPO_ROOT,
        env=gateway_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert finished.returncode == 2
    assert "accounts[0].base_ulr: unknown key" in finished.stderr


def test_sigterm_stops_every_process_and_flushes_the_ledger(
    gateway_factory: GatewayFactory, upstream: FakeUpstream
) -> None:
    gateway = gateway_factory(session_config(upstream.url), env=PROVIDER_KEYS, name="lifecycle")
    workers = [
        int(pid) for pid in re.findall(r"Spawning worker-\d+ with PID: (\d+)", gateway.log_text())
    ]
    assert workers
    with http_client(gateway.url) as client:
        response = post(client, CHAT)
    assert response.status_code == 200
    request_id = response.headers["x-switchyard-request-id"]

    # SIGTERM to the main process alone: it must take its workers down itself (the
    # factory's clean-up, which signals the whole process group, comes only after).
    gateway.process.send_signal(signal.SIGTERM)
    assert gateway.process.wait(timeout=10) == 0, gateway.log_text()
    # Records batched in memory are written on the way out, not lost.
    assert [r["request_id"] for r in gateway.access_records()] == [request_id]
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _spawned_workers(gateway: Gateway) -> list[int]:
    return [
        int(pid) for pid in re.findall(r"Spawning worker-\d+ with PID: (\d+)", gateway.log_text())
    ]


def _wait_for(predicate: Callable[[], bool], gateway: Gateway, what: str) -> None:
    deadline = time.monotonic() + 15
    while not predicate():
        assert time.monotonic() < deadline, f"{what}; log tail:\n{gateway.log_text()[-3000:]}"
        time.sleep(0.1)


def test_sighup_validates_the_file_then_replaces_workers_without_dropping_streams(
    gateway_factory: GatewayFactory, upstream: FakeUpstream
) -> None:
    config = session_config(upstream.url)
    gateway = gateway_factory(config, env=PROVIDER_KEYS, name="sighup")
    path = gateway.log_path.with_suffix(".toml")
    first = _spawned_workers(gateway)
    assert len(first) == 1
    headers = {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01"}
    body = {"max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}

    # A bad file: refused by the main process, the running worker stays and serves.
    path.write_text("[[accounts]\nname = ", encoding="utf-8")
    gateway.process.send_signal(signal.SIGHUP)
    _wait_for(lambda: "SIGHUP refused" in gateway.log_text(), gateway, "no refusal logged")
    with httpx.Client(timeout=10) as client:
        kept = client.post(
            f"{gateway.url}/v1/messages", json={**body, "model": "claude-test"}, headers=headers
        )
    assert kept.status_code == 200
    assert _spawned_workers(gateway) == first

    # A good file and a stream longer than Granian's respawn delay: the new worker
    # takes new requests while the old one finishes the stream it holds.
    words = " ".join(f"w{n}" for n in range(25))
    upstream.script({"match": "claude-test", "text": words, "chunk_delay_ms": 200})

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            slow = asyncio.ensure_future(
                client.post(
                    f"{gateway.url}/v1/messages",
                    headers=headers,
                    json={**body, "model": "claude-test", "stream": True},
                )
            )
            await asyncio.sleep(0.3)
            path.write_text(
                config.replace('aliases = ["claude-nick"]', 'aliases = ["claude-nick", "sighup"]'),
                encoding="utf-8",
            )
            gateway.process.send_signal(signal.SIGHUP)
            for _ in range(150):  # Granian starts the new worker before stopping the old
                if len(_spawned_workers(gateway)) == 2:
                    break
                await asyncio.sleep(0.1)
            # Until it stops, the old worker shares the socket; its own file watch
            # picks the change up within a second.
            for _ in range(50):
                renamed = await client.post(
                    f"{gateway.url}/v1/messages", json={**body, "model": "sighup"}, headers=headers
                )
                if renamed.status_code == 200:
                    break
                await asyncio.sleep(0.1)
            return await slow, renamed

    streamed, renamed = asyncio.run(scenario())
    assert renamed.status_code == 200
    assert streamed.status_code == 200
    assert "event: message_stop" in streamed.text and "w24" in streamed.text
    replaced = _spawned_workers(gateway)
    assert len(replaced) == 2 and replaced[1] != first[0]
    _wait_for(lambda: not _alive(first[0]), gateway, "the old worker is still running")
    assert "replacing the workers gracefully" in gateway.log_text()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
