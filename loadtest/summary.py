"""The generated part of RESULTS.md: run, machine, the targets of issue 5, and the tables."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from loadtest.baseline import comparison
from loadtest.report import Point, chunk_slope, find_point, latency_table, stream_table
from loadtest.scenarios import TARGETS

if TYPE_CHECKING:
    from loadtest.bench import Settings

HERE = Path(__file__).resolve().parent
TRANSLATED = ("anthropic-to-openai", "openai-to-anthropic")


def _check(value: float | None, limit: float, at_most: bool, unit: str) -> list[str]:
    if value is None:
        return ["not measured", "-"]
    met = value <= limit if at_most else value >= limit
    digits = 3 if not unit and value < 10 else 2  # ratios: 0.949 must not read as 0.95
    return [f"{value:,.{digits}f}{unit}", "yes" if met else "**no**"]


def target_rows(points: list[Point], workers: int, settings: Settings) -> list[list[str]]:
    """Issue 5's targets, each with the figure this run measured for `workers` workers."""
    rows: list[list[str]] = []

    def closed(target: str, level: float) -> Point | None:
        return find_point(points, workers, target, "closed", level)

    direct1, pass1 = closed("direct", 1), closed("passthrough", 1)
    added = pass1.result["p50_ms"] - direct1.result["p50_ms"] if pass1 and direct1 else None
    rows.append(["passthrough added p50 at c=1", "<= 0.5 ms", *_check(added, 0.5, True, " ms")])
    for level in (16, 64):
        p, relay = closed("passthrough", level), closed("relay", level)
        rate = p.result["rps"] / workers if p else None
        rows.append(
            [f"passthrough req/s per worker, c={level}", ">= 3,000", *_check(rate, 3000, False, "")]
        )
        share = p.result["rps"] / relay.result["rps"] if p and relay else None
        rows.append(
            [f"passthrough / bare relay, c={level}", ">= 0.70", *_check(share, 0.7, False, "")]
        )
    for name in TRANSLATED:
        for level in (16, 64):
            p = closed(name, level)
            cpu = p.cpu_us_per_request if p else None
            rows.append(
                [
                    f"{name} gateway CPU/request, c={level}",
                    "<= 300 us",
                    *_check(cpu, 300, True, " us"),
                ]
            )
    level = settings.stream_concurrency
    direct = find_point(points, workers, "direct", "stream", level)
    for name in ("passthrough", *TRANSLATED):
        p = find_point(points, workers, name, "stream", level)
        ratio = p.result["rps"] / direct.result["rps"] if p and direct else None
        ttfb = p.result["ttfb_p50_ms"] - direct.result["ttfb_p50_ms"] if p and direct else None
        chunk = p.cpu_us_per_request / p.chunks if p and p.chunks else None
        label = f"{name} stream"
        rows.append([f"{label} rate / direct", ">= 0.95", *_check(ratio, 0.95, False, "")])
        rows.append([f"{label} added TTFB p50", "<= 5 ms", *_check(ttfb, 5, True, " ms")])
        if name in TRANSLATED:
            rows.append(
                [
                    f"{label} CPU per chunk ({p.chunks if p else '-'} chunks, request setup "
                    "included)",
                    "<= 60 us",
                    *_check(chunk, 60, True, " us"),
                ]
            )
            slope = _slope(points, workers, name, level, p)
            if slope is not None:
                rows.append(
                    [f"{label} CPU per extra chunk", "<= 60 us", *_check(slope, 60, True, " us")]
                )
    return rows


def _slope(
    points: list[Point], workers: int, target: str, level: float, first: Point | None
) -> float | None:
    """CPU per chunk beyond the first stream point's, from its --chunk-slope twin."""
    if first is None:
        return None
    twins = [
        p
        for p in points
        if (p.workers, p.target, p.kind, p.level) == (workers, target, "stream", level)
        and p.chunks > first.chunks
    ]
    return chunk_slope(first, twins[0]) if twins else None


def _links(directory: Path, pattern: str) -> list[str]:
    return [f"- [{p.name}]({p.relative_to(HERE)})" for p in sorted(directory.glob(pattern))]


# loadtest/results/ is ignored by git except for the reports committed on purpose: link only
# those (and the memory scenarios' reports, which this harness writes to be committed).
_OWN_RESULTS = {"streams-1000.md", "soak.md"}


def _result_links() -> list[str]:
    done = subprocess.run(
        ["git", "ls-files", "loadtest/results"], capture_output=True, text=True, check=False
    )
    tracked = {Path(line).name for line in done.stdout.splitlines()}
    return [
        link
        for link, path in zip(
            _links(HERE / "results", "*.md"), sorted((HERE / "results").glob("*.md")), strict=True
        )
        if path.name in tracked | _OWN_RESULTS
    ]


