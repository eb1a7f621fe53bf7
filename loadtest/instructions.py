"""Instructions per request of the gateway's own code, counted by valgrind's callgrind.

A CPU cost that repeats to ~0.5% where timings on this machine move 15-20% between runs.

    python -m loadtest.instructions [--only passthrough,...] [--baseline REV] [--output FILE]
                                    [--jobs 2]
    make instructions ARGS="--baseline HEAD~1"

Each figure comes from child processes running loadtest/inproc.py's harness (the real ASGI
app, every account's transport a stub answering from memory) on one case under
`PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null`, which prints the
instructions the process executed (`Collected : N`). A child makes 30 warm-up requests, then
N more; with N = 20 and N = 60, instructions per request = (Ir(60) - Ir(20)) / 40: start-up,
imports and the warm-up are in both counts and cancel. A `-stream` case is measured again at
100 chunks: instructions per extra chunk = (per request at 100 chunks - at 20) / 80.
What is counted is the interpreter running BlackSheep, the gateway's code and the harness's
ASGI calls and stubs (the same on both sides of a comparison); no server, client or kernel.

--baseline REV measures the same cases with the `app` package of git revision REV, from a
detached worktree (loadtest/baseline.py); the harness, this file included, stays the working
tree's, so REV's app must still fit it. Its table gives before, after and after/before per
case. A child that imported any `app` module from elsewhere fails.

Each case and side runs once without valgrind first: a check that it answers, and its
bytecode written before anything is counted (a child that compiles a module does not cancel
one that reads it). A valgrind child takes 25-60 s; --jobs of them (2) run at once. Progress
goes to stderr, the section to stdout (and --output); all 8 cases take ~5 min, twice that
with --baseline. Read the after/before ratios: the same app/ on both sides gave 0.998x-0.999x,
so a change under ~0.5% is within the method's noise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from loadtest import baseline, inproc
from loadtest.stack import ROOT, app_state

WARMUP = 30
SHORT, LONG = 20, 60  # requests counted after the warm-up; their difference is what is kept
CHUNKS, MORE_CHUNKS = 20, 100
CHILD_TIMEOUT = 1800.0  # seconds; a claude-code case under valgrind takes a few minutes at most

_COLLECTED = re.compile(r"^==\d+== Collected : (\d+)\s*$", re.MULTILINE)


class MeasureError(RuntimeError):
    """A child failed or did not report what it counted."""


def collected(stderr: str) -> int:
    """The instruction count of callgrind's `==PID== Collected : N` line in valgrind's stderr."""
    found = _COLLECTED.findall(stderr)
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise MeasureError(f"{what} 'Collected : N' line in valgrind's output:\n{tail}")
    return int(found[0])


def per_request(
    short: int, long: int, short_requests: int = SHORT, long_requests: int = LONG
) -> float:
    """Instructions per request from the counts of two children that differ only in requests."""
    if long_requests <= short_requests:
        raise ValueError("the long run must make more requests than the short one")
    return (long - short) / (long_requests - short_requests)


def per_extra_chunk(
    at_few: float, at_many: float, few: int = CHUNKS, many: int = MORE_CHUNKS
) -> float:
    """Instructions per extra stream chunk from the per-request figures at two chunk counts."""
    if many <= few:
        raise ValueError("the second chunk count must be the larger")
    return (at_many - at_few) / (many - few)


@dataclass(frozen=True)
class Row:
    case: str
    per_request: float
    per_extra_chunk: float | None = None


@dataclass(frozen=True)
class Run:
    """One child: a case at a chunk count and request count, with the `app` of `root`."""

    side: str  # "after" (the working tree) or "before" (--baseline)
    root: Path
    case: str
    chunks: int
    requests: int

    def argv(self, warmup: int = WARMUP, requests: int | None = None) -> list[str]:
        command = [sys.executable, "-m", "loadtest.instructions", "--child", self.case]
        command += ["--chunks", str(self.chunks), "--warmup", str(warmup)]
        command += ["--requests", str(self.requests if requests is None else requests)]
        return [*command, "--app-root", str(self.root)]

    def __str__(self) -> str:
        return f"{self.side} {self.case} chunks={self.chunks} requests={self.requests}"


def plan(cases: list[inproc.Case], sides: Mapping[str, Path]) -> list[Run]:
    """Every child the figures need, cases in order, each case's sides next to each other."""
    runs = []
    for case in cases:
        for side, root in sides.items():
            for chunks in (CHUNKS, MORE_CHUNKS) if case.stream else (CHUNKS,):
                runs += [Run(side, root, case.name, chunks, n) for n in (SHORT, LONG)]
    return runs


