"""Issue 5's target table: the stream CPU rows, with and without the --chunk-slope twin."""

from types import SimpleNamespace

from loadtest.report import Point
from loadtest.summary import target_rows


def _stream(target: str, chunks: int, cpu_s: float, rps: float = 300.0, ttfb: float = 3.0):
    result = {"ok": 1000, "rps": rps, "ttfb_p50_ms": ttfb}
    return Point(1, "stream", 64, target, result, cpu_s=cpu_s, chunks=chunks)


def _rows(points):
    settings = SimpleNamespace(stream_concurrency=64)
    return {row[0]: row[1:] for row in target_rows(points, 1, settings)}


def test_per_chunk_rows_include_the_slope_when_the_twin_was_measured():
    points = [
        _stream("direct", 20, 0.4, ttfb=0.5),
        _stream("anthropic-to-openai", 20, 1.8),  # 1,800 us per stream of 20: 90 us/chunk
        _stream("anthropic-to-openai", 100, 5.8),  # +4,000 us for 80 more chunks: 50 us
    ]
    rows = _rows(points)
    assert rows["anthropic-to-openai stream CPU per chunk (20 chunks, request setup included)"] == [
        "<= 60 us",
        "90.00 us",
        "**no**",
    ]
    assert rows["anthropic-to-openai stream CPU per extra chunk"] == ["<= 60 us", "50.00 us", "yes"]
    assert rows["anthropic-to-openai stream added TTFB p50"] == ["<= 5 ms", "2.50 ms", "yes"]


def test_no_slope_row_without_the_twin():
    points = [_stream("direct", 20, 0.4), _stream("openai-to-anthropic", 20, 1.0)]
    rows = _rows(points)
    assert "openai-to-anthropic stream CPU per extra chunk" not in rows
    assert (
        rows["openai-to-anthropic stream CPU per chunk (20 chunks, request setup included)"][1]
        == "50.00 us"
    )
