"""How busy the machine is, read by a probe of its own rather than the load average.

The 1-minute load average trails by a minute: read right after a run, it reports that run's own
clients, and read after starting a run's processes, their start-up. Instead the probe samples
the kernel's CPU counters (/proc/stat) over a short window, while the benchmark does nothing,
and reports the share of CPU time that was idle: 1.0 is a quiet machine, 0.5 half its cores
busy with someone else's work.

    idle = settle()          # wait (up to a limit) for the machine to be quiet, then measure
    figures["machine_idle_before"] = idle

and ``Probe`` samples, during the run, how much CPU other people's work took (the benchmark's
own processes and its Postgres are told apart from the rest), and times a fixed piece of Python
before and after it (``reference_ms``): the virtual machines these run on change speed by half
or more between minutes with no sign in their CPU counters (steal stays at zero), and that
figure shows it.
"""

from __future__ import annotations

import math
import os
import statistics
import threading
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


REFERENCE_LOOP = 2_000_000  # about a tenth of a second of one core here


def reference_ms(repeat: int = 5) -> float:
    """The median time of a fixed pure-Python loop on one core: the machine's speed right now."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        total = 0
        for i in range(REFERENCE_LOOP):
            total += i
        times.append(time.perf_counter() - began)
    return round(statistics.median(times) * 1000, 1)


def _process_table() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, CPU ticks of the process and its reaped children, command line)."""
    table: dict[int, tuple[int, int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # it exited while we read it
            continue
        # The command name (field 2) is in parentheses and may hold spaces: split after it.
        fields = stat[stat.rindex(")") + 2 :].split()
        ppid = int(fields[1])
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        table[int(entry.name)] = (ppid, utime + stime + cutime + cstime, cmdline)
    return table


def _descendants(table: dict[int, tuple[int, int, str]], roots: set[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid in found or pid not in table:
            continue
        found.add(pid)
        todo.extend(children.get(pid, ()))
    return found


def _split_ticks(
    table: dict[int, tuple[int, int, str]], markers: tuple[str, ...]
) -> tuple[int, int]:
    """CPU ticks of (the servers named by ``markers`` and everything under them, this process
    and everything else under it).

    A process that exits is reaped by its parent, whose reaped-children ticks then hold its
    time, so each sum only grows as the run's own processes come and go.
    """
    marked = {pid for pid, (_, _, cmd) in table.items() if any(m in cmd for m in markers)}
    servers = _descendants(table, marked)
    mine = _descendants(table, {os.getpid()}) - servers
    # A descendant counts once: its own ticks, not again inside a parent that has not reaped it.
    return sum(table[p][1] for p in servers), sum(table[p][1] for p in mine)


def _our_ticks(table: dict[int, tuple[int, int, str]], markers: tuple[str, ...]) -> int:
    """CPU ticks of this process, the servers named by ``markers`` and everything under them."""
    return sum(_split_ticks(table, markers))


def cpu_seconds(markers: tuple[str, ...]) -> tuple[float, float]:
    """CPU seconds used so far by (the servers named by ``markers``, this process and its
    children): read before and after a run, the difference splits the run's CPU between the
    server and the clients. A server that is not on this machine counts as 0."""
    server, mine = _split_ticks(_process_table(), markers)
    hz = os.sysconf("SC_CLK_TCK")
    return server / hz, mine / hz


class Probe:
    """Samples, on a thread of its own while a benchmark runs, how much CPU other work took.

    Every ``interval_s`` it reads the machine's CPU counters and every process's CPU time, and
    splits the busy time into the benchmark's (this process, its children, and any process
    whose command line holds one of ``markers``, e.g. the embedded Postgres' data folder, with
    their children) and everyone else's. ``others_cpu_share`` is the share of the machine's
    CPU time (all cores) that other work used: 0.0 is a machine to ourselves, 0.5 one of two
    cores taken by someone else for the whole run.

        with Probe(markers=(str(work),)) as probe:
            ...  # the measurements
        figures["machine"] = probe.figures()
    """

    def __init__(self, markers: tuple[str, ...] = (), interval_s: float = 1.0) -> None:
        self.markers = markers
        self.interval_s = interval_s
        self.shares: list[float] = []
        self.idle_before = 1.0
        self.reference_ms: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="machine-probe", daemon=True)

    def start(self) -> Probe:
        """Time the reference, read the idle share for a second, then sample on the thread
        until ``stop()``."""
        self.reference_ms.append(reference_ms())
        self.idle_before = idle_share(1.0)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.reference_ms.append(reference_ms())

    def __enter__(self) -> Probe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _sample(self) -> tuple[int, int, int]:
        idle, total = _cpu_times()
        return total - idle, total, _our_ticks(_process_table(), self.markers)

    def _run(self) -> None:
        busy_0, total_0, ours_0 = self._sample()
        while not self._stop.wait(self.interval_s):
            busy_1, total_1, ours_1 = self._sample()
            others = max(0, (busy_1 - busy_0) - max(0, ours_1 - ours_0))
            self.shares.append(min(1.0, others / max(total_1 - total_0, 1)))
            busy_0, total_0, ours_0 = busy_1, total_1, ours_1

    def figures(self) -> dict[str, float | int | list[float]]:
        """The idle share just before the run, and other work's CPU share during it."""
        shares = sorted(self.shares) or [0.0]
        return {
            "idle_before": self.idle_before,
            "others_cpu_share_median": round(statistics.median(shares), 3),
            "others_cpu_share_p90": round(shares[math.ceil(0.9 * len(shares)) - 1], 3),
            "others_cpu_share_max": round(shares[-1], 3),
            "probe_samples": len(self.shares),
            # Before and after the run: compare with a quiet run's to see the host's speed.
            "reference_ms": self.reference_ms,
        }

    def describe(self) -> str:
        """One line for stderr."""
        f = self.figures()
        return (
            f"machine: idle {f['idle_before']:.2f} before; other work took "
            f"{f['others_cpu_share_median']:.0%} of the CPU (median of {f['probe_samples']} "
            f"samples, p90 {f['others_cpu_share_p90']:.0%}, max {f['others_cpu_share_max']:.0%}); "
            f"reference loop {' and '.join(f'{ms:g}' for ms in f['reference_ms'])} ms"
        )
