"""Krippendorff's alpha on a long frame, measured against the krippendorff package in one run.

    .venv/bin/python benchmarks/agreement.py            # 1,000,000 rows; about two minutes
    .venv/bin/python benchmarks/agreement.py --quick    # 100,000 rows; under a minute

Alpha: ``annolab.quality.krippendorff_alpha`` (nominal and interval) on N (item, annotator,
value) rows, 5 annotators per item, 5% of the values missing (null), against
``krippendorff.alpha`` on the same data as its (annotators x items) matrix with NaN. The
package's matrix is made in the setup, so its timing is the call alone; a second baseline
times the pivot from the same long frame plus the call, which is what a user holding a long
frame runs. Both must give the same value (within 1e-9).

Bootstrap: ``krippendorff_alpha(..., ci=0.95)`` with the default 1,000 resamples on 100,000
items (10,000 with --quick), nominal and interval.

Every measurement runs in a fresh child process: one unmeasured warm-up call on the same data,
then ``--calls`` timed calls (one for the bootstrap). Its peak RSS is the kernel's high-water
mark (VmHWM) reset just before the timed calls, which counts numpy's, polars' and Arrow's native
allocations alike (tracemalloc misses polars'); the figure is the whole process's, and the extra
over what it held before the calls is given too. A child's time is the median of its calls, and
each side's time the median over its children, with the spread (fastest and slowest child)
beside it; the speedup target compares medians.

Threads: polars runs annolab's alpha on every core, the package's numpy code mostly on one. So
the comparison is made twice: as each runs by default (the speedup a user sees), and with both
pinned to one thread (POLARS_MAX_THREADS, OMP_NUM_THREADS and OPENBLAS_NUM_THREADS set to 1 in
the children: the speedup of the method alone, ``speedup_one_thread``).

Progress goes to stderr, results to stdout; the last line of stdout is one JSON object with the
figures and ``targets_met``. A missed target prints a ``MISSED:`` line; the exit code is 0 either
way (it is a measurement, not a test).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from _machine import Probe

ANNOTATORS = 5
MISSING = 0.05
CATEGORIES = 7  # a 1-7 rating scale: nominal categories, or interval numbers
LEVELS = ("nominal", "interval")
SPEEDUP_TARGET = 3.0
BOOTSTRAP_TARGET_S = 5.0
SAME_VALUE = 1e-9

Result = dict[str, Any]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- test data --------------------------------------------------------------------------------


def make_data(items: int, seed: int = 0) -> tuple[pl.DataFrame, np.ndarray]:
    """A long frame (shuffled, as annotations arrive) and the same data as a coders x items matrix.

    Each item has a true rating; an annotator gives it 70% of the time, else a random one.
    """
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, CATEGORIES + 1, size=items)
    noise = rng.integers(1, CATEGORIES + 1, size=(ANNOTATORS, items))
    matrix = np.where(rng.random((ANNOTATORS, items)) < 0.7, truth, noise).astype(np.float64)
    matrix[rng.random((ANNOTATORS, items)) < MISSING] = np.nan
    values = matrix.ravel()
    frame = pl.DataFrame(
        {
            "item": np.tile(np.arange(items, dtype=np.int64), ANNOTATORS),
            "annotator": np.repeat([f"annotator-{i}" for i in range(ANNOTATORS)], items),
            "value": pl.Series(np.where(np.isnan(values), 0, values).astype(np.int64)),
        }
    ).with_columns(
        pl.when(pl.Series(np.isnan(values))).then(None).otherwise(pl.col("value")).alias("value")
    )
    order = rng.permutation(frame.height)
    return frame[order], matrix


def pivot(frame: pl.DataFrame) -> np.ndarray:
    """What a user of the krippendorff package writes first: the long frame as a coders x items
    matrix with NaN for missing values (sorted coders and items; a numpy scatter, not polars'
    pivot, which is far slower with one column per item)."""
    names = frame["annotator"].unique().sort()
    coder = frame["annotator"].replace_strict(names, pl.Series(range(names.len())))
    items, item = np.unique(frame["item"].to_numpy(), return_inverse=True)
    matrix = np.full((names.len(), items.size), np.nan)
    matrix[coder.to_numpy(), item] = frame["value"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    return matrix


# --- measuring inside a child process -----------------------------------------------------------


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@contextmanager
def measured() -> Iterator[Result]:
    """Time the block and record the process's peak RSS while it ran (Linux: VmHWM reset)."""
    result: Result = {"rss_before_mb": _status_mb("VmRSS")}
    try:
        Path("/proc/self/clear_refs").write_text("5")  # 5: reset the peak RSS to the current RSS
        result["peak_method"] = "VmHWM reset before the call"
    except OSError:
        result["peak_method"] = "ru_maxrss of the whole child (VmHWM reset unavailable)"
    start = time.perf_counter()
    yield result
    result["seconds"] = time.perf_counter() - start
    peak = _status_mb("VmHWM")
    if peak is None or "unavailable" in result["peak_method"]:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    result["peak_rss_mb"] = peak
    result["peak_extra_mb"] = peak - (result["rss_before_mb"] or 0.0)