def rows(counts: Mapping[Run, int], side: str, cases: list[inproc.Case]) -> list[Row]:
    """Per-request and per-extra-chunk figures of one side from its children's counts."""

    found = {
        (run.case, run.chunks, run.requests): n for run, n in counts.items() if run.side == side
    }

    def count(case: inproc.Case, chunks: int, requests: int) -> int:
        if (case.name, chunks, requests) not in found:
            raise KeyError(f"no count for {side} {case.name} chunks={chunks} requests={requests}")
        return found[case.name, chunks, requests]

    result = []
    for case in cases:
        at_few = per_request(count(case, CHUNKS, SHORT), count(case, CHUNKS, LONG))
        extra = None
        if case.stream:
            at_many = per_request(count(case, MORE_CHUNKS, SHORT), count(case, MORE_CHUNKS, LONG))
            extra = per_extra_chunk(at_few, at_many)
        result.append(Row(case.name, at_few, extra))
    return result


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _ratio(after: float | None, before: float | None) -> str:
    return "-" if after is None or not before else f"{after / before:.3f}x"


def table(after: list[Row], before: list[Row] | None = None) -> list[str]:
    """The markdown table: one side, or before / after / after-over-before per case."""
    if before is None:
        header = ["case", "instructions/request", "per extra chunk"]
        body = [[r.case, _number(r.per_request), _number(r.per_extra_chunk)] for r in after]
    else:
        header = ["case", "instructions/request before", "after", "after/before"]
        header += ["per extra chunk before", "after", "after/before"]
        old = {r.case: r for r in before}
        body = []
        for a in after:
            b = old[a.case]
            body.append(
                [
                    a.case,
                    _number(b.per_request),
                    _number(a.per_request),
                    _ratio(a.per_request, b.per_request),
                    _number(b.per_extra_chunk),
                    _number(a.per_extra_chunk),
                    _ratio(a.per_extra_chunk, b.per_extra_chunk),
                ]
            )
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in body]


def render(
    command: str,
    after: list[Row],
    before: list[Row] | None = None,
    notes: list[str] | None = None,
    heading: str = "#",
) -> str:
    lines = [
        f"{heading} Instructions per request of the gateway's code",
        "",
        f"`{command}`: loadtest/inproc.py's harness (the real ASGI app, stub transports "
        "answering from memory) under valgrind's callgrind, `PYTHONHASHSEED=0`. "
        f"Per request = (Ir after {LONG} requests - Ir after {SHORT}) / {LONG - SHORT}, "
        f"both after the same {WARMUP}-request warm-up, so start-up and imports cancel. "
        f"Streams: {CHUNKS} chunks; per extra chunk = (per request at {MORE_CHUNKS} chunks - "
        f"at {CHUNKS}) / {MORE_CHUNKS - CHUNKS}. Counts repeat to ~0.5%.",
        "",
        *(f"- {note}" for note in notes or []),
        *([""] if notes else []),
        *table(after, before),
    ]
    return "\n".join(lines) + "\n"


# --- running the children -------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env["PYTHONHASHSEED"] = "0"
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the priming run's bytecode is what is counted
    return env


def _run(command: list[str], what: str) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,  # `-m loadtest.instructions` is this tree's; --app-root picks the app
            env=_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise MeasureError(f"{what}: not done in {CHILD_TIMEOUT:.0f} s") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-20:])
        raise MeasureError(f"{what}: exit status {done.returncode}\n{tail}")
    return done


def prime(run: Run) -> None:
    """The child once without valgrind: it answers, and its bytecode is written."""
    _run(run.argv(warmup=1, requests=1), f"{run.side} {run.case} (check without valgrind)")


def count(run: Run) -> int:
    """The instructions valgrind counted for one child."""
    valgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    return collected(_run([*valgrind, *run.argv()], str(run)).stderr)


def _parallel(runs: list[Run], work: Callable[[Run], int | None], jobs: int) -> dict[Run, int]:
    """`work` on every run, `jobs` at a time, a progress line on stderr as each one ends."""
    results: dict[Run, int] = {}
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(work, run): run for run in runs}
        try:
            for done, future in enumerate(as_completed(futures), 1):
                run, value = futures[future], future.result()
                if value is not None:
                    results[run] = value
                shown = "" if value is None else f": {value:,} instructions"
                elapsed = time.monotonic() - started
                print(
                    f"  [{done}/{len(runs)}, {elapsed:.0f} s] {run}{shown}",
                    file=sys.stderr,
                    flush=True,
                )
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # the running ones end on their own
            raise
    return results


def code_digest(root: Path = ROOT) -> str:
    """A hash of app/ and loadtest/'s Python sources, to notice edits during a run: they would
    mix two versions, and a child that recompiles a module does not cancel one that did not."""
    digest = hashlib.sha256()
    for path in sorted([*(root / "app").rglob("*.py"), *(root / "loadtest").rglob("*.py")]):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# --- the child ------------------------------------------------------------------------------


