"""export_table: jsonl and parquet written from Arrow (a binary COPY) give the rows, order and
values of the batch writer (write_batches over iter_export_batches) on hostile text."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import annolab as al
from annolab.io import export
from annolab.io.export import export_table, write_batches
from annolab.store.annotations import iter_export_batches
from tests.strategies import storable_text

SPAN = {"kind": "spans", "spans": [{"start": 0, "end": 1, "label": "person"}]}
HOSTILE = [
    'line one\nline "two", with commas\t\\ and a backslash 👋',
    "\\N \\. \x01\x02\x7f\u2028\u2029 \r\n\x1b[0m '' \"\"",
    "東京 e\u0301 🇯🇵 \u200d",
    "\\",
]


def _new_project(workspace: al.Workspace, texts: list[str]) -> al.Project:
    project = workspace.create_project(f"export-{uuid.uuid4().hex[:12]}", labels=["person"])
    ids = [f"t{i}" for i in range(len(texts))]
    project.add_tasks(pl.DataFrame({"id": ids, "text": texts}), id="id")
    return project


def _exports(workspace: al.Workspace, project: al.Project, folder: Path, fmt: str) -> Any:
    """(rows, file) of export_table and of the batch writer."""
    found = []
    for name in ("table", "batches"):
        path = folder / f"{name}-{uuid.uuid4().hex[:8]}.{fmt}"
        with workspace.engine.begin() as conn:
            if name == "table":
                rows = export_table(conn, project.id, path, fmt)
            else:
                rows = write_batches(iter_export_batches(conn, project.id), path, fmt)
        found.append((rows, path))
    return found


def _lines(path: Path) -> list[dict[str, Any]]:
    # Split on "\n" alone: str.splitlines also splits at U+2028 and others JSON leaves raw.
    text = path.read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.split("\n")[:-1]]
    for row in rows:  # the same instant, however many fraction digits it is written with
        row["created_at"] = datetime.fromisoformat(row["created_at"])
        row["updated_at"] = datetime.fromisoformat(row["updated_at"])
    return rows


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    texts=st.lists(
        storable_text(min_size=1, max_size=80).filter(str.strip) | st.sampled_from(HOSTILE),
        min_size=1,
        max_size=4,
    ),
    user=storable_text(min_size=1, max_size=20).filter(str.strip),
    seconds=st.none()
    | st.floats(min_value=0, allow_infinity=False)
    | st.sampled_from([0.0, 27.0, 1e15, 1e20, 5e-324, 0.1 + 0.2]),
    model=st.none() | storable_text(max_size=30) | st.sampled_from(HOSTILE),
)
def test_jsonl_and_parquet_have_the_batch_writers_values(
    workspace: al.Workspace,
    tmp_path: Path,
    texts: list[str],
    user: str,
    seconds: float | None,
    model: str | None,
) -> None:
    project = _new_project(workspace, texts)
    for i in range(len(texts)):
        project.add_annotation(f"t{i}", SPAN, user=user, time_spent=seconds)
    with workspace.engine.begin() as conn:  # columns no public call sets
        conn.execute(
            sa.text(
                "UPDATE annotations SET model = :m, prompt_hash = :m, model_digest = :m "
                "WHERE task_id IN (SELECT id FROM tasks WHERE project_id = :p)"
            ),
            {"m": model, "p": project.id},
        )
    (rows, table), (old_rows, batches) = _exports(workspace, project, tmp_path, "jsonl")
    assert rows == old_rows == len(texts)
    lines = _lines(table)
    assert lines == _lines(batches)
    assert [line["text"] for line in lines] == texts
    assert {(line["user"], line["model"], line["time_spent"]) for line in lines} == {
        (user, model, seconds)
    }
    assert [line["payload"] for line in lines] == [SPAN] * len(texts)

    (rows, table), (_, batches) = _exports(workspace, project, tmp_path, "parquet")
    assert rows == len(texts)
    frame = pl.read_parquet(table)
    assert frame.equals(pl.read_parquet(batches))
    assert frame["text"].to_list() == texts
    assert pq.read_schema(table) == pq.read_schema(batches)


def test_jsonl_is_the_batch_writers_bytes(workspace: al.Workspace, tmp_path: Path) -> None:
    project = _new_project(workspace, HOSTILE)
    for i, seconds in enumerate([4.5, 27.0, None, 0.1]):
        project.add_annotation(f"t{i}", SPAN, user="alice", time_spent=seconds)
    with workspace.engine.begin() as conn:  # timestamps whose fraction polars writes as is
        conn.execute(
            sa.text(
                "UPDATE annotations SET created_at = '2026-01-02 03:04:05.123456+00', "
                "updated_at = '2026-01-02 03:04:05.654321+00' "
                "WHERE task_id IN (SELECT id FROM tasks WHERE project_id = :p)"
            ),
            {"p": project.id},
        )
    (_, table), (_, batches) = _exports(workspace, project, tmp_path, "jsonl")
    assert table.read_bytes() == batches.read_bytes()
    first = _lines(table)[1]
    assert (first["time_spent"], first["text"]) == (27.0, HOSTILE[1])
    assert isinstance(first["time_spent"], float)


def test_parquet_in_many_chunks_keeps_rows_and_order(
    workspace: al.Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [f"text {i} " + HOSTILE[i % len(HOSTILE)] for i in range(300)]
    project = _new_project(workspace, texts)
    for i in range(len(texts)):
        project.add_annotation(f"t{i}", SPAN, user="bob", time_spent=float(i))
    monkeypatch.setattr(export, "BATCH_BYTES", 2_000)  # a few rows a batch
    monkeypatch.setattr(export, "PARQUET_ROW_GROUP", 7)
    (rows, table), (_, batches) = _exports(workspace, project, tmp_path, "parquet")
    assert rows == 300
    assert pq.read_metadata(table).num_row_groups > 40
    frame = pl.read_parquet(table)
    assert frame.equals(pl.read_parquet(batches))
    assert frame["text"].to_list() == texts


def test_an_empty_project_writes_an_empty_jsonl_and_a_parquet_with_the_columns(
    workspace: al.Workspace, tmp_path: Path
) -> None:
    project = _new_project(workspace, ["nothing annotated"])
    (rows, table), _ = _exports(workspace, project, tmp_path, "jsonl")
    assert (rows, table.read_bytes()) == (0, b"")
    (rows, table), (_, batches) = _exports(workspace, project, tmp_path, "parquet")
    assert rows == 0
    assert pl.read_parquet(table).schema == pl.read_parquet(batches).schema
    assert pl.read_parquet(table).height == 0


def test_a_failed_parquet_export_leaves_the_old_file_alone(
    workspace: al.Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow as pa

    project = _new_project(workspace, [f"text {i}" for i in range(50)])
    for i in range(50):
        project.add_annotation(f"t{i}", SPAN, user="bob")
    path = tmp_path / "out.parquet"
    path.write_bytes(b"previous export")
    # A codec Arrow does not know fails the writer thread at its first batch while the driver
    # is still reading (tiny batches): the reader stops and raises the writer's error.
    monkeypatch.setattr(export, "PARQUET_CODEC", "no-such-codec")
    monkeypatch.setattr(export, "BATCH_BYTES", 500)
    with pytest.raises(pa.ArrowException, match="no-such-codec"), workspace.engine.begin() as conn:
        export_table(conn, project.id, path, "parquet")
    assert path.read_bytes() == b"previous export"
    assert list(tmp_path.iterdir()) == [path]
    assert (
        project.export(tmp_path / "again.csv").written == 50
    )  # the connections are fine afterwards
