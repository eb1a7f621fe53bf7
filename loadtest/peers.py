"""`make bench-peers`: Switchyard's gateway and LiteLLM's proxy side by side, one run.

    python -m loadtest.peers --litellm .peers/litellm-venv/bin/litellm
                             [--workers 1,2] [--duration 5] [--concurrency 1,16,64]
                             [--stream-concurrency 64] [--rev REV] [--quick] [--output FILE]

Starts on 127.0.0.1 the fast upstream (loadtest/upstream.py), and for each worker count
Switchyard's gateway (`python -m app`, the bench's generated config) and LiteLLM's proxy
(loadtest/peers_litellm.py; its own virtualenv, created by the make target) with equal
workers. Each must answer correctly first; then, per load level, the direct upstream, the
gateway and LiteLLM one after the other (so drift on the shared machine hits them alike):
non-stream closed loops (wrk, as `make bench`), then streams (loadtest/gen.py). The points
are loadtest/bench.py's (CPU of the server's process tree, peak RSS per worker); the report,
loadtest/results/peers.md, states Switchyard / LiteLLM ratios (loadtest/peers_report.py).

--rev REV runs Switchyard's gateway from a detached git worktree of REV (as `make
bench-compare` runs its baseline) instead of the working tree, e.g. to measure HEAD while
app/ holds someone's unfinished edits.
"""

from __future__ import annotations

import argparse
import datetime
import json
import signal
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from loadtest import baseline, bench, peers_litellm, peers_report, procstat, stack, wrkrun
from loadtest.report import Point
from loadtest.scenarios import TARGETS, Target

HERE = Path(__file__).resolve().parent
REPORT = HERE / "results" / "peers.md"
RAW = HERE / "results" / "peers.json"
WARM_SECONDS = 2.0
SETTLE_SECONDS = 30.0

DIRECT, PASSTHROUGH = (
    next(t for t in TARGETS if t.name == name) for name in ("direct", "passthrough")
)
LITELLM = Target(
    peers_report.PEER,
    peers_litellm.SERVER,
    PASSTHROUGH.path,
    "openai",
    stack.OPENAI_MODEL,
    "LiteLLM's proxy: OpenAI Chat client -> `openai/` deployment on the fast upstream",
)
PEER_TARGETS = [DIRECT, PASSTHROUGH, LITELLM]


@dataclass
class PeerSettings:
    litellm: Path
    workers: list[int]
    concurrency: list[int]
    duration: float
    stream_concurrency: int
    output: Path | None
    use_wrk: bool
    rev: str = ""  # --rev as given, and the commit it names
    commit: str = ""
    chunks: int = 20
    checks: dict[int, list[str]] = field(default_factory=dict)
    gateway_code: dict[int, str] = field(default_factory=dict)

    @property
    def stream_duration(self) -> float:
        return max(self.duration, 3.0)


def parse_args(argv: list[str] | None) -> PeerSettings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--litellm", required=True, help="the `litellm` executable of its venv")
    parser.add_argument("--workers", default=None, help="worker counts, default 1,2 (quick: 1)")
    parser.add_argument("--duration", type=float, help="seconds per point (default 5, quick 2)")
    parser.add_argument("--concurrency", default="1,16,64", help="closed-loop levels")
    parser.add_argument("--stream-concurrency", type=int, default=64)
    parser.add_argument("--no-wrk", action="store_true", help="use the Python generator only")
    parser.add_argument("--rev", help="run Switchyard from a git worktree of this revision")
    parser.add_argument("--quick", action="store_true", help="a smoke run, printed, not written")
    parser.add_argument("--output", help="report file (default loadtest/results/peers.md)")
    args = parser.parse_args(argv)
    quick = args.quick
    output = Path(args.output) if args.output else (None if quick else REPORT)
    return PeerSettings(
        litellm=Path(args.litellm).absolute(),
        workers=_ints(args.workers or ("1" if quick else "1,2")),
        concurrency=_ints(args.concurrency),
        duration=min(args.duration or (2.0 if quick else 5.0), 30.0),
        stream_concurrency=args.stream_concurrency,
        output=output,
        use_wrk=wrkrun.available() and not args.no_wrk,
        rev=args.rev or "",
        commit=baseline.resolve(args.rev) if args.rev else "",
    )


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def bench_settings(settings: PeerSettings) -> bench.Settings:
    """loadtest/bench.py's settings for its measuring code: the same generators and points."""
    return bench.Settings(
        workers=settings.workers,
        concurrency=settings.concurrency,
        rates=[],
        duration=settings.duration,
        stream_concurrency=settings.stream_concurrency,
        stream_duration=settings.stream_duration,
        targets=PEER_TARGETS,
        use_wrk=settings.use_wrk,
        quick=False,
        output=None,
        chunks=settings.chunks,
    )


