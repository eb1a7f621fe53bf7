"""What the chaos run (``loadtest.chaos``) measured, judged and written as Markdown.

A request counts against the goal ("no client-visible error while one healthy account
remains") when at least one account stayed healthy for its whole life, i.e. in every
phase it overlapped. Two kinds of errors are excused and reported apart: those of
requests that overlapped the phase where every account fails, and streams cut after
their first byte by the kill of an upstream process (once bytes reached the client the
gateway cannot fail over, by design: the stream ends with the protocol's in-stream
error instead).
"""

from __future__ import annotations

import argparse
import bisect
import datetime
import math
import os
import platform
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

KILL = "kill"
NO_HEALTHY = "no account healthy throughout"
CUT = "stream cut by the kill"
NONE = "-"  # an empty cell
ACCOUNTS = ("a", "b", "c")


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    seconds: float
    faults: Mapping[str, Mapping[str, Any] | str] = field(default_factory=dict)
    restart: tuple[str, ...] = ()
    scaled: bool = True  # the warm-up keeps its length whatever --duration says

    def describe(self) -> str:
        parts = [f"{name}: restart" for name in self.restart]
        for name, mode in sorted(self.faults.items()):
            parts.append(f"{name}: {_mode_text(mode)}")
        return ", ".join(parts) or "none"


def _mode_text(mode: Mapping[str, Any] | str) -> str:
    if isinstance(mode, str):
        return "process killed (SIGKILL)"
    if mode["mode"] == "status":
        retry = f" retry-after {mode['retry_after']} s" if "retry_after" in mode else ""
        return f"HTTP {mode['status']}{retry}"
    return str(mode["mode"])


@dataclass
class PhaseRecord:
    phase: Phase
    start: float
    healthy: frozenset[str]
    counts_start: dict[str, int]
    admin_start: dict[str, dict[str, Any]]
    settled: float = 0.0  # when its faults were all set (they start at ``start``)
    end: float = 0.0
    counts_end: dict[str, int] = field(default_factory=dict)
    admin_end: dict[str, dict[str, Any]] = field(default_factory=dict)
    breaker_states: dict[str, set[str]] = field(default_factory=dict)

    def close(self, end: float, counts: dict[str, int], admin: dict[str, dict[str, Any]]) -> None:
        self.end, self.counts_end, self.admin_end = end, counts, admin

    def upstream_requests(self, name: str) -> int:
        return self.counts_end[name] - self.counts_start[name]

    def breaker_opens(self, name: str) -> int:
        opened: int = (
            self.admin_end[name]["breaker_opened"] - self.admin_start[name]["breaker_opened"]
        )
        return opened


@dataclass(slots=True)
class Sample:
    kind: str
    stream: bool
    start: float
    end: float = 0.0
    status: int = 0
    ttfb: float | None = None
    error: str = ""
    request_id: str | None = None
    excuse: str = ""  # why an error does not count against the goal


