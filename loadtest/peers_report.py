"""Switchyard / LiteLLM ratios from one `make bench-peers` run, and its Markdown report.

Every ratio is ours / the peer's, from points measured side by side in one run: above 1 is
better for throughput, below 1 is better for added latency and CPU per request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from loadtest.report import Point, _table, find_point, latency_table, stream_table

OURS = "passthrough"
PEER = "litellm"
DIRECT = "direct"
TARGET_RATIO = 40.0  # issue 5: passthrough >= 40x LiteLLM's throughput at equal workers
TARGET_LEVELS = (16, 64)  # the throughput-bound levels (c=1 measures latency)


@dataclass(frozen=True, slots=True)
class Versus:
    """One scenario at one worker count: our figures against the peer's."""

    scenario: str  # "c=16" or "64 streams"
    throughput: tuple[float, float]  # req/s (streams/s), ours and the peer's
    added_ms: tuple[float, float]  # added p50 latency (streams: TTFB) over direct
    cpu_us: tuple[float, float]  # server CPU per request (per stream)
    errors: tuple[int, int]

    @property
    def throughput_ratio(self) -> float | None:
        return ratio(*self.throughput)

    @property
    def added_ratio(self) -> float | None:
        return ratio(*self.added_ms)

    @property
    def cpu_ratio(self) -> float | None:
        return ratio(*self.cpu_us)


def ratio(ours: float, peer: float) -> float | None:
    """ours / peer; None where either is not positive (an added latency within noise of
    zero, or a scenario with no successful request), which no ratio describes honestly."""
    if ours <= 0 or peer <= 0:
        return None
    return ours / peer


def served_cpu_us(point: Point) -> float:
    """Server CPU per request served: CPU until the server settled after the point, over the
    requests that reached the upstream (answered, or abandoned by the generator at the end
    and finished anyway); the bench's CPU per answered request where that was not counted."""
    served = int(point.result.get("upstream_requests", 0))
    if "settled_cpu_s" not in point.result or served <= 0:
        return point.cpu_us_per_request
    return float(point.result["settled_cpu_s"]) / served * 1e6


def _versus(scenario: str, ours: Point, peer: Point, direct: Point, stream: bool) -> Versus:
    latency = "ttfb_p50_ms" if stream else "p50_ms"
    base = direct.result[latency]
    return Versus(
        scenario=scenario,
        throughput=(ours.result["rps"], peer.result["rps"]),
        added_ms=(ours.result[latency] - base, peer.result[latency] - base),
        cpu_us=(served_cpu_us(ours), served_cpu_us(peer)),
        errors=(int(ours.result["errors"]), int(peer.result["errors"])),
    )


def compare(points: list[Point], workers: int) -> list[Versus]:
    """Each closed-loop level, then each stream level, where all three targets were measured."""
    found: list[Versus] = []
    for kind in ("closed", "stream"):
        levels = sorted({p.level for p in points if p.workers == workers and p.kind == kind})
        for level in levels:
            trio = [find_point(points, workers, t, kind, level) for t in (OURS, PEER, DIRECT)]
            ours, peer, direct = trio
            if ours is None or peer is None or direct is None:
                continue
            scenario = f"c={level:g}" if kind == "closed" else f"{level:g} streams"
            found.append(_versus(scenario, ours, peer, direct, kind == "stream"))
    return found


@dataclass(frozen=True, slots=True)
class TargetCheck:
    scenario: str
    measured: float | None
    met: bool


def target_checks(versus: list[Versus], levels: Iterable[int] = TARGET_LEVELS) -> list[TargetCheck]:
    """Issue 5's "passthrough >= 40x LiteLLM's proxy throughput" at each throughput-bound
    level; a level not measured, or where the peer answered nothing, is not met."""
    by_scenario = {v.scenario: v for v in versus}
    checks = []
    for level in levels:
        v = by_scenario.get(f"c={level}")
        measured = v.throughput_ratio if v is not None else None
        met = measured is not None and measured >= TARGET_RATIO
        checks.append(TargetCheck(f"c={level}", measured, met))
    return checks


