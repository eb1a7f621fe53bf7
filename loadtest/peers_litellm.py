"""LiteLLM's proxy as a peer of the benchmark: its config, its process, and a check that it
answers before anything is measured.

LiteLLM lives in a throw-away virtualenv of its own (`make bench-peers` creates it in
.peers/), never in the project's .venv: only its `litellm` executable is run, from a
temporary working directory (its start-up reads a `.env` from the cwd). Its settings are the
best honest ones for a proxy that only relays: no database, no callbacks, no spend or error
logs, no retries, uvicorn with uvloop and httptools, and LiteLLM's own log level at ERROR.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path
from typing import Any

import yaml

from loadtest import procstat, stack

SERVER = "litellm"
READY_SECONDS = 180.0  # LiteLLM imports for ~10-30 s per process on a busy 2-core machine
# uvicorn's supervisor kills a worker that misses its 5 s health ping; a worker importing
# LiteLLM or serving at full load on a shared core can miss it without being hung.
HEALTHCHECK_SECONDS = 60
_STARTED = "Application startup complete."
# Inherited settings that would change what LiteLLM does (a database, a cache, a log level).
_DROPPED_ENV = ("DATABASE_URL", "DIRECT_URL", "REDIS_", "LITELLM_", "PYTHONPATH", "SWITCHYARD_")

# LiteLLM's process environment: the model cost map from the package (there is no network,
# and fetching it only slows the start), errors-only logging, no banner box.
ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOG": "ERROR",
    "LITELLM_MODE": "PRODUCTION",
    "LITELLM_DONT_SHOW_FEEDBACK_BOX": "True",
}


def config(upstream_url: str, model: str, master_key: str) -> dict[str, Any]:
    """The proxy config: one OpenAI-compatible deployment on the fast upstream, a master key,
    and everything that logs, retries or caches turned off."""
    return {
        "model_list": [
            {
                "model_name": model,
                "litellm_params": {
                    "model": f"openai/{model}",
                    "api_base": f"{upstream_url}/v1",
                    "api_key": "os.environ/BENCH_PROVIDER_KEY",
                },
            }
        ],
        "litellm_settings": {
            "set_verbose": False,
            "json_logs": False,
            "callbacks": [],
            "success_callback": [],
            "failure_callback": [],
            "cache": False,
            "num_retries": 0,
            "request_timeout": 120,
        },
        "router_settings": {"num_retries": 0},
        "general_settings": {
            "master_key": master_key,
            "disable_spend_logs": True,
            "disable_error_logs": True,
        },
    }


def log_config() -> dict[str, Any]:
    """uvicorn's logging: its start-up lines (one "Application startup complete." per worker,
    how readiness is seen) but no access log, so nothing is logged per request."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def command(
    executable: Path, config_file: Path, log_file: Path, port: int, workers: int
) -> list[str]:
    return [
        str(executable),
        "--config",
        str(config_file),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--num_workers",
        str(workers),
        "--log_config",
        str(log_file),
        "--timeout_worker_healthcheck",
        str(HEALTHCHECK_SECONDS),
    ]


def environment(base: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in base.items() if not k.startswith(_DROPPED_ENV)}
    return env | ENV | {"BENCH_PROVIDER_KEY": stack.PROVIDER_KEY}


def started_workers(log_text: str) -> int:
    return log_text.count(_STARTED)


class LiteLLMService(stack.Service):
    """uvicorn's supervisor also runs multiprocessing's resource tracker: not a worker."""

    @property
    def workers(self) -> list[int]:
        found = [pid for pid in procstat.children(self.process.pid) if not _is_tracker(pid)]
        return found or [self.process.pid]


