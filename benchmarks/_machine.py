"""How busy the machine is, read by a probe of its own rather than the load average.

The 1-minute load average trails by a minute: read right after a run, it reports that run's own
clients, and read after starting a run's processes, their start-up. Instead the probe samples
the kernel's CPU counters (/proc/stat) over a short window, while the benchmark does nothing,
and reports the share of CPU time that was idle: 1.0 is a quiet machine, 0.5 half its cores
busy with someone else's work.

    idle = settle()          # wait (up to a limit) for the machine to be quiet, then measure
    figures["machine_idle_before"] = idle
"""

from __future__ import annotations

import time
from pathlib import Path

STAT = Path("/proc/stat")


def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies over all cores since boot; iowait counts as idle."""
    fields = [int(x) for x in STAT.read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return idle, sum(fields[:8])


def idle_share(seconds: float = 1.0) -> float:
    """The share of CPU time that was idle over the next ``seconds``."""
    idle_0, total_0 = _cpu_times()
    time.sleep(seconds)
    idle_1, total_1 = _cpu_times()
    return round((idle_1 - idle_0) / max(total_1 - total_0, 1), 3)


def settle(quiet: float = 0.9, limit_s: float = 30.0, window_s: float = 1.0) -> float:
    """Wait until a window is at least ``quiet`` idle, or ``limit_s`` passed; the last share.

    Called between runs, it lets the previous run's processes and Postgres' own background
    work finish, so they are not counted against the next run.
    """
    deadline = time.monotonic() + limit_s
    share = idle_share(window_s)
    while share < quiet and time.monotonic() < deadline:
        share = idle_share(window_s)
    return share