def target_line(checks: list[TargetCheck]) -> str:
    """One sentence: met or not met, with the figures."""
    figures = ", ".join(
        f"{c.scenario}: {c.measured:,.1f}x"
        if c.measured is not None
        else f"{c.scenario}: not measured"
        for c in checks
    )
    met = bool(checks) and all(c.met for c in checks)
    verdict = "**met**" if met else "**not met**"
    goal = f"non-streaming passthrough >= {TARGET_RATIO:g}x LiteLLM's proxy throughput"
    return f'Target "{goal}": {verdict} ({figures}).'


def _x(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}x"


def _pair(values: tuple[float, float], digits: int, signed: bool = False) -> str:
    sign = "+" if signed else ""
    return " / ".join(f"{v:{sign},.{digits}f}" for v in values)


def ratio_table(versus: list[Versus]) -> list[str]:
    header = [
        "scenario",
        "req/s ours / LiteLLM",
        "throughput ratio",
        "added p50 ms ours / LiteLLM",
        "added latency ratio",
        "CPU us/served req ours / LiteLLM",
        "CPU ratio",
        "errors ours / LiteLLM",
    ]
    rows = [
        [
            v.scenario,
            _pair(v.throughput, 1),
            _x(v.throughput_ratio, 1),
            _pair(v.added_ms, 2, signed=True),
            _x(v.added_ratio, 3),
            _pair(v.cpu_us, 0),
            _x(v.cpu_ratio, 3),
            f"{v.errors[0]} / {v.errors[1]}",
        ]
        for v in versus
    ]
    return _table(header, rows)


def upstream_check(points: list[Point], workers: int) -> str:
    """Every answer a gateway counted as successful reached the fast upstream (no answer
    from a cache or an error path): successes <= requests the upstream saw in that point."""
    mine = [p for p in points if p.workers == workers and "upstream_requests" in p.result]
    bad = [p for p in mine if p.ok > int(p.result["upstream_requests"])]
    if not mine:
        return "Upstream requests were not counted."
    if not bad:
        return (
            "Every point's successful answers were at most the requests the fast upstream "
            "received meanwhile (each answer went through the upstream)."
        )
    names = ", ".join(f"{p.target} {p.kind} {p.level:g}" for p in bad)
    return f"**More successful answers than upstream requests** in: {names}."


@dataclass
class RunInfo:
    """What the report says about the run besides the points."""

    date: str
    command: str
    elapsed_s: float
    commit: str
    machine: dict[str, str]
    peer_versions: dict[str, str]
    workers: list[int]
    duration: float
    stream_duration: float
    stream_concurrency: int
    chunks: int
    generator: str
    gateway_code: dict[int, str]
    litellm_command: str
    litellm_env: dict[str, str]
    litellm_config_yaml: str
    checks: dict[int, list[str]]  # workers -> the answer checks passed before measuring


def render(info: RunInfo, points: list[Point]) -> str:
    litellm = info.peer_versions.get("litellm", "?")
    lines = [
        "# Switchyard and LiteLLM's proxy, side by side",
        "",
        "Generated by `make bench-peers` (`python -m loadtest.peers`); edits are overwritten. "
        f"The same scenarios as `make bench` against Switchyard's gateway (passthrough: OpenAI "
        f"Chat client, OpenAI account) and LiteLLM's proxy {litellm}, both relaying to the fast "
        "fake upstream, with equal worker counts, interleaved at each load level so that drift "
        "on the shared machine hits both alike. Read the ratios: absolute figures from a shared "
        "2-core machine are noisy.",
        "",
        f"{info.date}, `{info.command}` ({info.elapsed_s / 60:.1f} min), commit `{info.commit}`. "
        f"Load generators: {info.generator}. Every server, the generator and this runner share "
        "the machine's cores, on 127.0.0.1.",
        "",
        *_summary(points, info.workers),
        "## Machine and versions",
        "",
        "| machine / version | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in info.machine.items()],
        *[f"| LiteLLM environment: {k} | {v} |" for k, v in info.peer_versions.items()],
        "",
        *_settings(info),
    ]
    for workers in info.workers:
        lines += _block(info, points, workers)
    return "\n".join(lines).rstrip() + "\n"


