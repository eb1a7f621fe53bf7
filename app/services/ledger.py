"""One usage record per request that reached an upstream, whatever happened after.

Records are appended to an in-memory batch on the request path (no I/O, no
formatting there) and written out by a background flush every
``FLUSH_SECONDS``, one JSON line each, in one write per batch: the access log
stays off the hot path (PERF-NOTES.md lesson 7). Balances and a persistent
store will consume the same batches.
"""

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.canonical.usage import Usage
from app.core import json

FLUSH_SECONDS = 0.25
log = logging.getLogger("switchyard.ledger")


@dataclass(slots=True)
class UsageRecord:
    request_id: str
    key: str
    protocol: str
    model: str
    account: str | None = None
    upstream_model: str | None = None
    upstream_protocol: str | None = None
    stream: bool = False
    status: int = 0
    outcome: str = "ok"  # ok | upstream_error | client_disconnected | error
    error: str | None = None
    usage: Usage | None = None
    started: float = 0.0
    first_byte: float | None = None
    finished: float = 0.0
    at: float = 0.0  # wall clock, for the log line

    def fields(self) -> dict[str, Any]:
        # Milliseconds to 2 decimals, seconds to 3 (ts is truncated): integer arithmetic,
        # a third of round()'s cost, and the shortest repr orjson writes is as short.
        fields: dict[str, Any] = {
            "ts": int(self.at * 1000) / 1000,
            "event": "request",
            "request_id": self.request_id,
            "key": self.key,
            "protocol": self.protocol,
            "model": self.model,
            "account": self.account,
            "upstream_model": self.upstream_model,
            "upstream_protocol": self.upstream_protocol,
            "stream": self.stream,
            "status": self.status,
            "outcome": self.outcome,
            "duration_ms": _milliseconds(self.finished - self.started),
        }
        if self.first_byte is not None:
            fields["ttfb_ms"] = _milliseconds(self.first_byte - self.started)
        if self.error:
            fields["error"] = self.error
        if self.usage is not None:
            usage = self.usage
            fields["usage"] = {
                "input": usage.input_tokens,
                "output": usage.output_tokens,
                "cache_read": usage.cache_read_tokens,
                "cache_write": usage.cache_write_tokens,
                "reasoning": usage.reasoning_tokens,
            }
        return fields


def _milliseconds(seconds: float) -> float:
    """``seconds`` in milliseconds, rounded half up to 2 decimals."""
    return int(seconds * 100_000 + 0.5) / 100


def write_stderr(data: bytes) -> None:
    os.write(sys.stderr.fileno(), data)


class Ledger:
    def __init__(self, write: Callable[[bytes], None] = write_stderr) -> None:
        self._write = write
        self._batch: list[UsageRecord] = []
        self._flusher: asyncio.Task[None] | None = None
        self.records_written = 0

    def record(self, entry: UsageRecord) -> None:
        entry.at = time.time()
        self._batch.append(entry)

    def start(self) -> None:
        self._flusher = asyncio.get_running_loop().create_task(self._flush_forever())

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        self.flush()

    def flush(self) -> None:
        """Write the pending batch now, from the calling thread (shutdown, tests)."""
        self._write_batch(self._take())

    def _take(self) -> list[UsageRecord]:
        batch, self._batch = self._batch, []
        return batch

    def _write_batch(self, batch: list[UsageRecord]) -> None:
        if not batch:
            return
        lines = b"".join(json.dumps(entry.fields()) + b"\n" for entry in batch)
        try:
            self._write(lines)
        except OSError:
            log.exception("could not write %d usage records", len(batch))
            return
        self.records_written += len(batch)

    async def _flush_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            batch = self._take()
            if batch:
                # A full pipe or a slow disk blocks a thread, never the loop.
                await loop.run_in_executor(None, self._write_batch, batch)
