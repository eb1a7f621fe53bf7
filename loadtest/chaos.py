"""Chaos run for the account pool: steady load while accounts fail and recover.

Three fast fake upstreams (``loadtest.upstream``), one process per account, serve one
public model: ``a`` and ``b`` speak OpenAI Chat, ``c`` speaks Anthropic, all in one
priority tier. The pool tries the accounts that speak the client's protocol first, so
Chat clients land on a/b and Anthropic clients on c, and every fault also exercises
cross-protocol failover (Anthropic -> Chat when c fails, Chat -> Anthropic when a and b
fail together).

An open-loop client sends a fixed rate of Chat and Anthropic requests, half of them
streamed, while a schedule of phases sets faults on the upstreams (``POST /__fault``) or
kills and restarts one of them. Each request is judged from the client's side: an error
is a non-2xx answer, or a stream without its final event or with an in-stream error.

``python -m loadtest.chaos [--duration 60] [--rate 150]`` writes
``loadtest/results/chaos.md`` (see ``loadtest.chaos_report``) and exits 1 when a client
saw an error while at least one account stayed healthy for the whole request.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import uvloop

from loadtest import chaos_report
from loadtest.chaos_report import ACCOUNTS, KILL, Phase, PhaseRecord, Sample
from loadtest.stack import end_group, free_port, spawn

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "loadtest" / "results" / "chaos.md"
HOST = "127.0.0.1"
MODEL = "chaos-model"
CLIENT_KEY = "sk-chaos-client-key"
PROVIDER_KEY = "sk-chaos-provider-key"
ADMIN_TOKEN = "chaos-admin-token"
CLIENT_TIMEOUT = 30.0  # seconds; far above any failover path, so a hang shows as an error
MAX_IN_FLIGHT = 2000  # the client's own bound; requests beyond it are counted as skipped
ADMIN_POLL = 0.25  # seconds between two reads of /admin/accounts
READY_TIMEOUT = 20.0

OK: Mapping[str, Any] = {"mode": "ok"}
E503: Mapping[str, Any] = {"mode": "status", "status": 503}
E429: Mapping[str, Any] = {"mode": "status", "status": 429, "retry_after": 2}
HANG: Mapping[str, Any] = {"mode": "hang"}
DROP: Mapping[str, Any] = {"mode": "drop"}
STREAM_ERROR: Mapping[str, Any] = {"mode": "stream_error"}

# Phase lengths add up to 60 s (warm-up aside) and are scaled by --duration / 60. Each
# single fault follows a phase where its account was healthy for longer than the 2 s
# cooldown cap, so that its breaker has closed again when the fault starts.
SCHEDULE = (
    Phase("warm-up", 2.0, scaled=False),
    Phase("baseline", 6.0),
    Phase("a 503", 4.0, {"a": E503}),
    Phase("b hangs", 5.0, {"b": HANG}),
    Phase("a 429, retry-after 2 s", 4.0, {"a": E429}),
    Phase("b drops connections", 4.0, {"b": DROP}),
    Phase("c in-band stream error", 4.0, {"c": STREAM_ERROR}),
    Phase("a killed", 4.0, {"a": KILL}),
    Phase("a restarted", 4.0, restart=("a",)),
    Phase("a 503 + b hangs", 5.0, {"a": E503, "b": HANG}),
    Phase("b drops + c 503", 5.0, {"b": DROP, "c": E503}),
    Phase("recovered", 5.0),
    Phase("all 503 (outage)", 4.0, {"a": E503, "b": E503, "c": E503}),
    Phase("after the outage", 6.0),
)
Process = subprocess.Popen[bytes]
SCHEDULE_SECONDS = sum(phase.seconds for phase in SCHEDULE if phase.scaled)


def has_line(path: Path, marker: bytes) -> bool:
    return path.exists() and marker in path.read_bytes()


async def wait_for_line(path: Path, marker: bytes, process: Process) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if await asyncio.to_thread(has_line, path, marker):
            return
        if process.poll() is not None:
            raise RuntimeError(f"{path.name}: exited with {process.returncode}")
        await asyncio.sleep(0.02)
    raise RuntimeError(f"{path.name}: no {marker!r} within {READY_TIMEOUT} s")


@dataclass
class Upstream:
    """One fake-upstream process for one account; killed and restarted on the same port."""

    name: str
    port: int
    workdir: Path
    flags: Sequence[str]
    process: Process | None = None
    generation: int = 0
    retired: int = 0  # requests counted by processes that were killed since
    last: int = 0  # the latest count read from the running process

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def start(self) -> None:
        self.generation += 1
        self.retired, self.last = self.retired + self.last, 0
        log = self.workdir / f"upstream-{self.name}-{self.generation}.log"
        command = [sys.executable, "-m", "loadtest.upstream", "--host", HOST]
        command += ["--port", str(self.port), *self.flags]
        self.process = await asyncio.to_thread(spawn, command, log)
        await wait_for_line(log, f"ready {self.port}".encode(), self.process)

    def kill(self) -> None:
        if self.process is not None:
            end_group(self.process, signal.SIGKILL)

    def stop(self) -> None:
        if self.process is not None:
            end_group(self.process)

    async def fault(self, http: aiohttp.ClientSession, mode: Mapping[str, Any]) -> None:
        async with http.post(f"{self.url}/__fault", data=orjson.dumps(mode)) as response:
            if response.status != 200:
                raise RuntimeError(f"upstream {self.name}: /__fault answered {response.status}")

    async def requests(self, http: aiohttp.ClientSession) -> int:
        """Provider requests this account's upstream received so far, across restarts."""
        if self.alive:
            async with http.get(f"{self.url}/__stats") as response:
                self.last = int(orjson.loads(await response.read())["requests"])
        return self.retired + self.last


