"""Running wrk (closed loop, non-stream) and reading its result line.

loadtest/wrk_post.lua sets the method, body and headers and prints one `WRKRESULT k=v ...`
line from wrk's `done()` hook; the summary returned here has the same keys as loadtest.gen's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("wrk_post.lua")


def available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    url: str, body_file: Path, headers: list[str], concurrency: int, duration: float
) -> dict[str, Any]:
    threads = max(1, min(2, concurrency))
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(SCRIPT),
        url,
    ]
    env = {**os.environ, "WRK_BODY_FILE": str(body_file), "WRK_HEADERS": "\n".join(headers)}
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=duration + 30, check=False
    )
    return parse(done.stdout, done.stderr)


def parse(stdout: str, stderr: str = "") -> dict[str, Any]:
    line = next((x for x in stdout.splitlines() if x.startswith("WRKRESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{stdout}\n{stderr}")
    values = {k: float(v) for k, v in (pair.split("=") for pair in line.split()[1:])}
    seconds = values["duration_us"] / 1e6
    socket_errors = sum(values[k] for k in ("connect", "read", "write", "timeout"))
    errors = int(values["status"] + socket_errors)
    requests = int(values["requests"])
    return {
        "mode": "closed",
        "generator": "wrk",
        "requests": requests,
        "ok": requests - int(values["status"]),
        "errors": errors,
        "socket_errors": int(socket_errors),
        "elapsed_s": round(seconds, 3),
        "rps": round((requests - values["status"]) / seconds, 1) if seconds else 0.0,
        "p50_ms": values["p50_us"] / 1000,
        "p90_ms": values["p90_us"] / 1000,
        "p99_ms": values["p99_us"] / 1000,
    }
