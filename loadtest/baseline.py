"""Same-run before/after: a second gateway on another git revision, measured as twin targets.

    python -m loadtest.bench --baseline REV      (make bench-compare BASE=REV)

REV (HEAD~3, a commit id, a branch) is checked out as a detached `git worktree` in the run's
temporary directory and started as a second gateway (`python -m app` with that directory as
cwd, so its `app` package is the one imported; stack.start_gateway checks this). Every gateway
target gets a twin `<name>@base` served by it, measured right after the original at each load
level, so drift on the shared machine hits both alike. Both gateways run for the whole block
with the same worker count: an idle Granian process costs next to no CPU, and starting them
one at a time would put minutes between the two figures of a pair. The worktree is removed
at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loadtest.report import Point, chunk_slope
from loadtest.scenarios import Target
from loadtest.stack import ROOT

SUFFIX = "@base"
SERVER = "gateway-base"


def resolve(rev: str) -> str:
    """The full commit id of `rev`; SystemExit with git's reason if it names no commit."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"--baseline {rev}: not a commit of this repository")
    return done.stdout.strip()


@contextmanager
def worktree(commit: str, directory: Path) -> Iterator[Path]:
    """A detached worktree of `commit` at `directory`, removed (forcibly) when done."""
    git = ["git", "-C", str(ROOT), "worktree"]
    subprocess.run(
        [*git, "add", "--detach", "--quiet", str(directory), commit],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield directory.resolve()
    finally:
        # --force: the gateway left __pycache__ files, untracked, in the worktree.
        removed = subprocess.run(
            [*git, "remove", "--force", str(directory)], capture_output=True, check=False
        )
        if removed.returncode != 0:  # e.g. the directory is gone already: drop the record
            subprocess.run([*git, "prune"], capture_output=True, check=False)


def with_twins(targets: list[Target], label: str) -> list[Target]:
    """`targets` with each gateway target followed by its twin on the baseline gateway."""
    result: list[Target] = []
    for target in targets:
        result.append(target)
        if target.server == "gateway":
            twin = dataclasses.replace(
                target,
                name=target.name + SUFFIX,
                server=SERVER,
                description=f"the same on the baseline gateway ({label})",
            )
            result.append(twin)
    return result


def _get(points: list[Point], target: str, kind: str, level: float) -> Point | None:
    for p in points:
        if (p.target, p.kind, p.level) == (target, kind, level):
            return p
    return None


def _pairs(points: list[Point], kind: str) -> Iterator[tuple[Point, Point]]:
    """(after, before) for each gateway target and level of one kind, in measurement order."""
    for after in points:
        if after.kind == kind and not after.target.endswith(SUFFIX):
            before = _get(points, after.target + SUFFIX, kind, after.level)
            if before is not None:
                yield after, before


def _versus(after: float, before: float, digits: int) -> str:
    return f"{after:,.{digits}f} vs {before:,.{digits}f}"


def _ratio(after: float, before: float) -> str:
    return f"{after / before:.3f}x" if before else "-"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def latency_rows(points: list[Point]) -> list[list[str]]:
    rows = []
    for kind in ("closed", "open"):
        for after, before in _pairs(points, kind):
            a, b = after.result, before.result
            rows.append(
                [
                    f"{'c' if kind == 'closed' else 'rate/s'} {after.level:g}",
                    after.target,
                    _ratio(a["rps"], b["rps"]),
                    _versus(a["p50_ms"], b["p50_ms"], 3),
                    _versus(a["p99_ms"], b["p99_ms"], 3),
                    _versus(after.cpu_us_per_request, before.cpu_us_per_request, 0),
                    _ratio(after.cpu_us_per_request, before.cpu_us_per_request),
                    f"{a['errors']} / {b['errors']}",
                ]
            )
    return rows


def stream_rows(points: list[Point], slope_points: list[Point]) -> list[list[str]]:
    rows = []
    for after, before in _pairs(points, "stream"):
        a, b = after.result, before.result
        cpu_a, cpu_b = (p.cpu_us_per_request / p.chunks for p in (after, before))
        row = [
            f"{after.level:g}",
            after.target,
            _ratio(a["rps"], b["rps"]),
            _versus(a["ttfb_p50_ms"], b["ttfb_p50_ms"], 2),
            _versus(a["ttfb_p99_ms"], b["ttfb_p99_ms"], 2),
            _versus(cpu_a, cpu_b, 1),
            _ratio(cpu_a, cpu_b),
        ]
        if slope_points:
            slope_a, slope_b = (
                chunk_slope(p, _get(slope_points, p.target, "stream", p.level))
                for p in (after, before)
            )
            both = slope_a is not None and slope_b is not None
            row.append(_versus(slope_a or 0.0, slope_b or 0.0, 1) if both else "-")
        rows.append([*row, f"{a['errors']} / {b['errors']}"])
    return rows


def comparison(points: list[Point], slope_points: list[Point], chunks: int) -> list[str]:
    """The "Before/after (same run)" tables of one worker count; empty without twins."""
    latency, streams = latency_rows(points), stream_rows(points, slope_points)
    if not latency and not streams:
        return []
    lines = ["Before/after (same run; after = this gateway, before = its `@base` twin):", ""]
    header = ["load", "target", "req/s after/before", "p50 ms after vs before"]
    header += ["p99 ms after vs before", "CPU us/req after vs before", "CPU after/before"]
    lines += _table([*header, "errors after / before"], latency)
    header = ["c", "target", "streams/s after/before", "TTFB p50 ms after vs before"]
    header += ["TTFB p99 ms after vs before", f"CPU us/chunk ({chunks} chunks) after vs before"]
    header += ["CPU/chunk after/before"]
    if slope_points:
        header += ["CPU per extra chunk us after vs before"]
    lines += ["", *_table([*header, "errors after / before"], streams)]
    return [*lines, ""]
