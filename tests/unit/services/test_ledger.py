import asyncio
import json

from app.canonical.usage import Usage
from app.services.ledger import Ledger, UsageRecord


def test_records_are_batched_and_written_as_json_lines() -> None:
    written: list[bytes] = []
    ledger = Ledger(written.append)
    ledger.record(UsageRecord("r1", "k", "anthropic", "m", usage=Usage(10, 2, 3)))
    ledger.record(UsageRecord("r2", "k", "gemini", "m", outcome="client_disconnected"))
    assert written == []  # nothing on the request path
    ledger.flush()
    lines = [json.loads(line) for line in written[0].splitlines()]
    assert [line["request_id"] for line in lines] == ["r1", "r2"]
    assert lines[0]["usage"] == {
        "input": 10,
        "output": 2,
        "cache_read": 3,
        "cache_write": 0,
        "reasoning": 0,
    }
    assert "usage" not in lines[1] and lines[1]["outcome"] == "client_disconnected"
    assert ledger.records_written == 2


def test_background_flush_and_stop_write_everything() -> None:
    written: list[bytes] = []

    async def run() -> None:
        ledger = Ledger(written.append)
        ledger.start()
        ledger.record(UsageRecord("r1", "k", "openai_chat", "m"))
        await asyncio.sleep(0.4)
        assert len(written) == 1
        ledger.record(UsageRecord("r2", "k", "openai_chat", "m"))
        await ledger.stop()

    asyncio.run(run())
    assert b"".join(written).count(b'"event":"request"') == 2


def test_times_are_written_in_milliseconds_to_two_decimals() -> None:
    written: list[bytes] = []
    ledger = Ledger(written.append)
    record = UsageRecord("r1", "k", "openai_chat", "m", started=10.0, first_byte=10.0123449)
    record.finished = 12.5000051  # 2,500.0051 ms: rounds up to the next hundredth
    ledger.record(record)
    ledger.flush()
    line = json.loads(written[0])
    assert line["ttfb_ms"] == 12.34
    assert line["duration_ms"] == 2500.01
    assert len(str(line["ts"]).partition(".")[2]) <= 3  # seconds, 3 decimals at most