@dataclass
class Run:
    records: list[PhaseRecord]
    samples: list[Sample]
    skipped: int
    attempts: dict[str, list[tuple[str, int, str]]]  # request id -> (account, status, outcome)
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after
    by_phase: dict[int, list[Sample]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        starts = [record.start for record in self.records]
        for sample in self.samples:
            first = max(0, bisect.bisect_right(starts, sample.start) - 1)
            self.by_phase.setdefault(first, []).append(sample)
            if sample.error:
                # Faults change one account after another from ``start`` to ``settled``:
                # a request that began in between may still meet the previous phase's.
                since = first - 1 if first and sample.start < self.records[first].settled else first
                last = max(first, bisect.bisect_right(starts, sample.end) - 1)
                sample.excuse = self._excuse(sample, self.records[since : last + 1])

    def _excuse(self, sample: Sample, overlapped: Sequence[PhaseRecord]) -> str:
        if not frozenset.intersection(*(record.healthy for record in overlapped)):
            return NO_HEALTHY
        first_byte = sample.start + (sample.ttfb if sample.ttfb is not None else float("inf"))
        killed = any(
            KILL in record.phase.faults.values() and first_byte < record.start
            for record in overlapped
        )
        if killed:  # bytes had reached the client before the upstream died
            return CUT
        return ""

    def unexpected(self) -> list[Sample]:
        return [sample for sample in self.samples if sample.error and not sample.excuse]


def read_attempts(log: bytes) -> dict[str, list[tuple[str, int, str]]]:
    """The gateway's access log: one record per upstream attempt, grouped by request."""
    attempts: dict[str, list[tuple[str, int, str]]] = {}
    for line in log.splitlines():
        if not line.startswith(b"{") or b'"event":"request"' not in line:
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        entry = (str(record.get("account")), int(record.get("status") or 0), record["outcome"])
        attempts.setdefault(record["request_id"], []).append(entry)
    return attempts


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(share * len(ordered) - 1e-9)  # the tolerance: 0.29 * 100 is 28.999...
    return ordered[min(len(ordered), max(1, rank)) - 1]


SHARES = (0.5, 0.9, 0.99)
SLOW_MS = 500.0  # far above any healthy answer here: such a request waited for a timeout


def latencies(samples: Iterable[Sample]) -> tuple[list[float], list[float]]:
    """Successful requests' latencies in ms: whole non-stream requests, stream TTFBs."""
    whole, first = [], []
    for sample in samples:
        if sample.error:
            continue
        if sample.stream and sample.ttfb is not None:
            first.append(sample.ttfb * 1000)
        elif not sample.stream:
            whole.append((sample.end - sample.start) * 1000)
    return whole, first


def _ms(value: float | None) -> str:
    return NONE if value is None else f"{value:.1f}"


def _delta(value: float | None, base: float | None) -> str:
    return NONE if value is None or base is None else f"{value - base:+.1f}"


def render(run: Run, command: str, args: argparse.Namespace) -> str:
    lines = [
        "# Chaos run: the account pool while accounts fail and recover",
        "",
        "Written by `loadtest/chaos.py` (`make chaos`); rerun it rather than edit this file.",
        "",
        *_setup(run, command, args),
        "",
        "Phases follow each other without a pause, so what one leaves behind is part of the",
        "next (a 429 hold or an open breaker outlasts its phase by up to its cooldown). A",
        "hanging account costs the requests sent to it before its breaker opens one",
        "first-byte timeout each: the gateway learns of a hang only when the timeout fires.",
        "A request counts against the goal when one account stayed healthy for its whole",
        "life; the others are listed as excused, with the reason.",
        "",
        "## Verdict",
        "",
        *_verdict(run),
        "",
        "## Errors per phase",
        "",
        *_error_table(run),
        "",
        "## Latency per phase, and the latency failover adds",
        "",
        "Successful requests only, in ms: non-stream requests end to end, streams to their",
        "first byte (failover happens before it). Δ = the phase's percentile minus the",
        "baseline phase's. Over 500 ms: the share of them that waited for a timeout.",
        "",
        *_latency_table(run),
        "",
        "## What the pool did",
        "",
        "Failed over: requests the gateway logged more than one upstream attempt for.",
        "Upstream requests: what each account's fake upstream received (`GET /__stats`),",
        "from the moment the phase's faults were in place (so the upstream requests made",
        "while `a` restarts count toward the phase before); per request: all three over",
        "the phase's client requests.",
        "Breaker opens: the change in `breaker_opened` of `GET /admin/accounts` (trips and",
        "429 holds); states: those the admin view showed while polled every 0.25 s.",
        "",
        *_pool_table(run),
        "",
        *_unexpected(run),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _setup(run: Run, command: str, args: argparse.Namespace) -> list[str]:
    cpu = _cpu_model()
    return [
        f"- Date: {datetime.date.today().isoformat()}",
        f"- Machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()},"
        f" Python {platform.python_version()}; gateway, three upstreams and the client share it"
        f" (1-min load average {run.load[0]:.2f} before the run, {run.load[1]:.2f} after)",
        f"- Command: `{command}`",
        f"- Load: open loop, {args.rate:g} req/s over a {args.duration:g} s schedule (plus a"
        " 2 s warm-up), cycling Chat, Anthropic, Chat stream, Anthropic stream;"
        f" streams are {args.chunks} chunks {args.chunk_delay_ms} ms apart",
        "- Accounts: `a` and `b` OpenAI Chat (`openai-compatible`), `c` Anthropic, one fake"
        " upstream process each, one priority tier. The pool tries accounts that speak the"
        " client's protocol first, so Chat clients use a/b and Anthropic clients c, and"
        " failover crosses protocols (Anthropic to Chat when c fails, Chat to Anthropic when"
        " a and b both fail)",
        "- Gateway: 1 worker; timeouts connect 1 s, first byte 1 s, idle 2 s;"
        " `max_attempts = 3`; breaker opens after 3 consecutive failures (or 50 % of ≥ 20 in"
        " 10 s), cooldown 1 s doubling up to 2 s, 1 probe",
    ]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _verdict(run: Run) -> list[str]:
    errors = [s for s in run.samples if s.error]
    unexpected = run.unexpected()
    outage = sum(1 for s in errors if s.excuse == NO_HEALTHY)
    cut = sum(1 for s in errors if s.excuse == CUT)
    goal = "met" if not unexpected else "NOT met"
    return [
        f"- {len(run.samples)} requests, {len(errors)} client-visible errors.",
        f"- While at least one account was healthy: **{len(unexpected)} errors** (goal 0: {goal}).",
        f"- With no account healthy for the request's whole life (the outage, or the"
        f" healthy account changing while it was in flight): {outage}.",
        f"- Streams cut after their first byte by the kill (no failover once bytes"
        f" reached the client, by design): {cut}.",
        f"- Requests the client could not start (its in-flight bound reached): {run.skipped}.",
    ]


def _error_table(run: Run) -> list[str]:
    rows = [
        "| phase | s | faults | healthy | requests | errors | share | counted | excused |",
        "|---|--:|---|---|--:|--:|--:|--:|--:|",
    ]
    for index, record in enumerate(run.records):
        samples = run.by_phase.get(index, [])
        errors = [s for s in samples if s.error]
        counted = sum(1 for s in errors if not s.excuse)
        share = f"{len(errors) / len(samples):.2%}" if samples else NONE
        healthy = ", ".join(sorted(record.healthy)) or "none"
        rows.append(
            f"| {record.phase.name} | {record.end - record.start:.1f} | {record.phase.describe()}"
            f" | {healthy} | {len(samples)} | {len(errors)} | {share} | {counted}"
            f" | {len(errors) - counted} |"
        )
    return rows


def _latency_table(run: Run) -> list[str]:
    rows = [
        "| phase | p50 | p90 | p99 | Δp50 | Δp90 | Δp99 | TTFB p50 | p90 | p99"
        " | Δp50 | Δp90 | Δp99 | over 500 ms |",
        "|---|" + "--:|" * 13,
    ]
    base_index = next(i for i, r in enumerate(run.records) if r.phase.name == "baseline")
    base_whole, base_first = latencies(run.by_phase.get(base_index, []))
    base = [percentile(base_whole, s) for s in SHARES] + [percentile(base_first, s) for s in SHARES]
    for index, record in enumerate(run.records):
        whole, first = latencies(run.by_phase.get(index, []))
        values = [percentile(whole, s) for s in SHARES] + [percentile(first, s) for s in SHARES]
        pairs = zip(values, base, strict=True)
        deltas = [_delta(value, baseline) for value, baseline in pairs]
        cells = [_ms(v) for v in values[:3]] + deltas[:3]
        cells += [_ms(v) for v in values[3:]]
        cells += deltas[3:]
        measured = whole + first
        slow = sum(1 for value in measured if value > SLOW_MS)
        cells.append(f"{slow / len(measured):.1%}" if measured else NONE)
        rows.append(f"| {record.phase.name} | " + " | ".join(cells) + " |")
    return rows


def _pool_table(run: Run) -> list[str]:
    rows = [
        "| phase | failed over | most attempts | upstream requests a / b / c | per request"
        " | breaker opens a / b / c | breaker states seen a / b / c |",
        "|---|--:|--:|---|--:|---|---|",
    ]
    for index, record in enumerate(run.records):
        trails = [run.attempts.get(s.request_id or "", []) for s in run.by_phase.get(index, [])]
        over = sum(1 for trail in trails if len(trail) > 1)
        share = f"{over / len(trails):.1%}" if trails else NONE
        most = max((len(trail) for trail in trails), default=0)
        counts = " / ".join(str(record.upstream_requests(n)) for n in ACCOUNTS)
        total = sum(record.upstream_requests(n) for n in ACCOUNTS)
        per_request = f"{total / len(trails):.2f}" if trails else NONE
        opens = " / ".join(str(record.breaker_opens(n)) for n in ACCOUNTS)
        states = " / ".join(
            ",".join(sorted(record.breaker_states.get(n, set()))) or NONE for n in ACCOUNTS
        )
        rows.append(
            f"| {record.phase.name} | {share} | {most} | {counts} | {per_request} | {opens}"
            f" | {states} |"
        )
    return rows


def _unexpected(run: Run) -> list[str]:
    unexpected = run.unexpected()
    if not unexpected:
        return []
    starts = [record.start for record in run.records]
    rows = [
        "## Errors while an account was healthy (first 30)",
        "",
        "| phase | kind | +s into phase | error | upstream attempts (account status outcome) |",
        "|---|---|--:|---|---|",
    ]
    for sample in unexpected[:30]:
        index = max(0, bisect.bisect_right(starts, sample.start) - 1)
        record = run.records[index]
        trail = "; ".join(
            f"{account} {status} {outcome}"
            for account, status, outcome in run.attempts.get(sample.request_id or "", [])
        )
        rows.append(
            f"| {record.phase.name} | {sample.kind} | {sample.start - record.start:.2f}"
            f" | {sample.error} | {trail or NONE} |"
        )
    return rows


def summary(run: Run) -> str:
    """The verdict and the error/latency figures, for the terminal."""
    lines = [*_verdict(run), "", *_error_table(run), "", *_latency_table(run)]
    return "\n".join(lines)
