"""Memory scenarios: 1,000+ open streams (memory per stream) and a bounded streaming soak.

    python -m loadtest.bench --streams-1000 [--open-streams 1000]
    python -m loadtest.bench --soak MINUTES        (at most 10)

Both run one Granian worker of the gateway against the fast upstream and sample the worker's
VmRSS from /proc while the load runs; they write loadtest/results/streams-1000.md and
loadtest/results/soak.md, which RESULTS.md links to.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from loadtest import procstat, stack
from loadtest.scenarios import TARGETS, Target

RESULTS = Path(__file__).resolve().parent / "results"
# Long streams for the open-streams scenario: 40 chunks 500 ms apart stay open ~20 s.
LONG_CHUNKS, LONG_DELAY_MS = 40, 500.0


def _target(name: str) -> Target:
    return next(t for t in TARGETS if t.name == name)


def _gen(url: str, body: Path, target: Target, concurrency: int, seconds: float) -> list[str]:
    command = [sys.executable, "-m", "loadtest.gen", "--url", url, "--mode", "stream"]
    command += ["--body-file", str(body), "--duration", f"{seconds:g}"]
    command += ["--concurrency", str(concurrency), "--grace", "40"]
    for header in target.headers:
        command += ["--header", header]
    return command


def _in_flight(upstream: stack.Service) -> int:
    with urllib.request.urlopen(upstream.url + "/__stats", timeout=2) as response:
        return int(json.loads(response.read())["in_flight"])


def streams_1000(count: int) -> str:
    """RSS of one worker idle, then with `count` translated streams open at once."""
    target = _target("anthropic-to-openai")
    with tempfile.TemporaryDirectory(prefix="switchyard-streams-") as directory:
        workdir = Path(directory)
        upstream = stack.start_upstream(workdir, LONG_CHUNKS, LONG_DELAY_MS)
        gateway = stack.start_gateway(workdir, upstream, 1)
        try:
            worker = gateway.workers[0]
            body = target.body_file(workdir, True)
            url = gateway.url + target.path
            warm = subprocess.run(
                _gen(url, body, target, 8, 1), capture_output=True, check=False, timeout=90
            )
            if warm.returncode != 0:
                raise RuntimeError(warm.stderr.decode()[-2000:])
            idle_kb = procstat.status_kb(worker, "VmRSS")
            load = subprocess.Popen(
                _gen(url, body, target, count, 1), stdout=subprocess.PIPE, text=True
            )
            peak_kb, most_open = idle_kb, 0
            deadline = time.monotonic() + 90
            while load.poll() is None and time.monotonic() < deadline:
                time.sleep(0.5)
                open_now = _in_flight(upstream)
                if open_now >= most_open:
                    most_open = open_now
                    peak_kb = max(peak_kb, procstat.status_kb(worker, "VmRSS"))
            out, _ = load.communicate(timeout=60)
            result = json.loads(out.strip().splitlines()[-1])
        finally:
            gateway.stop()
            upstream.stop()
    per_stream = (peak_kb - idle_kb) / most_open if most_open else 0.0
    lines = [
        "# Open streams: memory per stream",
        "",
        f"One Granian worker; {count} concurrent clients each open one translated stream "
        f"({target.description}); the fast upstream sends {LONG_CHUNKS} chunks "
        f"{LONG_DELAY_MS:g} ms apart, so every stream stays open ~20 s. `python -m "
        f"loadtest.bench --streams-1000 --open-streams {count}`.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| streams open at once (upstream in flight, max) | {most_open} |",
        f"| worker RSS idle (after warm-up) | {idle_kb / 1024:.1f} MB |",
        f"| worker RSS with the streams open (max) | {peak_kb / 1024:.1f} MB |",
        f"| memory per open stream | {per_stream:.1f} kB |",
        f"| streams completed / errors | {result['ok']} / {result['errors']} |",
        f"| TTFB p50 / p99 | {result['ttfb_p50_ms']:.1f} / {result['ttfb_p99_ms']:.1f} ms |",
        f"| target: < 200 MB RSS per worker with 1,000 open | "
        f"{'met' if peak_kb < 200 * 1024 and most_open >= 1000 else '**not met**'} |",
    ]
    return "\n".join(lines) + "\n"


def soak(minutes: float) -> str:
    """Worker RSS every 5 s under steady translated streaming (64 concurrent)."""
    minutes = min(minutes, 10.0)
    target = _target("anthropic-to-openai")
    samples: list[tuple[float, int]] = []
    results = []
    with tempfile.TemporaryDirectory(prefix="switchyard-soak-") as directory:
        workdir = Path(directory)
        upstream = stack.start_upstream(workdir)
        gateway = stack.start_gateway(workdir, upstream, 1)
        try:
            worker = gateway.workers[0]
            body = target.body_file(workdir, True)
            started = time.monotonic()
            for _ in range(max(1, round(minutes))):  # one-minute segments bound memory
                load = subprocess.Popen(
                    _gen(gateway.url + target.path, body, target, 64, 60),
                    stdout=subprocess.PIPE,
                    text=True,
                )
                while load.poll() is None:
                    time.sleep(5)
                    rss = procstat.status_kb(worker, "VmRSS")
                    samples.append((time.monotonic() - started, rss))
                out, _ = load.communicate(timeout=60)
                results.append(json.loads(out.strip().splitlines()[-1]))
        finally:
            gateway.stop()
            upstream.stop()
    return _soak_report(minutes, samples, results)


def _soak_report(minutes: float, samples: list[tuple[float, int]], results: list[dict]) -> str:
    settled = [rss for t, rss in samples if t >= 60] or [rss for _, rss in samples]
    median = statistics.median(settled)
    spread = max(abs(rss - median) / median for rss in settled)
    streams = sum(r["ok"] for r in results)
    errors = sum(r["errors"] for r in results)
    lines = [
        "# Soak: worker RSS under steady streaming",
        "",
        f"One Granian worker, {minutes:g} min of translated streams (Anthropic client -> "
        "OpenAI account), 64 concurrent, 20 chunks 10 ms apart; VmRSS sampled every 5 s. "
        f"`python -m loadtest.bench --soak {minutes:g}`.",
        "",
        f"Streams completed: {streams:,}, errors: {errors}. After the first minute the RSS "
        f"stays within ±{spread:.1%} of its median {median / 1024:.1f} MB "
        f"(target ±10%: {'met' if spread <= 0.10 else '**not met**'}).",
        "",
        "| time s | RSS MB |",
        "|---|---|",
        *[f"| {t:.0f} | {rss / 1024:.1f} |" for t, rss in samples[:: max(1, len(samples) // 24)]],
    ]
    return "\n".join(lines) + "\n"


def write(name: str, text: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path