def _is_tracker(pid: int) -> bool:
    try:
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def launch(
    executable: Path, workdir: Path, upstream: stack.Service, workers: int
) -> LiteLLMService:
    """Start the proxy (readiness is `wait_ready`'s job, so a gateway can start meanwhile)."""
    if not executable.exists():
        raise SystemExit(f"{executable} is missing: `make bench-peers` creates LiteLLM's venv")
    home = workdir / f"{SERVER}-w{workers}"
    home.mkdir(exist_ok=True)
    config_file, log_file = home / "config.yaml", home / "log_config.json"
    model_config = config(upstream.url, stack.OPENAI_MODEL, stack.CLIENT_KEY)
    config_file.write_text(yaml.safe_dump(model_config, sort_keys=False), encoding="utf-8")
    log_file.write_text(json.dumps(log_config(), indent=1), encoding="utf-8")
    port = stack.free_port()
    argv = command(executable, config_file, log_file, port, workers)
    log = workdir / f"{SERVER}-w{workers}.log"
    process = stack.spawn(argv, log, environment(dict(os.environ)), cwd=home)
    return LiteLLMService(f"{SERVER}-w{workers}", process, port, log)


def wait_ready(service: stack.Service, workers: int) -> None:
    """Until every worker has logged its start-up and the liveness route answers."""
    deadline = time.monotonic() + READY_SECONDS
    probe = urllib.request.Request(service.url + "/health/liveliness", method="GET")
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited:\n{service.log.read_text()[-3000:]}")
        text = service.log.read_text(encoding="utf-8", errors="replace")
        if started_workers(text) >= workers:
            with suppress(OSError), urllib.request.urlopen(probe, timeout=5) as response:
                if response.status == 200:
                    return
        time.sleep(0.5)
    service.stop()
    raise RuntimeError(
        f"{service.name} not ready in {READY_SECONDS:g} s:\n{service.log.read_text()}"
    )


def versions(executable: Path) -> dict[str, str]:
    """The peer environment's versions of what serves a request."""
    names = ["litellm", "uvicorn", "httptools", "uvloop", "fastapi", "aiohttp", "httpx"]
    script = (
        "import importlib.metadata as m, json, platform\n"
        "def v(n):\n"
        "    try: return m.version(n)\n"
        "    except m.PackageNotFoundError: return '-'\n"
        f"found = {{n: v(n) for n in {names!r}}}\n"
        "print(json.dumps({'python': platform.python_version(), **found}))"
    )
    python = executable.with_name("python")
    done = subprocess.run(
        [str(python), "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        return {"litellm": "unknown"}
    found: dict[str, str] = json.loads(done.stdout)
    return found


# --- answer checks (before measuring: a peer that answers errors fast would look fast) ---


def chat_problem(status: int, body: bytes) -> str | None:
    """Why a non-stream Chat Completions answer is not a correct one; None when it is."""
    if status != 200:
        return f"status {status}: {body[:300]!r}"
    try:
        document = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:300]!r}"
    choices = document.get("choices") if isinstance(document, dict) else None
    if not choices or not isinstance(choices, list):
        return f"no choices: {body[:300]!r}"
    message = choices[0].get("message") if isinstance(choices[0], dict) else None
    if not isinstance(message, dict) or not message.get("content"):
        return f"no message content: {body[:300]!r}"
    return None


_DATA = re.compile(rb"^data: ?(.*)$", re.MULTILINE)


def stream_problem(status: int, body: bytes) -> str | None:
    """Why a streamed Chat Completions answer is not a correct one; None when it is: SSE
    `data:` events whose chunks carry choices with text, ended by `[DONE]`."""
    if status != 200:
        return f"status {status}: {body[:300]!r}"
    events = [data.strip() for data in _DATA.findall(body)]
    if not events or events[-1] != b"[DONE]":
        return f"no [DONE] at the end: {body[-300:]!r}"
    text = ""
    for data in events[:-1]:
        try:
            chunk = json.loads(data)
        except ValueError:
            return f"an event is not JSON: {data[:200]!r}"
        for choice in chunk.get("choices") or []:
            text += (choice.get("delta") or {}).get("content") or ""
    return None if text else "no text in the chunks' choices"


def post(url: str, body: bytes, headers: list[str], timeout: float = 60.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, body, method="POST")
    request.add_header("content-type", "application/json")
    for line in headers:
        name, value = line.split(":", 1)
        request.add_header(name.strip(), value.strip())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()
