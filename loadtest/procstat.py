"""CPU time and memory of a process tree from /proc (Linux): Granian's main process + workers.

CPU is utime+stime of every process in the tree, read before and after a measurement point,
so a point's CPU is what the tree spent on it. Peak RSS is VmHWM of the workers; writing "5"
to /proc/<pid>/clear_refs resets it (root or same user), so each point reports its own peak.
"""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_PROC = Path("/proc")


def children(pid: int) -> list[int]:
    """Direct children, from every thread's children list (Linux 3.5+)."""
    found: list[int] = []
    with suppress(OSError):
        for task in (_PROC / str(pid) / "task").iterdir():
            with suppress(OSError):
                found += [int(p) for p in (task / "children").read_text().split()]
    return found


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        queue += children(current)
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """utime+stime of the given processes (those that have exited count as 0)."""
    ticks = 0
    for pid in pids:
        with suppress(OSError, IndexError, ValueError):
            # Fields after the command name, which may hold spaces, start after ") ".
            fields = (_PROC / str(pid) / "stat").read_text().rsplit(") ", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / _TICKS


def status_kb(pid: int, key: str) -> int:
    """A `kB` line of /proc/<pid>/status, e.g. VmRSS or VmHWM; 0 if gone."""
    with suppress(OSError):
        for line in (_PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def reset_peak(pids: list[int]) -> bool:
    """Reset VmHWM to the current RSS; False where the kernel or permissions refuse."""
    done = True
    for pid in pids:
        try:
            (_PROC / str(pid) / "clear_refs").write_text("5")
        except OSError:
            done = False
    return done


def cpu_model() -> str:
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"
