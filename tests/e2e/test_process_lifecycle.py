"""The gateway process as an operator meets it: a bad config stops it before it listens,
and SIGTERM ends it, workers included, with every usage record written."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.clients import CHAT, http_client, post
from tests.e2e.harness import (
    PROVIDER_KEYS,
    REPO_ROOT,
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
