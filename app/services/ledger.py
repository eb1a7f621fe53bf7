"""One usage record per request that reached an upstream, whatever happened after.

For now the ledger is the access log (one JSON line per request, written off
the event loop); balances and a persistent store build on ``UsageRecord``.
"""

import logging
from dataclasses import dataclass
from typing import Any

from app.canonical.usage import Usage
from app.core.logs import access_logger


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

    def fields(self) -> dict[str, Any]:
        usage = self.usage
        fields: dict[str, Any] = {
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
            "duration_ms": round((self.finished - self.started) * 1000, 2),
        }
        if self.first_byte is not None:
            fields["ttfb_ms"] = round((self.first_byte - self.started) * 1000, 2)
        if self.error:
            fields["error"] = self.error
        if usage is not None:
            fields["usage"] = {
                "input": usage.input_tokens,
                "output": usage.output_tokens,
                "cache_read": usage.cache_read_tokens,
                "cache_write": usage.cache_write_tokens,
                "reasoning": usage.reasoning_tokens,
            }
        return fields


class Ledger:
    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or access_logger()
        self.records_written = 0

    def record(self, entry: UsageRecord) -> None:
        self.records_written += 1
        self._log.info("request", extra={"fields": entry.fields()})
