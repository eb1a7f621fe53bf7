"""Running the real gateway process for end-to-end tests, and reading what it logged.

The gateway is started the way an operator starts it (``python -m app --config ...``), so
Granian, its worker process and the access log are the real ones. Standard library only,
except for the test-side HTTP client (httpx, an SDK dependency).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]

# Client keys: the first is given to the gateway through an env var, the second only as
# its SHA-256 digest in the config file, so both ways of declaring a key are exercised.
CLIENT_KEY = "sk-switchyard-e2e-test-key"
SECOND_KEY = "sk-switchyard-e2e-second-key"
SECOND_KEY_SHA256 = hashlib.sha256(SECOND_KEY.encode()).hexdigest()

# Provider keys the gateway must sign upstream requests with (never the client's key).
PROVIDER_KEYS = {
    "FAKE_OPENAI_KEY": "sk-fake-openai-provider-key",
    "FAKE_ANTHROPIC_KEY": "sk-ant-fake-provider-key",
    "FAKE_GEMINI_KEY": "fake-gemini-provider-key",
}

# Variables that would change which config or which providers the gateway uses.
_SCRUBBED_ENV = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "SWITCHYARD_CONFIG",
    "SWITCHYARD_HOST",
    "SWITCHYARD_PORT",
    "SWITCHYARD_WORKERS",
    "SWITCHYARD_DEMO_KEY",
)

_READY_TIMEOUT = 20.0
_STOP_TIMEOUT = 10.0
_LOG_TIMEOUT = 5.0
_POLL = 0.05


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def gateway_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in _SCRUBBED_ENV}
    env.update(
        SWITCHYARD_DEMO_KEY=CLIENT_KEY,
        SWITCHYARD_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


@dataclass
class Gateway:
    """A running gateway process; ``url`` has no trailing slash."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    stopped: bool = False

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def json_lines(self) -> list[dict[str, Any]]:
        """Every JSON object line the gateway wrote so far (its logs and usage records)."""
        lines = []
        for line in self.log_text().splitlines():
            if not line.startswith("{"):
                continue
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                lines.append(value)
        return lines

    def access_records(self) -> list[dict[str, Any]]:
        """Every ``"event": "request"`` JSON line the gateway wrote so far."""
        return [line for line in self.json_lines() if line.get("event") == "request"]

    def access_record(self, request_id: str, *, timeout: float = _LOG_TIMEOUT) -> dict[str, Any]:
        """The access-log line for ``request_id``; it is written off the event loop, so poll."""
        deadline = time.monotonic() + timeout
        while True:
            for record in self.access_records():
                if record.get("request_id") == request_id:
                    return record
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"no access-log line for {request_id} within {timeout} s; "
                    f"log tail:\n{self.log_text()[-3000:]}"
                )
            time.sleep(_POLL)

    def stop(self) -> int | None:
        """Idempotent; the process group is signalled only once, so a recycled id is safe."""
        if not self.stopped:
            self.stopped = True
            end_process(self.process)
        return self.process.returncode


# ``gateway_factory``'s fixture value: start(config_toml | None, *, env=..., name=...).
GatewayFactory = Callable[..., Gateway]


def start_gateway(
    workdir: Path,
    config_toml: str | None,
    *,
    env: Mapping[str, str] | None = None,
    name: str = "gateway",
) -> Gateway:
    """Start ``python -m app`` on a free loopback port and wait until ``/readyz`` says 200.

    ``config_toml`` None starts it without a config file (the embedded demo default).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [sys.executable, "-m", "app", "--host", "127.0.0.1", "--port", str(port)]
    if config_toml is not None:
        config_path = workdir / f"{name}.toml"
        config_path.write_text(config_toml, encoding="utf-8")
        command += ["--config", str(config_path)]
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        # A session of its own, so that stopping it can reach Granian's worker processes too.
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=gateway_env(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    gateway = Gateway(process, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_ready(gateway)
    except BaseException:
        gateway.stop()
        raise
    return gateway


def _wait_ready(gateway: Gateway) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT
    with httpx.Client(trust_env=False, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if gateway.process.poll() is not None:
                raise RuntimeError(
                    f"the gateway exited with {gateway.process.returncode}:\n{gateway.log_text()}"
                )
            try:
                if client.get(gateway.url + "/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(_POLL)
    raise RuntimeError(
        f"the gateway was not ready within {_READY_TIMEOUT} s:\n{gateway.log_text()}"
    )


def end_process(process: subprocess.Popen[bytes]) -> int | None:
    """SIGTERM the gateway's process group, wait, then SIGKILL whatever is left of it."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=_STOP_TIMEOUT)
    # Whatever is left of the group (a worker that outlived its parent) goes too.
    _signal_group(process, signal.SIGKILL)
    return process.wait()


def _signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


@contextmanager
def running_gateway(
    workdir: Path, config_toml: str | None, *, env: Mapping[str, str] | None = None, name: str
) -> Iterator[Gateway]:
    gateway = start_gateway(workdir, config_toml, env=env, name=name)
    try:
        yield gateway
    finally:
        gateway.stop()


