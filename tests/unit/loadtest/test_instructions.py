"""The pure parts of loadtest/instructions.py: valgrind's count, the arithmetic, the table."""

from pathlib import Path

import pytest

from loadtest import inproc, instructions
from loadtest.instructions import MeasureError, Row, Run

VALGRIND_STDERR = """\
==4711== Callgrind, a call-graph generating cache profiler
==4711== Using Valgrind-3.19.0 and LibVEX; rerun with -h for copyright info
==4711== Command: python -m loadtest.instructions --child passthrough
==4711==
==4711== For interactive control, run 'callgrind_control -h'.
{"ts":1.0,"event":"request","status":200,"outcome":"ok"}
==4711==
==4711== Events    : Ir
==4711== Collected : 1234567890
==4711==
==4711== I   refs:      1,234,567,890
"""


def test_collected_reads_the_total_among_other_lines() -> None:
    assert instructions.collected(VALGRIND_STDERR) == 1_234_567_890


def test_collected_fails_clearly_without_the_line() -> None:
    stderr = VALGRIND_STDERR.replace("==4711== Collected : 1234567890\n", "")
    with pytest.raises(MeasureError, match="no 'Collected : N' line") as raised:
        instructions.collected(stderr)
    # the tail of the output comes along, to see what went wrong
    assert "I   refs:" in str(raised.value)


def test_collected_refuses_a_child_line_that_only_looks_like_it() -> None:
    # Output of the child itself (no ==PID== prefix) is not valgrind's count.
    with pytest.raises(MeasureError):
        instructions.collected("Collected : 12\n")


def test_collected_refuses_two_counts() -> None:
    twice = VALGRIND_STDERR + "==4712== Collected : 99\n"
    with pytest.raises(MeasureError, match="2 'Collected"):
        instructions.collected(twice)


def test_per_request_keeps_only_the_extra_requests() -> None:
    # 20 requests: 10,000,000 + 20 * 300,000 = 16,000,000; 60: 10,000,000 + 60 * 300,000.
    assert instructions.per_request(16_000_000, 28_000_000) == 300_000
    assert instructions.per_request(1_000, 1_500, short_requests=5, long_requests=10) == 100


def test_per_request_needs_more_requests_in_the_long_run() -> None:
    with pytest.raises(ValueError):
        instructions.per_request(10, 20, short_requests=60, long_requests=60)


def test_per_extra_chunk_divides_the_difference_by_the_extra_chunks() -> None:
    # 20 chunks: 500,000 per request; 100 chunks: 500,000 + 80 * 2,500 = 700,000.
    assert instructions.per_extra_chunk(500_000, 700_000) == 2_500
    assert instructions.per_extra_chunk(10.0, 40.0, few=1, many=4) == 10.0
    with pytest.raises(ValueError):
        instructions.per_extra_chunk(1.0, 2.0, few=100, many=20)


def _case(name: str) -> inproc.Case:
    return next(case for case in inproc.CASES if case.name == name)


def test_plan_has_two_request_counts_per_chunk_count_and_side() -> None:
    sides = {"before": Path("base"), "after": Path("tree")}
    runs = instructions.plan([_case("passthrough"), _case("passthrough-stream")], sides)
    # passthrough: 2 sides x 1 chunk count x 2; the stream: 2 sides x 2 chunk counts x 2.
    assert len(runs) == 4 + 8
    assert {(r.chunks, r.requests) for r in runs if r.case == "passthrough"} == {(20, 20), (20, 60)}
    assert {r.chunks for r in runs if r.case == "passthrough-stream"} == {20, 100}
    assert {r.root for r in runs if r.side == "before"} == {Path("base")}


def test_rows_combine_the_children_of_one_side() -> None:
    root = Path("tree")
    counts = {
        Run("after", root, "passthrough", 20, 20): 50_000_000,
        Run("after", root, "passthrough", 20, 60): 62_000_000,  # 12,000,000 / 40 = 300,000
        Run("after", root, "passthrough-stream", 20, 20): 70_000_000,
        Run("after", root, "passthrough-stream", 20, 60): 90_000_000,  # 500,000 a request
        Run("after", root, "passthrough-stream", 100, 20): 80_000_000,
        Run("after", root, "passthrough-stream", 100, 60): 108_000_000,  # 700,000 a request
        Run("before", root, "passthrough", 20, 20): 1,  # another side: must not be mixed in
        Run("before", root, "passthrough", 20, 60): 2,
    }
    rows = instructions.rows(counts, "after", [_case("passthrough"), _case("passthrough-stream")])
    # per extra chunk: (700,000 - 500,000) / 80 = 2,500
    assert rows == [Row("passthrough", 300_000), Row("passthrough-stream", 500_000, 2_500)]


def test_rows_fail_when_a_count_is_missing() -> None:
    counts = {Run("after", Path("tree"), "passthrough", 20, 20): 5}
    with pytest.raises(KeyError, match="requests=60"):
        instructions.rows(counts, "after", [_case("passthrough")])


def test_render_one_side() -> None:
    rows = [Row("passthrough", 291_456.4), Row("anthropic-to-openai-stream", 812_000.0, 4_321.6)]
    text = instructions.render("python -m loadtest.instructions --only x", rows, notes=["n1"])
    lines = text.splitlines()
    assert lines[0] == "# Instructions per request of the gateway's code"
    assert "`python -m loadtest.instructions --only x`" in text
    assert "- n1" in lines
    assert "| case | instructions/request | per extra chunk |" in lines
    assert "| passthrough | 291,456 | - |" in lines
    assert "| anthropic-to-openai-stream | 812,000 | 4,322 |" in lines


def test_render_before_and_after_gives_the_ratio() -> None:
    after = [Row("passthrough", 270_000), Row("passthrough-stream", 400_000, 2_000)]
    before = [Row("passthrough-stream", 500_000, 2_500), Row("passthrough", 300_000)]
    text = instructions.render("cmd", after, before)
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("| case |"))
    assert header.count("after/before") == 2
    # rows follow the after list; 270,000 / 300,000 = 0.9, 400 / 500 = 0.8, 2,000 / 2,500 = 0.8
    assert "| passthrough | 300,000 | 270,000 | 0.900x | - | - | - |" in lines
    assert "| passthrough-stream | 500,000 | 400,000 | 0.800x | 2,500 | 2,000 | 0.800x |" in lines


def test_main_without_valgrind_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(SystemExit, match="valgrind is not on PATH"):
        instructions.main(["--only", "passthrough"])


def test_main_refuses_an_unknown_case() -> None:
    with pytest.raises(SystemExit, match="unknown case"):
        instructions.main(["--only", "passthrough,nope"])
