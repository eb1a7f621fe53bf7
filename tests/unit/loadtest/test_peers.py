"""`make bench-peers`'s pure parts: LiteLLM's generated config and process settings, the
answer checks, and the Switchyard / LiteLLM ratios and target (no processes, no timing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from loadtest import peers, peers_litellm, peers_report
from loadtest.report import Point

UPSTREAM = "http://127.0.0.1:40123"


def test_config_routes_the_model_to_the_fast_upstream_as_openai_compatible() -> None:
    config = peers_litellm.config(UPSTREAM, "gpt-bench", "sk-master")
    # What LiteLLM reads is the YAML dump of it.
    loaded = yaml.safe_load(yaml.safe_dump(config, sort_keys=False))
    [deployment] = loaded["model_list"]
    assert deployment["model_name"] == "gpt-bench"
    params = deployment["litellm_params"]
    assert params["model"] == "openai/gpt-bench"
    assert params["api_base"] == "http://127.0.0.1:40123/v1"
    assert params["api_key"] == "os.environ/BENCH_PROVIDER_KEY"
    assert loaded["general_settings"]["master_key"] == "sk-master"


def test_config_turns_off_logging_callbacks_retries_and_the_database() -> None:
    config = peers_litellm.config(UPSTREAM, "gpt-bench", "sk-master")
    settings = config["litellm_settings"]
    for key in ("callbacks", "success_callback", "failure_callback"):
        assert settings[key] == []
    assert settings["set_verbose"] is False
    assert settings["cache"] is False
    assert settings["num_retries"] == 0
    assert config["router_settings"]["num_retries"] == 0
    general = config["general_settings"]
    assert general["disable_spend_logs"] is True
    assert general["disable_error_logs"] is True
    assert not any("database" in key for key in general)


def test_command_binds_loopback_with_the_given_workers() -> None:
    argv = peers_litellm.command(Path("bin/litellm"), Path("c.yaml"), Path("l.json"), 4321, 2)
    pairs = dict(zip(argv[1::2], argv[2::2], strict=False))
    assert argv[0] == "bin/litellm"
    assert pairs["--host"] == "127.0.0.1"
    assert pairs["--port"] == "4321"
    assert pairs["--num_workers"] == "2"
    assert pairs["--config"] == "c.yaml"
    assert pairs["--log_config"] == "l.json"
    assert (
        int(pairs["--timeout_worker_healthcheck"]) > 5
    )  # uvicorn's default would kill busy workers


def test_environment_drops_what_would_change_litellm_and_sets_its_own() -> None:
    base = {
        "PATH": "/usr/bin",
        "DATABASE_URL": "postgresql://x",
        "REDIS_HOST": "r",
        "LITELLM_LOG": "DEBUG",
        "LITELLM_MASTER_KEY": "sk-other",
        "SWITCHYARD_CONFIG": "x.toml",
        "PYTHONPATH": "somewhere",
    }
    env = peers_litellm.environment(base)
    assert env["PATH"] == "/usr/bin"
    for gone in ("DATABASE_URL", "REDIS_HOST", "LITELLM_MASTER_KEY", "SWITCHYARD_CONFIG"):
        assert gone not in env
    assert "PYTHONPATH" not in env
    assert env["LITELLM_LOG"] == "ERROR"
    assert env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert env["BENCH_PROVIDER_KEY"].startswith("sk-")


def test_log_config_keeps_start_up_lines_and_drops_the_access_log() -> None:
    loggers = peers_litellm.log_config()["loggers"]
    assert loggers["uvicorn"]["level"] == "INFO"
    assert loggers["uvicorn.access"]["level"] == "WARNING"
    assert loggers["uvicorn.access"]["handlers"] == []
    assert loggers["uvicorn.access"]["propagate"] is False


def test_started_workers_counts_each_workers_start_up_line() -> None:
    log = (
        "INFO uvicorn.error Started server process [11]\n"
        "INFO uvicorn.error Application startup complete.\n"
        "INFO uvicorn.error Started server process [12]\n"
    )
    assert peers_litellm.started_workers(log) == 1
    assert peers_litellm.started_workers(log + "INFO x Application startup complete.\n") == 2


CHAT = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}}]}


def test_chat_problem_accepts_a_200_with_choices_and_text() -> None:
    assert peers_litellm.chat_problem(200, json.dumps(CHAT).encode()) is None


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (500, b'{"error": {"message": "boom"}}', "status 500"),
        (401, b'{"error": {"message": "bad key"}}', "status 401"),
        (200, b"<html>", "not JSON"),
        (200, b'{"error": {"message": "in a 200"}}', "no choices"),
        (200, b'{"choices": []}', "no choices"),
        (200, b'{"choices": [{"message": {"content": ""}}]}', "no message content"),
    ],
)
def test_chat_problem_names_what_is_wrong(status: int, body: bytes, reason: str) -> None:
    problem = peers_litellm.chat_problem(status, body)
    assert problem is not None
    assert reason in problem


def _sse(*chunks: dict[str, Any], done: bool = True) -> bytes:
    events = [b"data: " + json.dumps(c).encode() for c in chunks]
    if done:
        events.append(b"data: [DONE]")
    return b"\n\n".join(events) + b"\n\n"


def _delta(text: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": text}}]}


def test_stream_problem_accepts_text_chunks_ended_by_done() -> None:
    assert peers_litellm.stream_problem(200, _sse(_delta("Hel"), _delta("lo"))) is None


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (429, b'{"error": "slow down"}', "status 429"),
        (200, _sse(_delta("Hello"), done=False), "[DONE]"),
        (200, _sse({"choices": []}, _delta("")), "no text"),
        (200, b"data: {not json\n\ndata: [DONE]\n\n", "not JSON"),
    ],
)
def test_stream_problem_names_what_is_wrong(status: int, body: bytes, reason: str) -> None:
    problem = peers_litellm.stream_problem(status, body)
    assert problem is not None
    assert reason in problem


# --- ratios and the target ---


def _point(target: str, rps: float, p50: float, cpu_s: float, ok: int, **extra: Any) -> Point:
    kind = "stream" if "ttfb_p50_ms" in extra else "closed"
    level = extra.pop("level", 16)
    result = {"rps": rps, "p50_ms": p50, "p90_ms": p50, "p99_ms": p50, "ok": ok, "errors": 0}
    result |= {"requests": ok, "elapsed_s": 5.0, **extra}
    return Point(workers=1, kind=kind, level=level, target=target, result=result, cpu_s=cpu_s)


def _closed(level: int, ours_rps: float, peer_rps: float) -> list[Point]:
    return [
        _point("direct", 50_000, 0.25, 1.0, 250_000, level=level),
        _point("passthrough", ours_rps, 5.25, 1.5, 15_000, level=level),
        _point("litellm", peer_rps, 320.25, 6.0, 240, level=level),
    ]


def test_ratio_is_ours_over_the_peers_and_undefined_without_a_positive_pair() -> None:
    assert peers_report.ratio(300.0, 5.0) == 60.0
    assert peers_report.ratio(1.0, 0.0) is None
    assert peers_report.ratio(-0.1, 20.0) is None  # an added latency within noise of zero
    assert peers_report.ratio(2.0, -1.0) is None


def test_compare_takes_added_latency_over_direct_and_cpu_per_request() -> None:
    [versus] = peers_report.compare(_closed(16, 3000.0, 50.0), workers=1)
    assert versus.scenario == "c=16"
    assert versus.throughput_ratio == pytest.approx(60.0)
    assert versus.added_ms == pytest.approx((5.0, 320.0))
    assert versus.added_ratio == pytest.approx(5.0 / 320.0)
    # 1.5 s over 15,000 answers vs 6 s over 240 answers
    assert versus.cpu_us == pytest.approx((100.0, 25_000.0))
    assert versus.cpu_ratio == pytest.approx(0.004)


def test_cpu_per_served_request_counts_what_the_server_finished_after_the_generator() -> None:
    # 240 answered, 300 reached the upstream (60 abandoned in flight and finished anyway);
    # 6.6 s of CPU until the server settled, 6 s while the generator ran.
    point = _point("litellm", 48.0, 320.0, 6.0, 240, upstream_requests=300, settled_cpu_s=6.6)
    assert peers_report.served_cpu_us(point) == pytest.approx(22_000.0)
    assert point.cpu_us_per_request == pytest.approx(25_000.0)  # the bench's figure
    unsettled = _point("litellm", 48.0, 320.0, 6.0, 240)
    assert peers_report.served_cpu_us(unsettled) == pytest.approx(25_000.0)
    busy = _point("litellm", 48.0, 320.0, 6.0, 240, upstream_requests=300, settled_cpu_s=12.0)
    assert peers_report.served_cpu_us(busy) == pytest.approx(40_000.0)


def test_compare_uses_time_to_first_byte_for_streams() -> None:
    points = [
        _point(name, rps, 200.0, 1.0, 1000, level=64, ttfb_p50_ms=ttfb)
        for name, rps, ttfb in (
            ("direct", 300.0, 0.5),
            ("passthrough", 290.0, 8.5),
            ("litellm", 20.0, 1600.5),
        )
    ]
    [versus] = peers_report.compare(points, workers=1)
    assert versus.scenario == "64 streams"
    assert versus.added_ms == pytest.approx((8.0, 1600.0))
    assert versus.throughput_ratio == pytest.approx(14.5)


def test_compare_skips_a_level_without_all_three_targets() -> None:
    points = _closed(16, 3000.0, 50.0) + _closed(64, 3000.0, 20.0)[:2]
    assert [v.scenario for v in peers_report.compare(points, workers=1)] == ["c=16"]
    assert peers_report.compare(points, workers=2) == []


def test_target_is_met_only_when_every_throughput_level_reaches_40x() -> None:
    versus = peers_report.compare(_closed(16, 3000.0, 50.0) + _closed(64, 3000.0, 100.0), 1)
    checks = peers_report.target_checks(versus)
    assert [(c.scenario, c.met) for c in checks] == [("c=16", True), ("c=64", False)]
    line = peers_report.target_line(checks)
    assert "**not met**" in line
    assert "c=16: 60.0x" in line
    assert "c=64: 30.0x" in line
    both = peers_report.compare(_closed(16, 3000.0, 50.0) + _closed(64, 3000.0, 75.0), 1)
    assert "**met**" in peers_report.target_line(peers_report.target_checks(both))


def test_target_is_not_met_when_a_level_was_not_measured() -> None:
    checks = peers_report.target_checks(peers_report.compare(_closed(16, 3000.0, 50.0), 1))
    assert checks[1].measured is None
    assert not checks[1].met
    assert "c=64: not measured" in peers_report.target_line(checks)


def test_upstream_check_flags_answers_that_never_reached_the_upstream() -> None:
    fine = _point("litellm", 48.0, 320.0, 6.0, 240, upstream_requests=250)
    cached = _point("passthrough", 3000.0, 5.0, 1.5, 15_000, upstream_requests=10)
    assert "Every point" in peers_report.upstream_check([fine], 1)
    flagged = peers_report.upstream_check([fine, cached], 1)
    assert "More successful answers" in flagged
    assert "passthrough closed 16" in flagged


def _info() -> peers_report.RunInfo:
    return peers_report.RunInfo(
        date="2026-01-01 00:00 UTC",
        command="python -m loadtest.peers --litellm .peers/litellm-venv/bin/litellm",
        elapsed_s=300.0,
        commit="abc1234",
        machine={"cores": "2"},
        peer_versions={"litellm": "1.106.0"},
        workers=[1],
        duration=5.0,
        stream_duration=5.0,
        stream_concurrency=64,
        chunks=20,
        generator="wrk",
        gateway_code={1: "app/ as committed in abc1234"},
        litellm_command="litellm --config config.yaml",
        litellm_env={"LITELLM_LOG": "ERROR"},
        litellm_config_yaml="model_list: []\n",
        checks={1: ["`litellm` non-stream and stream"]},
    )


def test_report_states_the_ratios_and_the_target_of_the_run() -> None:
    points = _closed(16, 3000.0, 50.0) + _closed(64, 3000.0, 60.0)
    text = peers_report.render(_info(), points)
    assert "LiteLLM's proxy 1.106.0" in text
    assert "**met** (c=16: 60.0x, c=64: 50.0x)" in text
    assert "| c=16 | 3,000.0 / 50.0 | 60.0x |" in text
    assert "| 16 | litellm | 50 |" in text  # loadtest/report.py's closed-loop table
    assert "```yaml\nmodel_list: []\n```" in text


def test_quick_runs_one_worker_count_and_writes_no_report() -> None:
    quick = peers.parse_args(["--litellm", "venv/bin/litellm", "--quick"])
    assert quick.workers == [1]
    assert quick.output is None
    full = peers.parse_args(["--litellm", "venv/bin/litellm"])
    assert full.workers == [1, 2]
    assert full.output == peers.REPORT
    assert full.concurrency == [1, 16, 64]
    assert full.litellm.is_absolute()