def session_config(upstream_url: str) -> str:
    """The config most tests share: one account per provider type, all on the fake."""
    return f"""
default_model = "gpt-test"

[server]
max_body_bytes = 1048576
demo_chunk_delay_ms = 0

[server.timeouts]
connect = 2
first_byte = 3
idle = 2
total = 30

[[models]]
id = "gpt-test"
display_name = "GPT Test"
owned_by = "openai"
context_window = 128000

[[models]]
id = "claude-test"
aliases = ["claude-nick"]
display_name = "Claude Test"
owned_by = "anthropic"
context_window = 200000
max_output_tokens = 8192

[[models]]
id = "gemini-test"
display_name = "Gemini Test"
owned_by = "google"
context_window = 1048576
max_output_tokens = 65536

[[accounts]]
name = "openai"
type = "openai"
base_url = "{upstream_url}/v1"
api_key_env = "FAKE_OPENAI_KEY"
models = ["gpt-test", {{ id = "gpt-alias", upstream = "gpt-upstream-name" }}]

[[accounts]]
name = "anthropic"
type = "anthropic"
base_url = "{upstream_url}"
api_key_env = "FAKE_ANTHROPIC_KEY"
models = ["claude-test", {{ id = "claude-alias", upstream = "claude-upstream-name" }}]

[[accounts]]
name = "gemini"
type = "gemini"
base_url = "{upstream_url}"
api_key_env = "FAKE_GEMINI_KEY"
models = ["gemini-test"]

[[accounts]]
name = "demo"
type = "demo"
models = ["switchyard-demo"]

[[keys]]
name = "test"
env = "SWITCHYARD_DEMO_KEY"

[[keys]]
name = "second"
sha256 = "{SECOND_KEY_SHA256}"
"""


# The catalog the session config declares, in order: [[models]] first, then the models
# accounts serve that [[models]] does not declare.
SESSION_MODEL_IDS = (
    "gpt-test",
    "claude-test",
    "gemini-test",
    "gpt-alias",
    "claude-alias",
    "switchyard-demo",
)


def strict_config(upstream_url: str, dead_url: str) -> str:
    """Tight limits and deadlines, plus accounts on a port where nothing listens."""
    return f"""
default_model = "gpt-test"

[server]
max_body_bytes = 2048

[server.timeouts]
connect = 1
first_byte = 0.5
idle = 0.5
total = 10

[[accounts]]
name = "openai"
type = "openai"
base_url = "{upstream_url}/v1"
api_key_env = "FAKE_OPENAI_KEY"
models = ["gpt-test"]

[[accounts]]
name = "anthropic"
type = "anthropic"
base_url = "{upstream_url}"
api_key_env = "FAKE_ANTHROPIC_KEY"
models = ["claude-test"]

[[accounts]]
name = "gemini"
type = "gemini"
base_url = "{upstream_url}"
api_key_env = "FAKE_GEMINI_KEY"
models = ["gemini-test"]

[[accounts]]
name = "dead-openai"
type = "openai"
base_url = "{dead_url}/v1"
api_key_env = "FAKE_OPENAI_KEY"
models = ["dead-gpt"]

[[accounts]]
name = "dead-anthropic"
type = "anthropic"
base_url = "{dead_url}"
api_key_env = "FAKE_ANTHROPIC_KEY"
models = ["dead-claude"]

[[accounts]]
name = "dead-gemini"
type = "gemini"
base_url = "{dead_url}"
api_key_env = "FAKE_GEMINI_KEY"
models = ["dead-gemini"]

[[keys]]
name = "test"
env = "SWITCHYARD_DEMO_KEY"
"""


# The compatible account gets a key of its own, so a request signed for the wrong OpenAI
# account cannot pass for the right one.
TRANSLATION_KEYS = {**PROVIDER_KEYS, "FAKE_COMPAT_KEY": "sk-fake-compatible-provider-key"}


def translation_config(upstream_url: str) -> str:
    """One model per upstream protocol, each served by a single account that speaks only
    that protocol, so a client of any other protocol is translated (never relayed)."""
    return f"""
default_model = "chat-model"

[server]
max_body_bytes = 4194304
demo_chunk_delay_ms = 0

[server.timeouts]
connect = 2
first_byte = 5
idle = 3
total = 30

# The image-URL tests serve their image from loopback.
[server.media]
allow_private = true
timeout = 5

[[accounts]]
name = "compat"
type = "openai-compatible"
base_url = "{upstream_url}/v1"
api_key_env = "FAKE_COMPAT_KEY"
models = [{{ id = "chat-model", upstream = "chat-upstream" }}]

[[accounts]]
name = "responses-only"
type = "openai"
api = "responses"
base_url = "{upstream_url}/v1"
api_key_env = "FAKE_OPENAI_KEY"
models = [{{ id = "resp-model", upstream = "resp-upstream" }}]

[[accounts]]
name = "anthropic"
type = "anthropic"
base_url = "{upstream_url}"
api_key_env = "FAKE_ANTHROPIC_KEY"
models = [{{ id = "claude-model", upstream = "claude-upstream" }}]

[[accounts]]
name = "gemini"
type = "gemini"
base_url = "{upstream_url}"
api_key_env = "FAKE_GEMINI_KEY"
models = [{{ id = "gemini-model", upstream = "gemini-upstream" }}]

[[keys]]
name = "test"
env = "SWITCHYARD_DEMO_KEY"
"""
