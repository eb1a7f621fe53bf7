"""Starting and stopping what the benchmark measures, on loopback: the fast upstream, the bare
relay and the gateway (`python -m app`), each in its own process group so that stopping one
also stops its Granian workers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from loadtest import procstat

ROOT = Path(__file__).resolve().parents[1]
CLIENT_KEY = "sk-switchyard-bench-key"
PROVIDER_KEY = "sk-bench-provider-key"
READY_SECONDS = 30.0

# Models: each served by one account of one upstream protocol, all on the fast upstream.
OPENAI_MODEL = "gpt-bench"
ANTHROPIC_MODEL = "claude-bench"
GEMINI_MODEL = "gemini-bench"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Service:
    """A started server process and where it listens."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    code: str = ""  # for the gateway: which app/ code it loaded (see app_state)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pids(self) -> list[int]:
        return procstat.tree(self.process.pid)

    @property
    def workers(self) -> list[int]:
        """Granian's worker processes (the children); the process itself if it has none."""
        found = procstat.children(self.process.pid)
        return found or [self.process.pid]

    def stop(self) -> None:
        end_group(self.process)


def spawn(
    command: list[str], log: Path, env: Mapping[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.Popen[bytes]:
    """Start a child in a session of its own (so that its whole group, Granian's workers
    included, can be ended), its output to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def end_group(process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM) -> None:
    """Signal the child's process group and wait up to 10 s, then SIGKILL whatever is left
    of the group (a worker that outlived its parent)."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _start(
    name: str,
    command: list[str],
    port: int,
    workdir: Path,
    env: dict[str, str],
    cwd: Path = ROOT,
) -> Service:
    log = workdir / f"{name}.log"
    return Service(name, spawn(command, log, env, cwd), port, log)


def start_upstream(workdir: Path, chunks: int = 20, chunk_delay_ms: float = 10.0) -> Service:
    port = free_port()
    command = [sys.executable, "-m", "loadtest.upstream", "--port", str(port)]
    command += ["--chunks", str(chunks), "--chunk-delay-ms", str(chunk_delay_ms)]
    service = _start(f"upstream-{port}", command, port, workdir, dict(os.environ))
    _wait(service, "/__stats", method="GET")
    return service


def start_relay(workdir: Path, upstream: Service, workers: int, client: str = "gateway") -> Service:
    """loadtest/relay.py over the gateway's upstream client, or over aiohttp."""
    port = free_port()
    command = [sys.executable, "-m", "loadtest.relay", "--port", str(port)]
    command += ["--upstream", upstream.url, "--workers", str(workers), "--client", client]
    service = _start(f"relay-{client}-w{workers}", command, port, workdir, dict(os.environ))
    _wait_workers(service, workers)
    return service


def start_gateway(
    workdir: Path, upstream: Service, workers: int, root: Path = ROOT, name: str = "gateway"
) -> Service:
    """`python -m app` from `root`: the project, or a worktree of another revision (--baseline)."""
    port = free_port()
    config = workdir / f"{name}-w{workers}.toml"
    config.write_text(gateway_config(upstream.url), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env |= {
        "SWITCHYARD_DEMO_KEY": CLIENT_KEY,
        "BENCH_PROVIDER_KEY": PROVIDER_KEY,
        "SWITCHYARD_LOG_LEVEL": "WARNING",
    }
    if root != ROOT:
        # The venv's editable install maps `app` to the project; its finder comes after
        # sys.path, so the cwd (and, for Granian's workers, PYTHONPATH) make `root` win.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        # Bytecode written into the (temporary) worktree is the proof _check_compiled_in reads.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    loaded = app_loaded_from(root, env)
    if not loaded.is_relative_to(root / "app"):
        raise RuntimeError(f"{name}: `app` would load from {loaded}, not from {root}")
    command = [sys.executable, "-m", "app", "--config", str(config)]
    command += ["--port", str(port), "--workers", str(workers)]
    service = _start(f"{name}-w{workers}", command, port, workdir, env, cwd=root)
    service.code = app_state(root)
    _wait(service, "/readyz", method="GET")
    _wait_workers(service, workers)
    if root != ROOT:
        _check_compiled_in(root, service)
    return service


def app_loaded_from(root: Path, env: dict[str, str]) -> Path:
    """The file `import app` resolves to for a process started in `root` with `env`."""
    done = subprocess.run(
        [sys.executable, "-B", "-c", "import app; print(app.__file__)"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(done.stdout.strip()).resolve()


def _check_compiled_in(root: Path, service: Service) -> None:
    """The gateway compiled the worktree's ASGI target: it serves that code, not the project's.

    The worktree is fresh and the probe above writes no bytecode, so a compiled
    app/http/asgi.py there comes from the process that imported it to serve (a Granian
    worker; `python -m app` itself imports app/http/app.py, not the target).
    """
    target = "asgi" if (root / "app" / "http" / "asgi.py").exists() else "*"
    if not any(root.glob(f"app/**/__pycache__/{target}.*.pyc")):
        service.stop()
        raise RuntimeError(f"{service.name}: its workers did not import app/ from {root}")


def app_state(root: Path = ROOT) -> str:
    """The commit and any uncommitted app/ files: what the gateway process is about to load."""
    git = ["git", "-C", str(root)]
    commit = subprocess.run(
        [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    changed = subprocess.run(
        [*git, "status", "--porcelain", "app"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    if not changed:
        return f"app/ as committed in {commit}"
    names = ", ".join(line[3:] for line in changed[:6])
    return f"{commit} with uncommitted app/ changes ({names})"


def gateway_config(upstream_url: str) -> str:
    """One account per upstream protocol on the fast upstream, generous timeouts, one key."""
    return f"""
default_model = "{OPENAI_MODEL}"

[server]
max_body_bytes = 1048576
pool_connections = 2048                 # 1,000+ open streams need as many upstream connections

[server.timeouts]
connect = 5
first_byte = 30
idle = 30
total = 120

[[accounts]]
name = "openai"
type = "openai"
api = "chat"
base_url = "{upstream_url}/v1"
api_key_env = "BENCH_PROVIDER_KEY"
models = ["{OPENAI_MODEL}"]

[[accounts]]
name = "anthropic"
type = "anthropic"
base_url = "{upstream_url}"
api_key_env = "BENCH_PROVIDER_KEY"
models = ["{ANTHROPIC_MODEL}"]

[[accounts]]
name = "gemini"
type = "gemini"
base_url = "{upstream_url}"
api_key_env = "BENCH_PROVIDER_KEY"
models = ["{GEMINI_MODEL}"]

[[keys]]
name = "bench"
env = "SWITCHYARD_DEMO_KEY"
"""


def _wait(service: Service, path: str, method: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    request = urllib.request.Request(service.url + path, method=method)
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited:\n{service.log.read_text()[-3000:]}")
        with suppress(OSError), urllib.request.urlopen(request, timeout=2) as response:
            if response.status < 500:
                return
        time.sleep(0.1)
    service.stop()
    raise RuntimeError(f"{service.name} not ready in {READY_SECONDS} s:\n{service.log.read_text()}")


def _wait_workers(service: Service, workers: int) -> None:
    """Until Granian has its workers up and the port answers TCP connects."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited:\n{service.log.read_text()[-3000:]}")
        if len(procstat.children(service.process.pid)) >= workers and _accepts(service.port):
            time.sleep(0.5 if workers > 1 else 0.2)  # let the last worker finish its start-up
            return
        time.sleep(0.1)
    service.stop()
    raise RuntimeError(f"{service.name} workers not up in {READY_SECONDS} s")


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0
