"""`make bench`: the gateway side by side with the fast upstream and the bare relay, one run.

    python -m loadtest.bench [--quick] [--workers 1,2] [--duration 5] [--only passthrough,...]
                             [--concurrency 1,16,64,256] [--rates 200,1000] [--output FILE]
                             [--baseline REV] [--chunks 20] [--chunk-slope]
    python -m loadtest.bench --profile          (py-spy profiles, see loadtest/profile.py)
    python -m loadtest.bench --streams-1000 | --soak MINUTES   (see loadtest/longrun.py)

Starts on 127.0.0.1 the fast upstream (loadtest/upstream.py), and for each Granian worker
count the bare relay (loadtest/relay.py) and the gateway (`python -m app`, a generated config
with one account per upstream protocol on the fast upstream). Then, interleaving the targets
at each load level so that drift on the shared machine hits them alike:
non-stream closed loops (wrk, or loadtest/gen.py without it), open-loop fixed rates
(loadtest/gen.py, latency from the scheduled send time) and streams (loadtest/gen.py).
Each point records the server process tree's CPU (utime+stime, /proc) and its workers' peak
RSS. The report replaces the generated part of loadtest/RESULTS.md.

--baseline REV adds a second gateway on git revision REV and a twin `<target>@base` of every
gateway target, with a before/after table from the same run (loadtest/baseline.py).
--chunk-slope measures each stream again at 100 chunks: (CPU at 100 - CPU at --chunks) per
extra chunk is the incremental cost of a chunk, without the per-request setup.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from loadtest import baseline, procstat, report, stack, wrkrun
from loadtest.report import Point, median_points
from loadtest.scenarios import TARGET_NAMES, TARGETS, Target

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
STREAM_DELAY_MS = 10.0
RELAY_AIOHTTP = "relay-aiohttp"
SLOPE_CHUNKS = 100  # --chunk-slope: the second chunk count of every stream point


@dataclass
class Settings:
    workers: list[int]
    concurrency: list[int]
    rates: list[float]
    duration: float
    stream_concurrency: int
    stream_duration: float
    targets: list[Target]
    use_wrk: bool
    quick: bool
    output: Path | None
    chunks: int = 20  # text chunks per stream
    slope_chunks: int = 0  # with --chunk-slope, SLOPE_CHUNKS
    baseline: str = ""  # --baseline REV as given, and the commit it named
    baseline_commit: str = ""
    code: dict[int, str] = field(default_factory=dict)  # workers -> app/ code the gateway ran
    base_code: dict[int, str] = field(default_factory=dict)  # the same for the baseline
    rounds: int = 1  # every point measured this many times, interleaved; the median kept


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="short points: a smoke check")
    parser.add_argument("--workers", help="Granian worker counts, e.g. 1,2")
    parser.add_argument("--duration", type=float, help="seconds per point (default 5, quick 2)")
    parser.add_argument("--only", help=f"targets among {','.join(TARGET_NAMES)} (direct is kept)")
    parser.add_argument("--concurrency", help="closed-loop levels, default 1,16,64,256")
    parser.add_argument("--rates", help="open-loop rates in requests/s, default 200,1000")
    parser.add_argument("--stream-concurrency", type=int, default=64)
    parser.add_argument("--no-wrk", action="store_true", help="use the Python generator only")
    parser.add_argument("--output", help="report file (default loadtest/RESULTS.md; quick: none)")
    parser.add_argument(
        "--baseline", metavar="REV", help="also measure the gateway of git revision REV"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure every point N times, targets interleaved, and report the median round",
    )
    parser.add_argument("--chunks", type=int, default=20, help="text chunks per stream")
    parser.add_argument(
        "--chunk-slope",
        action="store_true",
        help=f"streams also at {SLOPE_CHUNKS} chunks: CPU per extra chunk",
    )
    parser.add_argument("--profile", action="store_true", help="record py-spy profiles instead")
    parser.add_argument("--profile-seconds", type=float, default=10.0)
    parser.add_argument(
        "--streams-1000", action="store_true", help="memory per open stream, instead"
    )
    parser.add_argument("--open-streams", type=int, default=1000)
    parser.add_argument("--soak", type=float, metavar="MINUTES", help="RSS soak, instead")
    return parser.parse_args(argv)


def _numbers(text: str | None, default: str) -> list[float]:
    return [float(x) for x in (text or default).split(",") if x.strip()]


def settings_from(args: argparse.Namespace) -> Settings:
    quick = args.quick
    names = {"direct", *(args.only.split(",") if args.only else TARGET_NAMES)}
    unknown = names - set(TARGET_NAMES)
    if unknown:
        raise SystemExit(f"unknown targets {sorted(unknown)}; known: {TARGET_NAMES}")
    duration = min(args.duration or (2.0 if quick else 5.0), 60.0)
    output = Path(args.output) if args.output else (None if quick else RESULTS)
    if not 1 <= args.rounds <= 9:
        raise SystemExit("--rounds must be between 1 and 9")
    if args.chunk_slope and not 1 <= args.chunks < SLOPE_CHUNKS:
        raise SystemExit(f"--chunk-slope needs --chunks below {SLOPE_CHUNKS}")
    targets = [t for t in TARGETS if t.name in names]
    commit = baseline.resolve(args.baseline) if args.baseline else ""
    if commit:
        targets = baseline.with_twins(targets, f"{args.baseline}, {commit[:9]}")
    return Settings(
        workers=[int(x) for x in _numbers(args.workers, "1" if quick else "1,2")],
        concurrency=[
            int(x) for x in _numbers(args.concurrency, "1,64" if quick else "1,16,64,256")
        ],
        rates=_numbers(args.rates, "200" if quick else "200,1000"),
        duration=duration,
        stream_concurrency=args.stream_concurrency,
        stream_duration=max(duration, 3.0),
        targets=targets,
        use_wrk=wrkrun.available() and not args.no_wrk,
        quick=quick,
        output=output,
        chunks=max(1, args.chunks),
        slope_chunks=SLOPE_CHUNKS if args.chunk_slope else 0,
        baseline=args.baseline or "",
        baseline_commit=commit,
        rounds=args.rounds,
    )


class Bench:
    """One run: the services of the current worker count, and the points measured."""

    def __init__(
        self,
        settings: Settings,
        workdir: Path,
        upstream: stack.Service,
        base_root: Path | None = None,
    ) -> None:
        self.settings = settings
        self.workdir = workdir
        self.upstream = upstream
        self.base_root = base_root  # the worktree of --baseline REV
        self.services: dict[str, stack.Service] = {"upstream": upstream}
        self.points: list[Point] = []
        self.chunks = settings.chunks  # what the fake upstream streams now

    def run_block(self, workers: int) -> None:
        servers = {t.server for t in self.settings.targets}
        try:
            if "relay" in servers:
                self.services["relay"] = stack.start_relay(self.workdir, self.upstream, workers)
            if RELAY_AIOHTTP in servers:
                self.services[RELAY_AIOHTTP] = stack.start_relay(
                    self.workdir, self.upstream, workers, client="aiohttp"
                )
            if "gateway" in servers:
                gateway = stack.start_gateway(self.workdir, self.upstream, workers)
                self.services["gateway"], self.settings.code[workers] = gateway, gateway.code
            if baseline.SERVER in servers and self.base_root is not None:
                base = stack.start_gateway(
                    self.workdir, self.upstream, workers, self.base_root, baseline.SERVER
                )
                self.services[baseline.SERVER] = base
                self.settings.base_code[workers] = base.code
            self._measure_all(workers)
        finally:
            for name in ("relay", RELAY_AIOHTTP, "gateway", baseline.SERVER):
                service = self.services.pop(name, None)
                if service is not None:
                    service.stop()

    def _measure_all(self, workers: int) -> None:
        s = self.settings
        for target in s.targets:  # warm pools and caches; not recorded
            self._generate(target, "closed", 16, 1.0)
        # With --rounds, each level's targets are measured round after round, so that
        # drift on the machine lands on every target alike; the report keeps the median.
        for concurrency in s.concurrency:
            for _ in range(s.rounds):
                for target in s.targets:
                    self.measure(workers, target, "closed", concurrency, s.duration)
        for rate in s.rates:
            for _ in range(s.rounds):
                for target in s.targets:
                    self.measure(workers, target, "open", rate, s.duration)
        for _ in range(s.rounds):
            for target in s.targets:
                self.measure(workers, target, "stream", s.stream_concurrency, s.stream_duration)
                if s.slope_chunks:  # right after, so drift hardly enters the difference
                    self.set_chunks(s.slope_chunks)
                    self.measure(workers, target, "stream", s.stream_concurrency, s.stream_duration)
                    self.set_chunks(s.chunks)

    def set_chunks(self, chunks: int) -> None:
        """Text chunks of the fake upstream's following streams (its /__chunks endpoint)."""
        body = json.dumps({"chunks": chunks}).encode()
        request = urllib.request.Request(self.upstream.url + "/__chunks", body, method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()
        self.chunks = chunks

    def measure(
        self, workers: int, target: Target, kind: str, level: float, duration: float
    ) -> Point:
        service = self.services[target.server]
        pids, worker_pids, upstream_pids = service.pids, service.workers, self.upstream.pids
        procstat.reset_peak(worker_pids)
        cpu, upstream_cpu = procstat.cpu_seconds(pids), procstat.cpu_seconds(upstream_pids)
        result = self._generate(target, kind, level, duration)
        point = Point(
            workers=workers,
            kind=kind,
            level=level,
            target=target.name,
            result=result,
            cpu_s=procstat.cpu_seconds(pids) - cpu,
            upstream_cpu_s=procstat.cpu_seconds(upstream_pids) - upstream_cpu,
            peak_rss_kb=[procstat.status_kb(pid, "VmHWM") for pid in worker_pids],
            chunks=self.chunks if kind == "stream" else 0,
        )
        self.points.append(point)
        _progress(point)
        return point

    def _generate(self, target: Target, kind: str, level: float, duration: float) -> dict[str, Any]:
        url = self.services[target.server].url + target.path
        body_file = target.body_file(self.workdir, kind == "stream")
        if kind == "closed" and self.settings.use_wrk:
            return wrkrun.run_wrk(url, body_file, target.headers, int(level), duration)
        command = [sys.executable, "-m", "loadtest.gen", "--url", url, "--mode", kind]
        command += ["--body-file", str(body_file), "--duration", str(duration)]
        command += ["--rate" if kind == "open" else "--concurrency", f"{level:g}"]
        for header in target.headers:
            command += ["--header", header]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + 60, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"loadtest.gen failed:\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        result["generator"] = "loadtest.gen"
        return result


def _progress(point: Point) -> None:
    r = point.result
    extra = ""
    if point.kind == "stream":
        extra = f" ttfb p50 {r['ttfb_p50_ms']:.2f} ms, {point.chunks} chunks"
    print(
        f"  w{point.workers} {point.kind:6} {point.level:>6g} {point.target:25} "
        f"{r['rps']:>9,.0f}/s  p50 {r['p50_ms']:7.3f} ms  p99 {r['p99_ms']:8.3f} ms{extra}  "
        f"cpu {point.cpu_us_per_request:6.0f} us/req  errors {r['errors']}",
        flush=True,
    )


def run(settings: Settings) -> list[Point]:
    with (
        tempfile.TemporaryDirectory(prefix="switchyard-bench-") as directory,
        ExitStack() as cleanup,
    ):
        workdir = Path(directory)
        base_root = None
        if settings.baseline_commit:
            checkout = baseline.worktree(settings.baseline_commit, workdir / "baseline")
            base_root = cleanup.enter_context(checkout)
        upstream = stack.start_upstream(workdir, settings.chunks, STREAM_DELAY_MS)
        cleanup.callback(upstream.stop)
        bench = Bench(settings, workdir, upstream, base_root)
        for workers in settings.workers:
            print(f"Granian workers: {workers}", flush=True)
            bench.run_block(workers)
    return bench.points


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C: servers stopped, the baseline worktree removed."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.profile:
        from loadtest import profile

        profile.run_profiles(args.profile_seconds)
        return
    if args.streams_1000 or args.soak:
        from loadtest import longrun

        if args.streams_1000:
            print(longrun.write("streams-1000", longrun.streams_1000(args.open_streams)))
        if args.soak:
            print(longrun.write("soak", longrun.soak(args.soak)))
        return
    settings = settings_from(args)
    signal.signal(signal.SIGTERM, _terminate)
    if not settings.use_wrk:
        print("wrk not found: closed loops use loadtest/gen.py (slower)", flush=True)
    env, started = environment(), time.monotonic()
    measured = run(settings)
    elapsed = time.monotonic() - started
    points = median_points(measured)
    text = render(settings, points, env, elapsed, argv) + "\n" + in_process(settings.quick)
    if settings.output is None:
        print(text)
        return
    report.splice(settings.output, text)
    raw = HERE / "results" / "bench.json"
    raw.parent.mkdir(exist_ok=True)
    raw.write_text(json.dumps([asdict(p) for p in measured], indent=1) + "\n", encoding="utf-8")
    print(f"wrote {settings.output.name} in {elapsed:.0f} s")


def in_process(quick: bool) -> str:
    """loadtest/inproc.py's table (the gateway's own code, no server or client), as a
    section of the report: how much of the CPU per request above is ours."""
    requests = "500" if quick else "3000"
    command = [sys.executable, "-m", "loadtest.inproc", "--requests", requests, "--markdown"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    if done.returncode != 0:
        return f"### In-process cost\n\nloadtest/inproc.py failed: {done.stderr[-500:]}\n"
    return done.stdout


def environment() -> dict[str, str]:
    versions = {}
    for package in ("granian", "blacksheep", "aiohttp", "orjson", "uvloop", "pydantic-core"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "-"
    wrk = "-"
    if wrkrun.available():
        done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
        wrk = (done.stdout or done.stderr).split("[")[0].strip() or "wrk"
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
    ).stdout.strip()
    changed = subprocess.run(
        ["git", "status", "--porcelain", "app"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    return {
        "CPU": procstat.cpu_model(),
        "cores": str(os.cpu_count()),
        "kernel": platform.release(),
        "python": platform.python_version(),
        **versions,
        "wrk": wrk,
        # Other work on the machine skews every figure; the ratios less so.
        "load average at start (1/5/15 min)": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "app/ files with uncommitted changes at start": str(len(changed)),
        "commit": commit or "-",
    }


def render(
    settings: Settings,
    points: list[Point],
    env: dict[str, str],
    elapsed: float,
    argv: list[str] | None,
) -> str:
    from loadtest.summary import render_report

    command = " ".join(["python -m loadtest.bench", *(argv if argv is not None else sys.argv[1:])])
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return render_report(settings, points, env, command.strip(), date, elapsed)


if __name__ == "__main__":
    main()
