"""What ``import annolab`` costs a fresh kernel, against importing everything up front.

    .venv/bin/python benchmarks/import_time.py            # 21 runs of each (about a minute)
    .venv/bin/python benchmarks/import_time.py --quick    # 7 runs of each

Each run is a new interpreter, so nothing is cached in memory (the operating system's file
cache is warm after the first run, as it is for a user's second kernel). Timed inside the
child with ``time.perf_counter`` around the import alone, so interpreter start-up is left out.

- annolab: ``import annolab``. Target: median under 0.3 s.
- eager baseline: ``import annolab.project, annolab.workspace, annolab.dashboards,
  annolab.widgets``, what ``import annolab`` loaded before its names became lazy.
- first widget: ``import annolab; annolab.BBox``, the imports a widget-only cell pays.

Medians and the spread (min, max) are reported; runs alternate between the cases so a burst of
load on the machine falls on all of them. Other work's share of the CPU during the runs is
sampled by ``_machine.Probe``. Progress goes to stderr; the last line of stdout is
one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from _machine import Probe

CASES = {
    "annolab": "import annolab",
    "eager": "import annolab.project, annolab.workspace, annolab.dashboards, annolab.widgets",
    "first_widget": "import annolab; annolab.BBox",
}
TIMED = "import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"


def once(code: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", TIMED.format(code=code)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


def measure(runs: int) -> dict[str, float | int]:
    """Each case ``runs`` times, alternating; the medians, spreads and the eager ratio."""
    for code in CASES.values():  # warm the file cache; not counted
        once(code)
    seconds: dict[str, list[float]] = {name: [] for name in CASES}
    for run in range(runs):
        for name, code in CASES.items():
            seconds[name].append(once(code))
        print(f"run {run + 1}/{runs}", file=sys.stderr)
    figures: dict[str, float | int] = {"runs": runs}
    for name, values in seconds.items():
        median = statistics.median(values)
        figures[f"{name}_median_s"] = round(median, 4)
        figures[f"{name}_min_s"] = round(min(values), 4)
        figures[f"{name}_max_s"] = round(max(values), 4)
        print(
            f"{name:13} median {median * 1000:7.1f} ms  ({min(values) * 1000:.1f}-"
            f"{max(values) * 1000:.1f})",
            file=sys.stderr,
        )
    figures["eager_over_annolab"] = round(
        figures["eager_median_s"] / figures["annolab_median_s"], 1
    )
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="7 runs of each, not 21")
    args = parser.parse_args(argv)
    with Probe() as probe:
        figures = measure(7 if args.quick else 21)
    print(probe.describe(), file=sys.stderr)
    figures["machine"] = probe.figures()  # type: ignore[assignment]
    figures["target_met"] = int(figures["annolab_median_s"] < 0.3)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
