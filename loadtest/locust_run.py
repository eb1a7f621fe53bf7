"""One bounded locust run against a real gateway and the fast upstream, written up as a report.

    .venv/bin/python -m loadtest.locust_run [--users 32] [--run-time 30s] [--workers 1]

Starts ``python -m loadtest.upstream`` (waits for its ``ready <port>`` line) and ``python -m
app`` with a generated config: one account per upstream protocol on the fast upstream
(OpenAI with both APIs, Anthropic, Gemini), and per client protocol one model its own account
relays and one that is translated to another protocol (``ROUTES``). Then runs locust headless
with loadtest/locustfile.py, everything on 127.0.0.1 and bounded in time, and writes
loadtest/results/locust.md: per request kind the requests, failures, latency percentiles, req/s
and time to first byte, the failure messages, and the CPU each process used.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from loadtest import stack
from loadtest.stack import free_port

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "loadtest" / "results" / "locust.md"
CLIENT_KEY = "sk-switchyard-locust-key"
READY_SECONDS = 30.0

# Client protocol -> (locust env var, [relayed model, translated model]).
ROUTES = {
    "anthropic": ("SWITCHYARD_ANTHROPIC_MODELS", ["claude-sonnet-4-5", "gpt-5"]),
    "chat": ("SWITCHYARD_CHAT_MODELS", ["gpt-5", "claude-sonnet-4-5"]),
    "responses": ("SWITCHYARD_RESPONSES_MODELS", ["gpt-5", "gemini-2.5-pro"]),
    "gemini": ("SWITCHYARD_GEMINI_MODELS", ["gemini-2.5-pro", "claude-sonnet-4-5"]),
}
# Request label (locustfile) -> (client protocol as the gateway's access log names it, stream).
LABELS = {
    "messages stream": ("anthropic", True),
    "messages": ("anthropic", False),
    "chat stream": ("openai_chat", True),
    "chat": ("openai_chat", False),
    "responses stream": ("openai_responses", True),
    "generateContent": ("gemini", False),
    "streamGenerateContent": ("gemini", True),
}
_NAME = re.compile(r"^(?P<label>.+) \[(?P<model>[^\]]+)\](?P<ttfb> ttfb)?$")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """SIGTERM the process group (Granian's workers too), then SIGKILL what is left."""
        stack.end_group(self.popen)


def spawn(name: str, command: list[str], workdir: Path, env: dict[str, str]) -> Process:
    log = workdir / f"{name}.log"
    return Process(name, stack.spawn(command, log, env), log)


@contextmanager
def running(process: Process) -> Iterator[Process]:
    try:
        yield process
    finally:
        process.stop()


def start_upstream(workdir: Path, chunks: int, delay_ms: float) -> tuple[Process, str]:
    port = free_port()
    command = [sys.executable, "-m", "loadtest.upstream", "--port", str(port)]
    command += ["--chunks", str(chunks), "--chunk-delay-ms", str(delay_ms)]
    process = spawn("upstream", command, workdir, dict(os.environ))
    deadline = time.monotonic() + READY_SECONDS
    while f"ready {port}" not in process.log.read_text(errors="replace"):
        _check_alive(process, deadline)
        time.sleep(0.05)
    return process, f"http://127.0.0.1:{port}"


def gateway_config(upstream_url: str) -> str:
    """One account per upstream protocol on the fast upstream, each serving one model."""
    return f"""
default_model = "gpt-5"

[server]
pool_connections = 512

[server.timeouts]
connect = 5
first_byte = 30
idle = 30
total = 120

[[accounts]]
name = "openai"
type = "openai"
api = "both"
base_url = "{upstream_url}/v1"
api_key_env = "LOCUST_PROVIDER_KEY"
models = ["gpt-5"]

[[accounts]]
name = "anthropic"
type = "anthropic"
base_url = "{upstream_url}"
api_key_env = "LOCUST_PROVIDER_KEY"
models = ["claude-sonnet-4-5"]

[[accounts]]
name = "gemini"
type = "gemini"
base_url = "{upstream_url}"
api_key_env = "LOCUST_PROVIDER_KEY"
models = ["gemini-2.5-pro"]

[[keys]]
name = "locust"
env = "SWITCHYARD_DEMO_KEY"
"""


def start_gateway(
    workdir: Path, upstream_url: str, workers: int, log_level: str = "INFO"
) -> tuple[Process, str]:
    port = free_port()
    config = workdir / "gateway.toml"
    config.write_text(gateway_config(upstream_url), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env |= {
        "SWITCHYARD_DEMO_KEY": CLIENT_KEY,
        "LOCUST_PROVIDER_KEY": "sk-locust-provider-key",
        "SWITCHYARD_LOG_LEVEL": log_level,
    }
    command = [sys.executable, "-m", "app", "--config", str(config), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    process = spawn("gateway", command, workdir, env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_SECONDS
    while not _ready(url + "/readyz"):
        _check_alive(process, deadline)
        time.sleep(0.1)
    return process, url


def _ready(url: str) -> bool:
    with suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
        return bool(response.status == 200)
    return False


def _check_alive(process: Process, deadline: float) -> None:
    if process.popen.poll() is not None:
        raise RuntimeError(f"{process.name} exited:\n{process.log.read_text()[-3000:]}")
    if time.monotonic() > deadline:
        raise RuntimeError(f"{process.name} not ready in {READY_SECONDS} s")


def run_locust(
    workdir: Path, url: str, users: int, run_time: str, seconds: float
) -> tuple[Process, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env |= {"SWITCHYARD_URL": url, "SWITCHYARD_KEY": CLIENT_KEY}
    env["SWITCHYARD_LOCUST_RESULTS"] = str(workdir / "final.json")  # see the locustfile
    env |= {variable: ",".join(models) for variable, models in ROUTES.values()}
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtest" / "locustfile.py")]
    command += ["--headless", "-u", str(users), "-r", str(users), "--run-time", run_time]
    command += ["--csv", str(workdir / "locust"), "--host", url, "--stop-timeout", "10"]
    command += ["--only-summary", "--loglevel", "WARNING"]
    process = spawn("locust", command, workdir, env)
    try:
        code = process.popen.wait(timeout=seconds + 90)  # spawning, the stop timeout, writing
    except subprocess.TimeoutExpired:
        process.stop()
        raise RuntimeError(f"locust did not finish:\n{process.log.read_text()[-3000:]}") from None
    return process, code


# --- CPU use of a process tree (Linux /proc) ------------------------------------------------


def cpu_seconds(root: int) -> float:
    """User + system CPU of ``root`` and its descendants still alive, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError, ValueError, IndexError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
            times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in tree)


# --- the report -----------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    model: str
    requests: int
    failures: int
    p50: str
    p90: str
    p99: str
    rps: float
    ttfb: tuple[str, str, str] | None = None
    route: str = "?"
    logged: str = "?"


def read_results(path: Path, log: Path) -> tuple[list[Row], list[tuple[str, str, int]]]:
    """Rows per request kind (with their TTFB entries folded in) and the failure messages,
    from the final stats the locustfile writes at quit."""
    results = json.loads(path.read_text(encoding="utf-8"))
    rows: dict[tuple[str, str], Row] = {}
    ttfbs: dict[tuple[str, str], tuple[str, str, str]] = {}
    for entry in results["entries"]:
        match = _NAME.match(entry["name"])
        if not match:
            continue
        key = (match["label"], match["model"])
        percentiles = (_ms(entry["p50"]), _ms(entry["p90"]), _ms(entry["p99"]))
        if match["ttfb"]:
            ttfbs[key] = percentiles
            continue
        rows[key] = Row(*key, entry["requests"], entry["failures"], *percentiles, entry["rps"])
    routes = gateway_routes(log)
    for key, row in rows.items():
        row.ttfb = ttfbs.get(key)
        upstreams, outcomes = routes.get((*LABELS[row.label], row.model), ({}, {}))
        row.route = _route(LABELS[row.label][0], upstreams)
        row.logged = ", ".join(f"{count} {outcome}" for outcome, count in outcomes.items()) or "-"
    order = list(LABELS)
    ranked = sorted(
        rows.values(), key=lambda r: (order.index(r.label), r.route.startswith("translated"))
    )
    failures = [(e["name"], e["error"], int(e["occurrences"])) for e in results["errors"]]
    return ranked, sorted(failures, key=lambda failure: -failure[2])


Routes = dict[tuple[str, bool, str], tuple[dict[str, int], dict[str, int]]]


def gateway_routes(log: Path) -> Routes:
    """From the gateway's access log: per (client protocol, stream, model), how many requests
    went to each upstream protocol, and how many ended with each status and outcome."""
    routes: Routes = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") != "request":
            continue
        key = (record.get("protocol"), bool(record.get("stream")), record.get("model"))
        upstreams, outcomes = routes.setdefault(key, ({}, {}))
        upstream = str(record.get("upstream_protocol"))
        upstreams[upstream] = upstreams.get(upstream, 0) + 1
        outcome = f"{record.get('status')} {record.get('outcome')}"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return routes


def _route(client: str, upstreams: dict[str, int]) -> str:
    if not upstreams:
        return "? (no access log)"
    names = [("relayed" if name == client else f"translated to {name}") for name in upstreams]
    return " / ".join(sorted(names))


def _ms(value: float) -> str:
    return f"{value:.0f}"


def payload_sizes() -> str:
    from loadtest import payloads

    return ", ".join(f"{name} {len(payloads.body(name)) / 1024:.1f} KiB" for name in payloads.NAMES)


def render(
    rows: list[Row],
    failures: list[tuple[str, str, int]],
    setup: dict[str, object],
    cpu: dict[str, float],
    upstream_requests: int | None,
) -> str:
    seconds = float(str(setup["seconds"]))
    lines = [
        "# Locust: realistic client traffic through the gateway",
        "",
        f"Written by `python -m loadtest.locust_run` (locust {setup['locust']}, Python "
        f"{setup['python']}): {setup['users']} users ({setup['per_class']} per client class), "
        f"{setup['run_time']} headless, gateway with {setup['workers']} worker(s), fast upstream "
        f"streaming {setup['chunks']} chunks {setup['delay_ms']} ms apart, all on 127.0.0.1, "
        f"{os.cpu_count()} cores. Bodies from loadtest/payloads/ ({payload_sizes()}).",
        "",
        "Each client protocol sends one model its own account relays byte for byte and one the "
        "gateway translates to another protocol; Route and Gateway log (status and outcome per "
        "request) come from the gateway's access log. Times are locust's, for the whole "
        "exchange, streams read to the end; a request fails on a non-200, an incomplete stream "
        "or an in-stream error. TTFB: time to the first body byte of a stream.",
        "",
        "| Request | Model | Route | Requests | Failures | p50 ms | p90 ms | p99 ms | req/s "
        "| TTFB p50 | TTFB p90 | TTFB p99 | Gateway log |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for row in rows:
        ttfb = row.ttfb or ("-", "-", "-")
        lines.append(
            f"| {row.label} | {row.model} | {row.route} | {row.requests} | {row.failures} "
            f"| {row.p50} | {row.p90} | {row.p99} | {row.rps:.1f} | {' | '.join(ttfb)} "
            f"| {row.logged} |"
        )
    total = sum(row.requests for row in rows)
    failed = sum(row.failures for row in rows)
    rps = sum(row.rps for row in rows)
    lines.append(f"| **all** | | | {total} | {failed} | | | | {rps:.1f} | | | | |")
    lines += ["", _cpu_line(cpu, seconds, total)]
    if upstream_requests is not None:
        lines.append(
            f"The fast upstream counted {upstream_requests} provider requests for the "
            f"{total} client requests."
        )
    lines += ["", "## Failures", ""]
    if failures:
        lines += ["| Request | Error | Count |", "|---|---|--:|"]
        for name, error, count in failures:
            lines.append(f"| {name} | {error.replace('|', '/')[:300]} | {count} |")
    else:
        lines.append("None.")
    lines += [
        "",
        "## Reading these numbers",
        "",
        "Locust runs every user as a gevent greenlet in one Python process, so it can use at "
        "most one core, and on this 2-core machine it shares the CPU with the gateway and the "
        "upstream. Its users are a closed loop: each waits for its reply (a stream lasts about "
        f"{setup['chunks']} x {setup['delay_ms']} ms) before sending the next, so the req/s "
        "above follow from the number of users and the stream pacing, and raising the users "
        "until the gateway saturates would leave locust, the gateway and the upstream fighting "
        "over two cores. Locust cannot measure the gateway's throughput here: those figures "
        "come from `make bench` (loadtest/bench.py) and its faster generator. What this run "
        "shows is that realistic Claude Code, Codex, Chat and Gemini CLI requests, relayed and "
        "translated, streamed and not, all succeed under concurrency, and the latency and time "
        "to first byte they see.",
        "",
    ]
    return "\n".join(lines)


def _cpu_line(cpu: dict[str, float], seconds: float, requests: int) -> str:
    parts = [
        f"{name} {100 * used / seconds:.0f}% ({1000 * used / max(requests, 1):.2f} ms per request)"
        for name, used in cpu.items()
    ]
    return (
        f"CPU over the {seconds:.0f} s of the locust process (its start-up included), in % of "
        f"one core: {', '.join(parts)}."
    )


def upstream_count(url: str) -> int | None:
    with suppress(OSError, ValueError), urllib.request.urlopen(url + "/__stats", timeout=5) as r:
        return int(json.loads(r.read())["requests"])
    return None


def parse_seconds(run_time: str) -> float:
    match = re.fullmatch(r"(\d+)([smh]?)", run_time)
    if not match:
        raise SystemExit(f"--run-time: expected e.g. 30s, 2m (got {run_time!r})")
    return int(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[match[2]]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=32, help="locust users (-u and -r)")
    parser.add_argument("--run-time", default="30s", help="locust --run-time, at most 5m")
    parser.add_argument("--workers", type=int, default=1, help="gateway worker processes")
    parser.add_argument("--chunks", type=int, default=20, help="upstream stream chunks")
    parser.add_argument("--chunk-delay-ms", type=float, default=10.0)
    parser.add_argument(
        "--gateway-log-level", default="INFO", help="INFO (the default) logs each request"
    )
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    seconds = parse_seconds(args.run_time)
    if seconds > 300 or args.users > 200:
        raise SystemExit("bounded runs only: --run-time up to 5m, --users up to 200")
    workdir = Path(tempfile.mkdtemp(prefix="switchyard-locust-"))
    print(f"logs and CSV in {workdir}", flush=True)
    upstream, upstream_url = start_upstream(workdir, args.chunks, args.chunk_delay_ms)
    with running(upstream):
        gateway, url = start_gateway(workdir, upstream_url, args.workers, args.gateway_log_level)
        with running(gateway):
            pids = {"gateway": gateway.popen.pid, "upstream": upstream.popen.pid}
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            started = time.monotonic()
            locust, code = run_locust(workdir, url, args.users, args.run_time, seconds)
            elapsed = time.monotonic() - started
            cpu = {"locust": _children_cpu()}
            cpu |= {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
            counted = upstream_count(upstream_url)
    stats = workdir / "final.json"
    if not stats.exists():
        raise SystemExit(f"locust exited {code} without stats:\n{locust.log.read_text()[-3000:]}")
    setup: dict[str, object] = {
        "locust": version("locust"),
        "python": platform.python_version(),
        "users": args.users,
        "per_class": args.users // len(ROUTES),
        "run_time": args.run_time,
        "seconds": elapsed,
        "workers": args.workers,
        "chunks": args.chunks,
        "delay_ms": args.chunk_delay_ms,
    }
    rows, failures = read_results(stats, workdir / "gateway.log")
    report = render(rows, failures, setup, cpu, counted)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(report)


def _children_cpu() -> float:
    """CPU of the waited-for children so far: here, locust (the servers are still running)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