def _annolab_call(spec: Result) -> Callable[[], Any]:
    from annolab.quality import krippendorff_alpha

    frame = pl.read_parquet(spec["frame"])
    ci = 0.95 if spec.get("bootstrap") else None
    return lambda: krippendorff_alpha(frame, level=spec["level"], ci=ci)


def _package_call(spec: Result) -> Callable[[], Any]:
    import krippendorff

    if spec["role"] == "package-pivot":
        frame = pl.read_parquet(spec["frame"])
        return lambda: krippendorff.alpha(pivot(frame), level_of_measurement=spec["level"])
    matrix = np.load(spec["matrix"])
    return lambda: krippendorff.alpha(matrix, level_of_measurement=spec["level"])


def child(spec: Result) -> Result:
    call = (_annolab_call if spec["role"] == "annolab" else _package_call)(spec)
    call()  # warm-up: first-call costs (thread pools, lazy imports) are not what is compared
    times = []
    with measured() as result:
        for _ in range(spec["calls"]):
            start = time.perf_counter()
            answer = call()
            times.append(time.perf_counter() - start)
    result["seconds"] = statistics.median(times)
    if spec["role"] == "annolab":
        result["value"] = answer.value
        result["ci"] = answer.ci
    else:
        result["value"] = float(answer)
    return result