@dataclass
class Gateway:
    port: int
    log: Path
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    async def start(self, config: Path, http: aiohttp.ClientSession) -> None:
        command = [sys.executable, "-m", "app", "--config", str(config)]
        command += ["--host", HOST, "--port", str(self.port), "--workers", "1"]
        self.process = await asyncio.to_thread(spawn, command, self.log, gateway_env())
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the gateway exited:\n{self.log.read_text()[-3000:]}")
            with suppress(aiohttp.ClientError):
                async with http.get(f"{self.url}/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)
        raise RuntimeError("the gateway was not ready in time")

    async def accounts(self, http: aiohttp.ClientSession) -> dict[str, dict[str, Any]]:
        headers = {"authorization": f"Bearer {ADMIN_TOKEN}"}
        async with http.get(f"{self.url}/admin/accounts", headers=headers) as response:
            document = orjson.loads(await response.read())
        return {account["name"]: account for account in document["accounts"]}

    def stop(self) -> None:
        if self.process is not None:
            end_group(self.process)


def gateway_env() -> dict[str, str]:
    """The caller's environment without anything that would add real providers."""
    scrubbed = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY")
    env = {k: v for k, v in os.environ.items() if k not in scrubbed}
    env = {k: v for k, v in env.items() if not k.startswith("SWITCHYARD_")}
    env.update(
        CHAOS_PROVIDER_KEY=PROVIDER_KEY,
        CHAOS_CLIENT_KEY=CLIENT_KEY,
        CHAOS_ADMIN_TOKEN=ADMIN_TOKEN,
        PYTHONUNBUFFERED="1",
    )
    return env


def gateway_config(upstreams: Mapping[str, Upstream]) -> str:
    """Short timeouts and a small breaker, so that every fault trips within its phase."""
    accounts = [
        ("a", "openai-compatible", f"{upstreams['a'].url}/v1"),
        ("b", "openai-compatible", f"{upstreams['b'].url}/v1"),
        ("c", "anthropic", upstreams["c"].url),
    ]
    tables = "".join(
        f'\n[[accounts]]\nname = "{name}"\ntype = "{kind}"\nbase_url = "{url}"\n'
        f'api_key_env = "CHAOS_PROVIDER_KEY"\nmodels = ["{MODEL}"]\n'
        for name, kind, url in accounts
    )
    return f"""{CONFIG_HEAD}
[[models]]
id = "{MODEL}"
{tables}
[[keys]]
name = "chaos"
env = "CHAOS_CLIENT_KEY"
"""


CONFIG_HEAD = """[server]
workers = 1
admin_token_env = "CHAOS_ADMIN_TOKEN"

[server.timeouts]
connect = 1
first_byte = 1
idle = 2
total = 30

[server.failover]
max_attempts = 3
deadline = 10

[server.breaker]
consecutive_failures = 3
window_seconds = 10
failure_rate = 0.5
min_window_requests = 20
cooldown = 1
max_cooldown = 2
probes = 1
"""


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of client request, and how a complete answer to it looks."""

    name: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    stream: bool
    done: bytes = b""  # a stream's final event
    error: bytes = b""  # a stream's in-band error
    reply_key: str = ""  # a non-stream reply's essential member


CHAT, MESSAGES = "/v1/chat/completions", "/v1/messages"


def _kinds() -> tuple[Kind, ...]:
    message = [{"role": "user", "content": "hello"}]
    chat_headers = {"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"}
    anthropic_headers = {
        "x-api-key": CLIENT_KEY,
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
    }
    chat: dict[str, Any] = {"model": MODEL, "max_tokens": 32, "messages": message}
    chat_stream = {**chat, "stream": True, "stream_options": {"include_usage": True}}
    anthropic = {"model": MODEL, "max_tokens": 32, "messages": message}
    return (
        Kind("chat", CHAT, chat_headers, orjson.dumps(chat), False, reply_key="choices"),
        Kind(
            "anthropic",
            MESSAGES,
            anthropic_headers,
            orjson.dumps(anthropic),
            False,
            reply_key="content",
        ),
        Kind(
            "chat stream",
            CHAT,
            chat_headers,
            orjson.dumps(chat_stream),
            True,
            done=b"data: [DONE]",
            error=b'data: {"error"',
        ),
        Kind(
            "anthropic stream",
            MESSAGES,
            anthropic_headers,
            orjson.dumps({**anthropic, "stream": True}),
            True,
            done=b"event: message_stop",
            error=b"event: error",
        ),
    )


KINDS = _kinds()


async def send(http: aiohttp.ClientSession, base: str, kind: Kind) -> Sample:
    sample = Sample(kind.name, kind.stream, time.monotonic())
    body = b""
    try:
        async with http.post(base + kind.path, data=kind.body, headers=kind.headers) as response:
            sample.status = response.status
            sample.request_id = response.headers.get("x-switchyard-request-id")
            if kind.stream and response.status == 200:
                body = await read_stream(response, sample)
            else:
                body = await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        sample.error = f"client: {type(exc).__name__}"
    sample.end = time.monotonic()
    if not sample.error:
        sample.error = judge(kind, sample.status, body)
    return sample


async def read_stream(response: aiohttp.ClientResponse, sample: Sample) -> bytes:
    received = bytearray()
    async for chunk in response.content.iter_any():
        if sample.ttfb is None:
            sample.ttfb = time.monotonic() - sample.start
        received += chunk
    return bytes(received)


def judge(kind: Kind, status: int, body: bytes) -> str:
    """What the client would call an error in this answer ("" when it is complete)."""
    if status != 200:
        return f"HTTP {status}"
    if kind.stream:
        if kind.error in body:
            return "in-stream error"
        return "" if kind.done in body else "stream without its final event"
    try:
        reply = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "unreadable reply"
    return "" if isinstance(reply, dict) and reply.get(kind.reply_key) else "incomplete reply"


@dataclass
class Load:
    """An open-loop client: request i starts at i / rate, whatever the earlier ones do."""

    http: aiohttp.ClientSession
    base: str
    rate: float
    samples: list[Sample] = field(default_factory=list)
    skipped: int = 0

    async def run(self, stop: asyncio.Event, limit: int) -> None:
        pending: set[asyncio.Task[None]] = set()
        start = time.monotonic()
        for index in range(limit):
            delay = start + index / self.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if stop.is_set():
                break
            if len(pending) >= MAX_IN_FLIGHT:
                self.skipped += 1
                continue
            task = asyncio.create_task(self._one(KINDS[index % len(KINDS)]))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.wait(pending, timeout=CLIENT_TIMEOUT + 5)

    async def _one(self, kind: Kind) -> None:
        self.samples.append(await send(self.http, self.base, kind))


@dataclass
class Chaos:
    """Runs the schedule: applies each phase's faults, then snapshots counters and breakers."""

    http: aiohttp.ClientSession
    upstreams: dict[str, Upstream]
    gateway: Gateway
    scale: float
    records: list[PhaseRecord] = field(default_factory=list)
    dead: set[str] = field(default_factory=set)

    async def run(self) -> None:
        for phase in SCHEDULE:
            # The phase starts before its faults are set, so that a request caught by one
            # (a stream cut by a kill, say) is seen to overlap the phase.
            start = time.monotonic()
            await self._apply(phase)
            settled = time.monotonic()
            counts, admin = await self._snapshot()
            if self.records:
                self.records[-1].close(start, counts, admin)
            healthy = frozenset(ACCOUNTS) - self.dead - set(phase.faults)
            record = PhaseRecord(phase, start, healthy, counts, admin, settled=settled)
            self.records.append(record)
            seconds = phase.seconds * (self.scale if phase.scaled else 1.0)
            await asyncio.sleep(max(0.0, start + seconds - time.monotonic()))
        counts, admin = await self._snapshot()
        self.records[-1].close(time.monotonic(), counts, admin)

    async def watch_breakers(self, stop: asyncio.Event) -> None:
        """Breaker states as the admin view shows them, polled through the run."""
        while not stop.is_set():
            with suppress(aiohttp.ClientError, KeyError, ValueError):
                accounts = await self.gateway.accounts(self.http)
                if self.records:
                    seen = self.records[-1].breaker_states
                    for name, account in accounts.items():
                        seen.setdefault(name, set()).add(account["breaker"])
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), ADMIN_POLL)

    async def _apply(self, phase: Phase) -> None:
        for name, upstream in self.upstreams.items():
            if name in phase.restart:
                await upstream.start()
                self.dead.discard(name)
            mode = phase.faults.get(name, OK)
            if mode == KILL:
                await upstream.requests(self.http)  # its last count, before it is lost
                upstream.kill()
                self.dead.add(name)
            elif name not in self.dead:
                assert isinstance(mode, Mapping)
                await upstream.fault(self.http, mode)

    async def _snapshot(self) -> tuple[dict[str, int], dict[str, dict[str, Any]]]:
        counts = {name: await u.requests(self.http) for name, u in self.upstreams.items()}
        return counts, await self.gateway.accounts(self.http)


