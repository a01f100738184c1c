"""The project dashboard over N annotations, against handing Altair the raw rows.

    .venv/bin/python benchmarks/dashboards.py            # N = 1,000,000 (about a minute)
    .venv/bin/python benchmarks/dashboards.py --quick    # N = 200,000, under a minute

The annotations are made in polars, shaped like ``Project.annotations()``: three annotators of
twenty per task, 0 to 3 spans per annotation as JSON text (the form Postgres returns), each
annotator dropping and relabelling spans at their own rate, timestamps over 60 days and
``time_spent`` in seconds. No database is involved: the dashboards take frames.

- annolab: ``dashboards.project(annotations, tasks)`` and then ``chart.to_dict()`` (the spec the
  front end receives), end to end. Target: under 1 s for 1,000,000 annotations.
- naive baseline: the same panels the way one writes them first: the payloads parsed into one
  row per span, and the raw rows handed to Altair, whose Vega-Lite transforms would aggregate in
  the browser. Only the Python side is timed (building the charts and ``to_dict()``), which is a
  lower bound on its real cost.

Progress goes to stderr, results to stdout; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import altair as alt
import polars as pl
from _machine import Probe

from annolab import dashboards
from annolab.dashboards import _data

LABELS = ["person", "location", "group", "creative-work", "corporation", "product"]
USERS = 20
PER_TASK = 3
TARGET_SECONDS = 1.0
FULL_N = 1_000_000
QUICK_N = 200_000


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def make_annotations(n: int, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``n`` annotations of ``n / 3`` tasks, and the tasks, deterministically from ``seed``."""
    tasks_n = n // PER_TASK
    start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    rows = pl.DataFrame({"i": pl.arange(0, tasks_n * PER_TASK, eager=True)}).with_columns(
        (pl.col("i") // PER_TASK).alias("task_id"),
        ((pl.col("i") // PER_TASK * 7 + pl.col("i") % PER_TASK * 3) % USERS).alias("u"),
    )
    rows = rows.with_columns(
        pl.format("annotator-{}", pl.col("u")).alias("user"),
        # Annotator u drops a span with probability u / 60 and relabels one with u / 40.
        (pl.col("u") / 60).alias("drop"),
        (pl.col("u") / 40).alias("swap"),
    )
    spans = (
        rows.select("i", "task_id", "drop", "swap", (pl.col("task_id") % 4).alias("k"))
        .with_columns(pl.int_ranges(0, "k").alias("j"))
        .explode("j")
        .with_columns(
            pl.struct("i", "j").hash(seed).alias("h1"),
            pl.struct("j", "i").hash(seed + 1).alias("h2"),
            (pl.col("task_id") % 7).alias("shift"),
        )
        .with_columns(
            ((pl.col("h1") % 10_000) / 10_000).alias("r1"),
            ((pl.col("h2") % 10_000) / 10_000).alias("r2"),
            ((pl.col("task_id") * 5 + pl.col("j")) % len(LABELS)).alias("gold_label"),
        )
        .with_columns(
            pl.when(pl.col("r2") < pl.col("swap"))
            .then((pl.col("gold_label") + 1 + pl.col("h2") % 5) % len(LABELS))
            .otherwise(pl.col("gold_label"))
            .alias("label_code")
        )
        .filter(pl.col("j").is_not_null() & (pl.col("r1") >= pl.col("drop")))
        .with_columns(
            pl.col("label_code")
            .replace_strict(list(range(len(LABELS))), LABELS, return_dtype=pl.String)
            .alias("label")
        )
        .select(
            "i",
            pl.concat_str(
                pl.lit('{"end": '),
                (pl.col("j") * 10 + pl.col("shift") + 6).cast(pl.String),
                pl.lit(', "label": "'),
                pl.col("label"),
                pl.lit('", "start": '),
                (pl.col("j") * 10 + pl.col("shift")).cast(pl.String),
                pl.lit("}"),
            ).alias("span"),
        )
        .group_by("i")
        .agg(pl.col("span").str.join(", "))
    )
    annotations = (
        rows.join(spans, on="i", how="left")
        .sort("i")
        .select(
            pl.format(
                "00000000-0000-4000-8000-{}", pl.col("i").cast(pl.String).str.zfill(12)
            ).alias("annotation_id"),
            "task_id",
            pl.format("t{}", pl.col("task_id")).alias("external_id"),
            "user",
            pl.lit("human").alias("kind"),
            pl.lit("submitted").alias("status"),
            pl.concat_str(
                pl.lit('{"kind": "spans", "spans": ['), pl.col("span").fill_null(""), pl.lit("]}")
            ).alias("payload"),
            pl.lit("annotate").alias("step"),
            (5 + (pl.col("i").hash(seed + 2) % 600) / 10).alias("time_spent"),
            (
                pl.lit(start)
                + pl.duration(seconds=pl.col("i") * (60 * 86_400) // (tasks_n * PER_TASK))
            ).alias("created_at"),
        )
        .with_columns(pl.col("created_at").alias("updated_at"))
    )
    statuses = ["completed", "pending", "in_progress", "escalated"]
    tasks = pl.DataFrame({"task_id": pl.arange(0, tasks_n, eager=True)}).with_columns(
        pl.format("t{}", pl.col("task_id")).alias("external_id"),
        pl.col("task_id")
        .mod(len(statuses))
        .replace_strict(list(range(len(statuses))), statuses, return_dtype=pl.String)
        .alias("status"),
    )
    return annotations, tasks


def annolab_dashboard(annotations: pl.DataFrame, tasks: pl.DataFrame) -> dict[str, Any]:
    return dashboards.project(annotations, tasks).to_dict()


def naive_dashboard(annotations: pl.DataFrame, tasks: pl.DataFrame) -> dict[str, Any]:
    """The panels with the raw rows embedded and Vega-Lite transforms left to aggregate."""
    rows = _data.annotation_rows(annotations)
    spans = _data.units(rows).join(rows.select("row", "at"), on="row")
    raw = rows.drop("payload")
    progress = (
        alt.Chart(raw).mark_line().encode(x="yearmonthdate(at):T", y="count():Q", color="kind:N")
    )
    per_label = (
        alt.Chart(spans)
        .transform_aggregate(n="count()", groupby=["item", "start", "end", "label"])
        .mark_bar()
        .encode(x="mean(n):Q", y="label:N")
    )
    over_time = alt.Chart(spans).mark_line().encode(x="yearmonthdate(at):T", y="count():Q")
    steps = alt.Chart(raw).mark_bar().encode(x="sum(time_spent):Q", y="step:N")
    status = alt.Chart(tasks).mark_bar().encode(x="count():Q", y="status:N")
    chart = alt.vconcat(alt.hconcat(progress, over_time), alt.hconcat(per_label, steps), status)
    return chart.to_dict()


def timed(
    run: Callable[[], dict[str, Any]], repeat: int
) -> tuple[list[float], list[float], dict[str, Any]]:
    """Wall seconds and CPU seconds (all threads) of each run, and the last spec."""
    seconds, cpu = [], []
    spec: dict[str, Any] = {}
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        spec = run()
        seconds.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return seconds, cpu, spec


def embedded_rows(spec: dict[str, Any]) -> int:
    return sum(len(values) for values in spec.get("datasets", {}).values())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"N = {QUICK_N:,}")
    parser.add_argument("--n", type=int, default=None, help="number of annotations")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    n = args.n or (QUICK_N if args.quick else FULL_N)
    log(f"making {n:,} annotations")
    annotations, tasks = make_annotations(n)
    log(f"made {annotations.height:,} annotations of {tasks.height:,} tasks")

    probe = Probe().start()
    ours, ours_cpu, spec = timed(lambda: annolab_dashboard(annotations, tasks), args.repeat)
    log(f"annolab: {[round(s, 3) for s in ours]} s, {embedded_rows(spec):,} rows embedded")
    with alt.data_transformers.disable_max_rows():
        naive, naive_cpu, naive_spec = timed(
            lambda: naive_dashboard(annotations, tasks), args.repeat
        )
    log(f"naive: {[round(s, 3) for s in naive]} s, {embedded_rows(naive_spec):,} rows embedded")
    probe.stop()
    log(probe.describe())

    median_ours, median_naive = statistics.median(ours), statistics.median(naive)
    figures: dict[str, Any] = {
        "benchmark": "dashboards",
        "annotations": annotations.height,
        "annolab_seconds": round(median_ours, 3),
        "annolab_runs": [round(s, 3) for s in ours],
        "annolab_cpu_seconds": round(statistics.median(ours_cpu), 3),
        "annolab_rows_embedded": embedded_rows(spec),
        "naive_seconds": round(median_naive, 3),
        "naive_cpu_seconds": round(statistics.median(naive_cpu), 3),
        "naive_rows_embedded": embedded_rows(naive_spec),
        "cores": os.cpu_count(),
        "machine": probe.figures(),
        "speedup_vs_naive": round(median_naive / median_ours, 2),
        "targets_met": {
            f"project_dashboard<{TARGET_SECONDS:g}s_at_1M": (
                median_ours < TARGET_SECONDS if n >= FULL_N else None
            ),
            "rows_embedded<=5000": embedded_rows(spec) <= 5000,
        },
    }
    print(f"project dashboard over {annotations.height:,} annotations")
    print(f"  annolab  {median_ours:8.3f} s  ({figures['annolab_rows_embedded']:,} rows in spec)")
    print(f"  naive    {median_naive:8.3f} s  ({figures['naive_rows_embedded']:,} rows in spec)")
    for name, met in figures["targets_met"].items():
        if met is False:
            print(f"MISSED: {name}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