def render_report(
    settings: Settings,
    points: list[Point],
    env: dict[str, str],
    command: str,
    date: str,
    elapsed: float,
) -> str:
    generator = (
        "wrk (closed loops) and loadtest/gen.py (open loops, streams)"
        if settings.use_wrk
        else "loadtest/gen.py for everything: wrk was not available"
    )
    lines = [
        "## Latest run",
        "",
        f"{date}, `{command}` ({elapsed / 60:.1f} min), commit `{env['commit']}`.",
        *_versions(settings),
        f"Load generators: {generator}. Every server, the generator and this runner share "
        "the machine's cores, on 127.0.0.1.",
        "",
        "| machine / version | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in env.items() if k != "commit"],
        "",
        "Targets (the baselines use the OpenAI Chat request; the fake upstream answers every "
        "protocol at the same cost):",
        "",
        *[f"- `{t.name}`: {t.description}" for t in settings.targets],
        "",
        f"Each point runs {settings.duration:g} s (streams {settings.stream_duration:g} s)"
        f"{_rounds_text(settings)}; "
        "`server CPU` is utime+stime of the measured server's process tree (Granian main + "
        "workers, or the fake upstream for `direct`) per successful request (CPU seconds per "
        "1,000 requests = that figure / 1,000); `upstream busy` "
        "is the fake upstream's CPU share of one core during the point (its headroom); "
        "peak RSS is VmHWM per worker, reset before each point. Streams: "
        f"{_streams_text(settings)}.",
        "",
    ]
    for workers in settings.workers:
        lines += _block(settings, points, workers)
    lines += ["### Other reports", ""]
    lines += _links(HERE / "profiles", "*-top.md") or ["- (no profiles yet: `make profile`)"]
    lines += _result_links()
    return "\n".join(lines) + "\n"


def _rounds_text(settings: Settings) -> str:
    if settings.rounds == 1:
        return ""
    return (
        f", {settings.rounds} times: round after round, every target once per round, and "
        "the median round is reported whole (ranked by req/s, or by p50 at a fixed rate; "
        "loadtest/results/bench.json holds every round)"
    )


def _streams_text(settings: Settings) -> str:
    text = (
        f"{settings.chunks} text chunks 10 ms apart from the fake upstream, "
        f"{settings.stream_concurrency} concurrent, closed loop; TTFB is from the send to the "
        "first body byte, inter-chunk delay the gap between body reads"
    )
    if settings.slope_chunks:
        text += (
            f"; each stream point is measured again right after at {settings.slope_chunks} "
            f"chunks, and CPU per extra chunk = (CPU/stream at {settings.slope_chunks} - at "
            f"{settings.chunks}) / {settings.slope_chunks - settings.chunks}"
        )
    return text


def _versions(settings: Settings) -> list[str]:
    """Which code is compared, when a baseline gateway ran too."""
    if not settings.baseline_commit:
        return []
    return [
        f"Before/after in one run: the `@base` targets ran the gateway of `--baseline "
        f"{settings.baseline}` = commit `{settings.baseline_commit[:12]}` (a detached git "
        "worktree), with the same config and worker count, started alongside the other "
        "(idle, it costs next to nothing) and measured right after each target at every level.",
    ]


def _block(settings: Settings, points: list[Point], workers: int) -> list[str]:
    title = f"### Granian {workers} worker{'s' if workers > 1 else ''}"
    lines = [title, ""]
    if workers in settings.code:
        lines += [f"The gateway ran {settings.code[workers]}.", ""]
    if workers in settings.base_code:
        base = settings.base_code[workers]
        lines += [f"The baseline gateway (`@base` targets) ran {base}.", ""]
    mine = [p for p in points if p.workers == workers and p.chunks in (0, settings.chunks)]
    slope = [p for p in points if p.workers == workers and p.chunks == settings.slope_chunks > 0]
    lines += comparison(mine, slope, settings.chunks)
    lines += ["Against the targets of issue 5:", ""]
    lines += ["| target | limit | measured | met |", "|---|---|---|---|"]
    rows = target_rows(mine + slope, workers, settings)  # the slope twins give per-extra-chunk
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += ["", "Non-stream, closed loop (fixed concurrency):", ""]
    lines += latency_table(mine, "closed")
    lines += ["", "Non-stream, open loop (fixed rate; latency from the scheduled send time):", ""]
    lines += latency_table(mine, "open")
    lines += ["", f"Streams, {settings.stream_concurrency} concurrent:", ""]
    lines += stream_table(mine, settings.chunks, slope)
    return [*lines, ""]


__all__ = ["TARGETS", "render_report"]