def upstream_stats(upstream: stack.Service) -> dict[str, int]:
    with urllib.request.urlopen(upstream.url + "/__stats", timeout=5) as response:
        stats: dict[str, int] = json.loads(response.read())
    return stats


def settle(service: stack.Service, upstream: stack.Service, limit: float = SETTLE_SECONDS) -> None:
    """Until the server has finished what it accepted: nothing in flight at the upstream and
    at most one CPU tick of its process tree in 0.2 s (LiteLLM idles at ~0.5 % of a core)."""
    deadline = time.monotonic() + limit
    pids = service.pids
    while time.monotonic() < deadline:
        in_flight = upstream_stats(upstream)["in_flight"]
        before = procstat.cpu_seconds(pids)
        time.sleep(0.2)
        if in_flight == 0 and procstat.cpu_seconds(pids) - before <= 0.011:
            return


def check_answers(runner: bench.Bench, targets: list[Target]) -> list[str]:
    """One non-stream request and one stream per target must be correct answers."""
    passed = []
    for target in targets:
        url = runner.services[target.server].url + target.path
        for stream in (False, True):
            status, body = peers_litellm.post(url, target.body(stream), target.headers)
            judge = peers_litellm.stream_problem if stream else peers_litellm.chat_problem
            problem = judge(status, body)
            if problem is not None:
                kind = "stream" if stream else "non-stream"
                raise RuntimeError(f"{target.name} answered a {kind} request wrongly: {problem}")
        passed.append(f"`{target.name}` non-stream and stream")
    return passed


def measure(
    runner: bench.Bench, workers: int, target: Target, kind: str, level: float, seconds: float
) -> Point:
    """bench.Bench.measure, then, once the server has settled, the requests the fast upstream
    received and the server's CPU including what it spent on requests still in flight when
    the generator stopped: a slow server is not charged that CPU per *answered* request."""
    service = runner.services[target.server]
    pids = service.pids
    cpu, requests = procstat.cpu_seconds(pids), upstream_stats(runner.upstream)["requests"]
    point = runner.measure(workers, target, kind, level, seconds)
    settle(service, runner.upstream)
    point.result["upstream_requests"] = upstream_stats(runner.upstream)["requests"] - requests
    point.result["settled_cpu_s"] = round(procstat.cpu_seconds(pids) - cpu, 3)
    return point


def run_block(runner: bench.Bench, settings: PeerSettings, workers: int, root: Path) -> None:
    with ExitStack() as services:
        peer = peers_litellm.launch(settings.litellm, runner.workdir, runner.upstream, workers)
        services.callback(peer.stop)
        gateway = stack.start_gateway(runner.workdir, runner.upstream, workers, root)
        services.callback(gateway.stop)
        settings.gateway_code[workers] = gateway.code
        peers_litellm.wait_ready(peer, workers)
        runner.services |= {"gateway": gateway, peers_litellm.SERVER: peer}
        settings.checks[workers] = check_answers(runner, PEER_TARGETS)
        for target in PEER_TARGETS:  # warm pools and LiteLLM's lazy imports; not recorded
            runner._generate(target, "closed", 16, WARM_SECONDS)
            settle(runner.services[target.server], runner.upstream)
        for level in settings.concurrency:
            for target in PEER_TARGETS:
                measure(runner, workers, target, "closed", level, settings.duration)
        for target in PEER_TARGETS:
            measure(
                runner,
                workers,
                target,
                "stream",
                settings.stream_concurrency,
                settings.stream_duration,
            )
        for name in ("gateway", peers_litellm.SERVER):
            runner.services.pop(name, None)