def _summary(points: list[Point], workers_list: list[int]) -> list[str]:
    lines = ["## Summary", ""]
    for workers in workers_list:
        versus = compare(points, workers)
        line = target_line(target_checks(versus))
        lines.append(f"- {workers} worker{'s' if workers > 1 else ''} each: {line}")
        for v in versus:
            lines.append(
                f"  - {v.scenario}: throughput {_x(v.throughput_ratio, 1)}, added latency "
                f"{_x(v.added_ratio, 3)}, CPU per request {_x(v.cpu_ratio, 3)} (ours / LiteLLM)"
            )
    return [*lines, ""]


def _settings(info: RunInfo) -> list[str]:
    env = " ".join(f"{k}={v}" for k, v in info.litellm_env.items())
    return [
        "## Settings",
        "",
        "- **Switchyard**: `SWITCHYARD_LOG_LEVEL=WARNING python -m app --config gateway.toml "
        "--port PORT --workers N` with the benchmark's generated config (loadtest/stack.py: "
        "one account per protocol on the fast upstream, one client key): Granian, N workers.",
        "- **LiteLLM's proxy**: installed from PyPI in a throw-away virtualenv (`.peers/`, "
        "outside the project's), run with N worker processes as "
        f"`{env} {info.litellm_command}`: uvicorn (LiteLLM's default and recommended server) "
        "with uvloop and httptools, no database, no "
        "callbacks, no spend or error logs, no retries, no cache, uvicorn's access log off "
        "(the log config keeps only its start-up lines, which tell when each worker is ready), "
        "the model cost map from the package (no network), a master key. The health-check "
        f"timeout of uvicorn's supervisor is raised from 5 s so that a busy worker is not "
        "killed mid-run. The config (upstream port and key as in the run):",
        "",
        "```yaml",
        info.litellm_config_yaml.rstrip(),
        "```",
        "",
        f"- **Load**: non-stream OpenAI Chat requests in closed loops at each concurrency, "
        f"{info.duration:g} s a point; {info.stream_concurrency} concurrent streams of "
        f"{info.chunks} text chunks 10 ms apart, {info.stream_duration:g} s. Before measuring, "
        "each target must answer one non-stream request (status 200, a body with choices and "
        "text) and one stream (status 200, SSE chunks with text, `[DONE]`); then a 2 s warm-up "
        "at c=16 that is not recorded. `added` is the target's latency minus the direct "
        "upstream's at the same level (streams: time to first byte). `server CPU` in the "
        "loadtest/report.py tables is `make bench`'s: utime+stime of the server's whole "
        "process tree while the generator ran, per successful answer. That overcharges a slow "
        "server: the requests it still holds when the generator stops (up to the concurrency) "
        "cost it CPU but count as no answer, a large share when a point has only a few "
        "hundred answers. So the ratio table's `CPU us/served req` waits after each "
        "point until the server has settled (nothing in flight at the upstream, its tree "
        "idle) and divides all its CPU since the point's start by the requests the upstream "
        "received. Peak RSS is "
        "VmHWM per worker process, reset before each point. Errors: non-2xx answers and "
        "socket errors (wrk counts 4xx/5xx statuses, loadtest/gen.py every non-2xx).",
        "",
    ]


def _block(info: RunInfo, points: list[Point], workers: int) -> list[str]:
    mine = [p for p in points if p.workers == workers]
    versus = compare(points, workers)
    lines = [f"## {workers} worker{'s' if workers > 1 else ''} each", ""]
    if workers in info.gateway_code:
        lines += [f"Switchyard ran {info.gateway_code[workers]}.", ""]
    if info.checks.get(workers):
        lines += [
            "Answer checks passed before measuring: " + "; ".join(info.checks[workers]) + ".",
            "",
        ]
    lines += [target_line(target_checks(versus)), ""]
    lines += ["Ratios, Switchyard / LiteLLM (same run):", "", *ratio_table(versus), ""]
    lines += [
        "Non-stream, closed loop (fixed concurrency):",
        "",
        *latency_table(mine, "closed"),
        "",
    ]
    lines += [f"Streams, {info.stream_concurrency} concurrent:", ""]
    lines += [*stream_table(mine, info.chunks, []), "", upstream_check(points, workers), ""]
    return lines


def points_json(points: list[Point]) -> list[dict[str, Any]]:
    return [asdict(p) for p in points]
