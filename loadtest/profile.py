"""`make profile`: where the gateway worker spends its CPU, by py-spy, under steady load.

    python -m loadtest.bench --profile [--profile-seconds 10]

Starts the fast upstream and a one-worker gateway, and for each scenario drives load (wrk at
16 connections, or loadtest/gen.py for streams) while `py-spy record --format raw` samples the
worker. Writes loadtest/profiles/<scenario>.collapsed (collapsed stacks: open in speedscope or
flamegraph.pl; not committed) and <scenario>-top.md: self and cumulative time of the top 25
functions and self time per layer. py-spy sees Python frames only: time in Granian's Rust or
in C without a Python caller is not in the samples, so the shares are of Python time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from loadtest import procstat, stack, wrkrun
from loadtest.scenarios import TARGETS, Target

PROFILES = Path(__file__).resolve().parent / "profiles"
SAMPLE_RATE = 200
TOP = 25
_LINE = re.compile(r":\d+\)$")
# The worker's start-up chain under the event loop: in every stack of the main thread, so
# it would crowd the cumulative list without saying anything.
# Threads that py-spy samples while they wait in C (a thread pool's and the log listener's
# queue.get, Granian's main thread inside its Rust server): not CPU, so left out.
_WAITING = re.compile(
    r"^(_worker \(concurrent/futures/thread\.py\)|QueueListener\.dequeue \(|"
    r"MPServer\._spawn_\w+_worker \(|\S+\.wait \(threading\.py\))"
)
_BOOTSTRAP = re.compile(r"\((<frozen runpy>|app/__main__\.py|granian/server/|multiprocessing/)")

# Where a file belongs, first match wins; the shares per layer show what dominates.
LAYERS = (
    ("app/http/", "app/http"),
    ("app/services/", "app/services"),
    ("app/upstream/", "app/upstream"),
    ("app/protocols/", "app/protocols"),
    ("app/canonical/", "app/canonical"),
    ("app/core/", "app/core"),
    ("app/", "app (other)"),
    ("blacksheep/", "blacksheep"),
    ("aiohttp/", "aiohttp"),
    ("granian/", "granian"),
    ("asyncio/", "asyncio"),
    ("multidict/", "multidict"),
    ("yarl/", "yarl"),
)


@dataclass(frozen=True)
class Scenario:
    name: str
    target: Target
    stream: bool
    concurrency: int


def scenarios() -> list[Scenario]:
    by_name = {t.name: t for t in TARGETS}
    return [
        Scenario("passthrough", by_name["passthrough"], False, 16),
        Scenario("anthropic-to-openai", by_name["anthropic-to-openai"], False, 16),
        Scenario("openai-to-anthropic", by_name["openai-to-anthropic"], False, 16),
        Scenario("anthropic-to-openai-stream", by_name["anthropic-to-openai"], True, 64),
    ]


def _load(scenario: Scenario, url: str, body: Path, seconds: float) -> subprocess.Popen[bytes]:
    headers = scenario.target.headers
    if scenario.stream or not wrkrun.available():
        mode = "stream" if scenario.stream else "closed"
        command = [sys.executable, "-m", "loadtest.gen", "--url", url, "--mode", mode]
        command += ["--body-file", str(body), "--duration", f"{seconds:g}"]
        command += ["--concurrency", str(scenario.concurrency)]
        for header in headers:
            command += ["--header", header]
        return subprocess.Popen(command, stdout=subprocess.DEVNULL)
    env = {**os.environ, "WRK_BODY_FILE": str(body), "WRK_HEADERS": "\n".join(headers)}
    command = ["wrk", "-t2", f"-c{scenario.concurrency}", f"-d{round(seconds)}s"]
    command += ["-s", str(wrkrun.SCRIPT), url]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def record(scenario: Scenario, gateway: stack.Service, workdir: Path, seconds: float) -> str:
    url = gateway.url + scenario.target.path
    body = scenario.target.body_file(workdir, scenario.stream)
    worker = gateway.workers[0]
    out = PROFILES / f"{scenario.name}.collapsed"
    load = _load(scenario, url, body, seconds + 3)
    try:
        time.sleep(1.5)  # past the connection ramp-up
        cpu = procstat.cpu_seconds([worker])
        started = time.monotonic()
        command = [_py_spy(), "record", "-p", str(worker), "--rate", str(SAMPLE_RATE)]
        command += ["--duration", f"{round(seconds)}", "--format", "raw", "-o", str(out)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        cpu_share = (procstat.cpu_seconds([worker]) - cpu) / (time.monotonic() - started)
    finally:
        load.wait(timeout=seconds + 30)
    if done.returncode != 0:
        raise RuntimeError(f"py-spy failed (it needs ptrace, e.g. root):\n{done.stderr}")
    return summarize(scenario, out.read_text(), cpu_share, seconds, gateway.code)


def _py_spy() -> str:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else "py-spy"


def parse_collapsed(text: str) -> list[tuple[list[str], int]]:
    stacks = []
    for line in text.splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks.append(([_LINE.sub(")", f) for f in frames.split(";")], int(count)))
    return stacks


def _layer(frame: str) -> str:
    where = frame.rpartition(" (")[2]
    return next((name for prefix, name in LAYERS if prefix in where), "other (stdlib, C)")


def summarize(
    scenario: Scenario, text: str, cpu_share: float, seconds: float, code: str = "-"
) -> str:
    every = parse_collapsed(text)
    stacks = [(frames, n) for frames, n in every if not _WAITING.search(frames[-1])]
    total = sum(n for _, n in stacks) or 1
    waiting = sum(n for _, n in every) - total
    own: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    for frames, count in stacks:
        own[frames[-1]] += count
        layers[_layer(frames[-1])] += count
        for frame in set(frames):
            if not _BOOTSTRAP.search(frame):
                cumulative[frame] += count
    kind = f"{'stream' if scenario.stream else 'non-stream'}, {scenario.concurrency} concurrent"
    lines = [
        f"# Profile: {scenario.name} ({kind})",
        "",
        f"{scenario.target.description}. One Granian worker, `py-spy record --rate "
        f"{SAMPLE_RATE} --format raw` for {seconds:g} s under load: {total} samples of Python "
        f"at work ({waiting} more of threads waiting in C left out); the worker used "
        f"{cpu_share:.0%} of a core meanwhile. Shares are of the samples at work; "
        f"`.collapsed` holds every stack. The gateway ran {code}.",
        "",
        "Self time per layer:",
        "",
        "| layer | self |",
        "|---|---|",
        *[f"| {name} | {n / total:.1%} |" for name, n in layers.most_common()],
        "",
        f"Top {TOP} functions by self time:",
        "",
        "| function (file) | self | cumulative |",
        "|---|---|---|",
        *[
            f"| `{frame}` | {n / total:.1%} | {cumulative[frame] / total:.1%} |"
            for frame, n in own.most_common(TOP)
        ],
        "",
        f"Top {TOP} functions by cumulative time (in the stack):",
        "",
        "| function (file) | cumulative | self |",
        "|---|---|---|",
        *[
            f"| `{frame}` | {n / total:.1%} | {own[frame] / total:.1%} |"
            for frame, n in cumulative.most_common(TOP)
        ],
    ]
    return "\n".join(lines) + "\n"


def run_profiles(seconds: float) -> None:
    PROFILES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="switchyard-profile-") as directory:
        workdir = Path(directory)
        upstream = stack.start_upstream(workdir)
        try:
            gateway = stack.start_gateway(workdir, upstream, 1)
            try:
                for scenario in scenarios():
                    text = record(scenario, gateway, workdir, seconds)
                    (PROFILES / f"{scenario.name}-top.md").write_text(text, encoding="utf-8")
                    print(f"wrote loadtest/profiles/{scenario.name}-top.md", flush=True)
            finally:
                gateway.stop()
        finally:
            upstream.stop()