def run(settings: PeerSettings) -> list[Point]:
    with (
        tempfile.TemporaryDirectory(prefix="switchyard-peers-") as directory,
        ExitStack() as cleanup,
    ):
        workdir = Path(directory)
        root = stack.ROOT
        if settings.commit:
            checkout = baseline.worktree(settings.commit, workdir / "switchyard")
            root = cleanup.enter_context(checkout)
        upstream = stack.start_upstream(workdir, settings.chunks, bench.STREAM_DELAY_MS)
        cleanup.callback(upstream.stop)
        runner = bench.Bench(bench_settings(settings), workdir, upstream)
        for workers in settings.workers:
            print(f"Workers: {workers} (Switchyard: Granian, LiteLLM: uvicorn)", flush=True)
            run_block(runner, settings, workers, root)
    return runner.points


def _relative(path: Path) -> str:
    """A path as the report may show it: relative to the project (no machine paths)."""
    try:
        return str(path.relative_to(stack.ROOT))
    except ValueError:
        return path.name


def run_info(settings: PeerSettings, argv: list[str], elapsed: float) -> peers_report.RunInfo:
    machine = bench.environment()
    commit = machine.pop("commit", "-")
    example = peers_litellm.config(
        "http://127.0.0.1:<upstream port>", stack.OPENAI_MODEL, stack.CLIENT_KEY
    )
    command = peers_litellm.command(
        Path(_relative(settings.litellm)), Path("config.yaml"), Path("log_config.json"), 0, 0
    )
    command[command.index("--port") + 1] = "PORT"
    command[command.index("--num_workers") + 1] = "N"
    shown = ["python -m loadtest.peers", *(_shown_arg(a) for a in argv)]
    return peers_report.RunInfo(
        date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        command=" ".join(shown),
        elapsed_s=elapsed,
        commit=commit,
        machine=machine,
        peer_versions=peers_litellm.versions(settings.litellm),
        workers=settings.workers,
        duration=settings.duration,
        stream_duration=settings.stream_duration,
        stream_concurrency=settings.stream_concurrency,
        chunks=settings.chunks,
        generator="wrk (closed loops) and loadtest/gen.py (streams)"
        if settings.use_wrk
        else "loadtest/gen.py for everything: wrk was not available",
        gateway_code=settings.gateway_code,
        litellm_command=" ".join(command),
        litellm_env=peers_litellm.ENV,
        litellm_config_yaml=yaml.safe_dump(example, sort_keys=False),
        checks=settings.checks,
    )


def _shown_arg(arg: str) -> str:
    return _relative(Path(arg)) if Path(arg).is_absolute() else arg


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so every server started is stopped."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    settings = parse_args(args)
    signal.signal(signal.SIGTERM, _terminate)
    if not settings.use_wrk:
        print("wrk not found: closed loops use loadtest/gen.py (slower)", flush=True)
    started = time.monotonic()
    points = run(settings)
    elapsed = time.monotonic() - started
    text = peers_report.render(run_info(settings, args, elapsed), points)
    if settings.output is None:
        print(text)
        return
    settings.output.parent.mkdir(exist_ok=True)
    settings.output.write_text(text, encoding="utf-8")
    RAW.write_text(json.dumps(peers_report.points_json(points), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {_relative(settings.output)} in {elapsed:.0f} s")


if __name__ == "__main__":
    main()