async def _requests(case: inproc.Case, chunks: int, warmup: int, requests: int) -> int:
    harness = inproc.Harness(chunks)
    await harness.app.start()  # type: ignore[no-untyped-call]
    body = case.body(case.stream)
    headers = inproc._headers(case, body)
    size = 0
    try:
        for _ in range(warmup):
            await harness.request(case, body, headers)
        for _ in range(requests):
            size += len(await harness.request(case, body, headers))
    finally:
        await harness.app.stop()  # type: ignore[no-untyped-call]
    return size


def child(case: inproc.Case, chunks: int, warmup: int, requests: int, app_root: Path) -> None:
    """Runs the requests with `app` imported from `app_root`; fails if any came from elsewhere."""
    import uvloop

    root = app_root.resolve()
    if any(name == "app" or name.startswith("app.") for name in sys.modules):
        raise SystemExit("child: `app` was imported before --app-root could choose it")
    sys.path.insert(0, str(root))  # ahead of the cwd and of the editable install's finder
    size = uvloop.run(_requests(case, chunks, warmup, requests))
    foreign = sorted(
        name
        for name, module in sys.modules.items()
        if (name == "app" or name.startswith("app."))
        and getattr(module, "__file__", None)
        and not Path(str(module.__file__)).resolve().is_relative_to(root / "app")
    )
    if foreign:
        raise SystemExit(f"child: {', '.join(foreign[:5])} not imported from {root / 'app'}")
    print(json.dumps({"case": case.name, "requests": requests, "bytes": size}))


# --- the parent -----------------------------------------------------------------------------


def measure(cases: list[inproc.Case], sides: Mapping[str, Path], jobs: int) -> dict[str, list[Row]]:
    runs = plan(cases, sides)
    checks = [run for run in runs if run.chunks == CHUNKS and run.requests == SHORT]
    print(f"checking {len(checks)} case(s) without valgrind", file=sys.stderr, flush=True)
    _parallel(checks, prime, jobs)
    print(f"{len(runs)} valgrind runs, {jobs} at a time", file=sys.stderr, flush=True)
    counts = _parallel(runs, count, jobs)
    return {side: rows(counts, side, cases) for side in sides}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", help="comma-separated case names (default: all)")
    parser.add_argument("--baseline", metavar="REV", help="also measure the app of this revision")
    parser.add_argument("--output", type=Path, help="also write the section here")
    parser.add_argument("--jobs", type=int, default=2, help="valgrind children at once")
    parser.add_argument("--child", metavar="CASE", help=argparse.SUPPRESS)
    parser.add_argument("--chunks", type=int, default=CHUNKS, help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=SHORT, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, default=WARMUP, help=argparse.SUPPRESS)
    parser.add_argument("--app-root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    by_name = {case.name: case for case in inproc.CASES}
    names = args.only.split(",") if args.only else list(by_name)
    if args.child:
        names = [args.child]
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise SystemExit(f"unknown case(s) {', '.join(unknown)}; cases: {', '.join(by_name)}")
    if args.child:
        child(by_name[args.child], args.chunks, args.warmup, args.requests, args.app_root)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit(
            "valgrind is not on PATH: this counts instructions with valgrind's callgrind "
            "(Debian/Ubuntu: apt-get install valgrind)"
        )
    cases = [by_name[name] for name in names]
    given = shlex.join(sys.argv[1:] if argv is None else argv)
    command = f"python -m loadtest.instructions {given}".strip()
    digest = code_digest()
    notes = [f"after: {app_state()}" if args.baseline else app_state()]
    started = time.monotonic()
    with ExitStack() as stack:
        sides = {"after": ROOT}
        if args.baseline:
            commit = baseline.resolve(args.baseline)
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="instr-")))
            base = stack.enter_context(baseline.worktree(commit, directory / "base"))
            sides = {"before": base, "after": ROOT}
            notes.insert(0, f"before: `--baseline {args.baseline}` = commit `{commit[:12]}`")
        try:
            figures = measure(cases, sides, args.jobs)
        except MeasureError as exc:
            raise SystemExit(f"loadtest.instructions: {exc}") from None
    elapsed = time.monotonic() - started
    notes.append(f"CPython {platform.python_version()}, {_valgrind_version()}; {elapsed:.0f} s")
    if code_digest() != digest:
        notes.append("**app/ or loadtest/ changed during the run: the figures may not hold**")
    text = render(command, figures["after"], figures.get("before"), notes)
    print(text)
    if args.output:
        args.output.write_text(text, encoding="utf-8")


def _valgrind_version() -> str:
    done = subprocess.run(["valgrind", "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "valgrind"


if __name__ == "__main__":
    main()