async def chaos_run(args: argparse.Namespace, workdir: Path) -> chaos_report.Run:
    load_before = os.getloadavg()[0]
    flags = ["--chunks", str(args.chunks), "--chunk-delay-ms", str(args.chunk_delay_ms)]
    upstreams = {name: Upstream(name, free_port(), workdir, flags) for name in ACCOUNTS}
    gateway = Gateway(free_port(), workdir / "gateway.log")
    config = workdir / "chaos.toml"
    config.write_text(gateway_config(upstreams), encoding="utf-8")
    control = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    client = aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=CLIENT_TIMEOUT)
    )
    try:
        await asyncio.gather(*(upstream.start() for upstream in upstreams.values()))
        await gateway.start(config, control)
        chaos = Chaos(control, upstreams, gateway, args.duration / SCHEDULE_SECONDS)
        load = Load(client, gateway.url, args.rate)
        stop = asyncio.Event()
        limit = int(args.rate * (args.duration + 60))
        driver = asyncio.create_task(load.run(stop, limit))
        watcher = asyncio.create_task(chaos.watch_breakers(stop))
        try:
            await chaos.run()
        finally:
            stop.set()
            await asyncio.gather(driver, watcher)
    finally:
        await client.close()
        await control.close()
        gateway.stop()
        for upstream in upstreams.values():
            upstream.stop()
    attempts = chaos_report.read_attempts(gateway.log.read_bytes())
    loads = (load_before, os.getloadavg()[0])
    return chaos_report.Run(chaos.records, load.samples, load.skipped, attempts, loads)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtest.chaos", description=__doc__)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--rate", type=float, default=150.0, help="requests/s (default 150)")
    parser.add_argument("--chunks", type=int, default=10, help="stream chunks per reply")
    parser.add_argument("--chunk-delay-ms", type=int, default=10)
    parser.add_argument("--output", type=Path, default=RESULTS, help="the Markdown report")
    parser.add_argument("--keep", action="store_true", help="keep the logs' temp directory")
    args = parser.parse_args(argv)
    if not 10 <= args.duration <= 600 or not 1 <= args.rate <= 2000:
        parser.error("--duration must be 10..600 s and --rate 1..2000 req/s")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="switchyard-chaos-"))
    try:
        run = uvloop.run(chaos_run(args, workdir))
    finally:
        if args.keep:
            print(f"logs kept in {workdir}", file=sys.stderr)
        else:
            for path in workdir.iterdir():
                path.unlink()
            workdir.rmdir()
    command = "python -m loadtest.chaos " + " ".join(sys.argv[1:] if argv is None else argv)
    report = chaos_report.render(run, command.strip(), args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report, encoding="utf-8")
    print(chaos_report.summary(run))
    return 1 if run.unexpected() else 0


if __name__ == "__main__":
    sys.exit(main())
