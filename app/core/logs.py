"""Application logs (warnings, errors, breaker changes) as JSON lines, written off
the event loop: handlers run in a listener thread fed by a queue, so a slow
stderr never stalls a request. Per-request records go through the ledger.
"""

import atexit
import logging
import logging.handlers
import queue
import sys
import time
from typing import Any

from app.core import json

_listener: logging.handlers.QueueListener | None = None


class JSONLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", None) or {
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        return json.dumps({"ts": round(record.created, 3), **fields}).decode()


def write_line(level: str, logger: str, message: str) -> None:
    """One log line, written at once, in the shape of the workers' lines.

    For Granian's main process: it has no event loop to stall, and its workers are
    forked from it, so it must not start the queue listener the workers start."""
    fields = {"ts": round(time.time(), 3), "level": level, "logger": logger, "message": message}
    sys.stderr.write(json.dumps(fields).decode() + "\n")
    sys.stderr.flush()


def configure_logging(level: str = "INFO") -> None:
    """Route every ``switchyard.*`` record through one queue to stderr (idempotent)."""
    global _listener
    if _listener is not None:
        return
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    sink = logging.StreamHandler(sys.stderr)
    sink.setFormatter(JSONLineFormatter())
    _listener = logging.handlers.QueueListener(records, sink, respect_handler_level=False)
    _listener.start()
    atexit.register(_listener.stop)
    root = logging.getLogger("switchyard")
    root.handlers[:] = [logging.handlers.QueueHandler(records)]
    root.setLevel(level.upper())
    root.propagate = False