def run_child(spec: Result) -> Result:
    """Run one measurement in a fresh interpreter; its last stdout line is the result."""
    env = dict(os.environ)
    if spec.get("one_thread"):
        env.update(POLARS_MAX_THREADS="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        msg = f"the {spec['role']} run failed (exit {done.returncode}); see its error above"
        raise RuntimeError(msg)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --- the run ------------------------------------------------------------------------------------


def measure(specs: dict[str, Result], repeat: int) -> dict[str, list[Result]]:
    """Each spec ``repeat`` times, rotating the order between repetitions."""
    names = list(specs)
    results: dict[str, list[Result]] = {name: [] for name in names}
    for rep in range(repeat):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            result = run_child(specs[name])
            log(
                f"{name} rep {rep + 1}: {result['seconds'] * 1000:,.1f} ms, "
                f"peak RSS {result['peak_rss_mb']:,.0f} MB (+{result['peak_extra_mb']:,.0f})"
            )
            results[name].append(result)
    return results


def median_s(runs: list[Result]) -> float:
    return float(statistics.median(r["seconds"] for r in runs))


def spread_ms(runs: list[Result]) -> list[float]:
    """The fastest and the slowest child's time."""
    return [
        round(min(r["seconds"] for r in runs) * 1000, 1),
        round(max(r["seconds"] for r in runs) * 1000, 1),
    ]


def peak(runs: list[Result], key: str = "peak_rss_mb") -> float:
    return float(max(r[key] for r in runs))


def summarize(
    rows: int, boot_items: int, alpha: dict[str, list[Result]], boot: dict[str, list[Result]]
) -> Result:
    figures: Result = {"benchmark": "agreement", "rows": rows, "alpha": {}, "bootstrap": {}}
    targets: dict[str, bool] = {}
    for level in LEVELS:
        ours, package, pivoted, ours_1, package_1 = (
            alpha[f"{who}-{level}"]
            for who in ("annolab", "package", "pivot", "annolab-1thread", "package-1thread")
        )
        values = [r["value"] for r in ours + package + pivoted + ours_1 + package_1]
        difference = max(values) - min(values)
        speedup = median_s(package) / median_s(ours)
        figures["alpha"][level] = {
            "value": ours[0]["value"],
            "max_abs_difference": difference,
            "annolab_ms": round(median_s(ours) * 1000, 1),
            "annolab_spread_ms": spread_ms(ours),
            "package_ms": round(median_s(package) * 1000, 1),
            "package_spread_ms": spread_ms(package),
            "package_with_pivot_ms": round(median_s(pivoted) * 1000, 1),
            "speedup": round(speedup, 2),
            "speedup_vs_pivot_and_call": round(median_s(pivoted) / median_s(ours), 2),
            "annolab_one_thread_ms": round(median_s(ours_1) * 1000, 1),
            "package_one_thread_ms": round(median_s(package_1) * 1000, 1),
            "speedup_one_thread": round(median_s(package_1) / median_s(ours_1), 2),
            "annolab_peak_rss_mb": round(peak(ours), 1),
            "annolab_peak_extra_mb": round(peak(ours, "peak_extra_mb"), 1),
            "package_peak_rss_mb": round(peak(package), 1),
            "package_peak_extra_mb": round(peak(package, "peak_extra_mb"), 1),
        }
        targets[f"alpha_{level}_speedup>={SPEEDUP_TARGET:g}x"] = speedup >= SPEEDUP_TARGET
        targets[f"alpha_{level}_same_value(1e-9)"] = difference <= SAME_VALUE
        runs = boot[f"bootstrap-{level}"]
        figures["bootstrap"][level] = {
            "items": boot_items,
            "resamples": 1000,
            "seconds": round(median_s(runs), 3),
            "spread_ms": spread_ms(runs),
            "value": runs[0]["value"],
            "ci95": runs[0]["ci"],
            "peak_rss_mb": round(peak(runs), 1),
            "peak_extra_mb": round(peak(runs, "peak_extra_mb"), 1),
        }
        targets[f"bootstrap_{level}<{BOOTSTRAP_TARGET_S:g}s"] = median_s(runs) < BOOTSTRAP_TARGET_S
    figures["targets_met"] = targets
    return figures


def report(figures: Result) -> None:
    print(
        f"mode: {figures['mode']}; {figures['repeat']} child processes x {figures['calls']} "
        "timed calls each, after one warm-up call; times are medians (fastest-slowest child "
        "in brackets), peaks the largest"
    )
    print(f"peak RSS: {figures['peak_rss_method']}")
    print(
        f"\nKrippendorff's alpha on {figures['rows']:,} rows ({ANNOTATORS} annotators per item, "
        f"{MISSING:.0%} missing, values 1-{CATEGORIES})"
    )
    for level, row in figures["alpha"].items():
        print(
            f"  {level:<9} alpha {row['value']:.6f} "
            f"(max |difference| {row['max_abs_difference']:.1e})\n"
            f"    annolab            {row['annolab_ms']:>9,.1f} ms "
            f"{row['annolab_spread_ms']}   peak RSS "
            f"{row['annolab_peak_rss_mb']:,.0f} MB (+{row['annolab_peak_extra_mb']:,.0f})\n"
            f"    krippendorff       {row['package_ms']:>9,.1f} ms "
            f"{row['package_spread_ms']}   peak RSS "
            f"{row['package_peak_rss_mb']:,.0f} MB (+{row['package_peak_extra_mb']:,.0f})\n"
            f"    pivot + package    {row['package_with_pivot_ms']:>9,.1f} ms\n"
            f"    one thread each    {row['annolab_one_thread_ms']:>9,.1f} ms against "
            f"{row['package_one_thread_ms']:,.1f} ms\n"
            f"    speedup {row['speedup']:.2f}x (one thread each {row['speedup_one_thread']:.2f}x; "
            f"vs pivot + call {row['speedup_vs_pivot_and_call']:.2f}x)"
        )
    print("\nBootstrap interval, 1,000 resamples")
    for level, row in figures["bootstrap"].items():
        low, high = row["ci95"]
        print(
            f"  {level:<9} {row['items']:,} items: {row['seconds']:.2f} s, "
            f"alpha {row['value']:.4f} [{low:.4f}, {high:.4f}], peak RSS "
            f"{row['peak_rss_mb']:,.0f} MB (+{row['peak_extra_mb']:,.0f})"
        )
    print()
    for target, met in figures["targets_met"].items():
        print(f"{'met' if met else 'MISSED'}: {target}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="100,000 rows; 10,000 items to resample"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="child processes per measurement (default 5)"
    )
    parser.add_argument(
        "--calls", type=int, default=5, help="timed calls in each child, median kept (default 5)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0

    rows, boot_items = (100_000, 10_000) if args.quick else (1_000_000, 100_000)
    repeat = max(1, args.repeat if not args.quick else min(args.repeat, 3))
    calls = max(1, args.calls)
    work = Path(tempfile.mkdtemp(prefix="annolab-bench-agreement-"))
    try:
        log(f"making {rows:,} rows and the package's matrix (setup, not measured)")
        frame, matrix = make_data(rows // ANNOTATORS)
        if not np.array_equal(pivot(frame), matrix, equal_nan=True):
            raise RuntimeError("the pivoted long frame is not the package's matrix")
        frame.write_parquet(work / "frame.parquet")
        np.save(work / "matrix.npy", matrix)
        boot_frame, _ = make_data(boot_items, seed=1)
        boot_frame.write_parquet(work / "boot.parquet")
        common = {"frame": str(work / "frame.parquet"), "matrix": str(work / "matrix.npy")}
        alpha_specs = {
            f"{name}-{level}": {
                **common,
                "role": role,
                "level": level,
                "calls": calls,
                "one_thread": one_thread,
            }
            for level in LEVELS
            for name, role, one_thread in (
                ("annolab", "annolab", False),
                ("package", "package", False),
                ("pivot", "package-pivot", False),
                ("annolab-1thread", "annolab", True),
                ("package-1thread", "package", True),
            )
        }
        probe = Probe().start()
        alpha = measure(alpha_specs, repeat)
        boot_specs = {
            f"bootstrap-{level}": {
                "frame": str(work / "boot.parquet"),
                "role": "annolab",
                "level": level,
                "bootstrap": True,
                "calls": 1,
            }
            for level in LEVELS
        }
        boot = measure(boot_specs, min(repeat, 3))
        probe.stop()
        log(probe.describe())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures = summarize(rows, boot_items, alpha, boot)
    figures.update(
        mode="quick" if args.quick else "full",
        repeat=repeat,
        calls=calls,
        peak_rss_method=alpha["annolab-nominal"][0]["peak_method"],
        machine=probe.figures(),
    )
    report(figures)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
