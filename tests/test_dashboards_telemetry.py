"""The annotator dashboard's telemetry panels: the aggregated figures, the row bound, the
errors, and a frame read back from a real project."""

from __future__ import annotations

import uuid
from typing import Any

import polars as pl
import pytest

import annolab as al
from annolab import dashboards
from annolab.dashboards.annotator import habits_table
from annolab.errors import QualityError
from annolab.widgets._telemetry import parse_summary
from tests.test_dashboards import frame, spans


def telemetry(rows: list[tuple[str, str, int, int, int, int, int, int]]) -> pl.DataFrame:
    """(user, task, active_ms, idle_ms, keys, pointer, edits, undos) -> a proj.telemetry() frame."""
    columns = ("user", "task", "active_ms", "idle_ms", "keys", "pointer", "edits", "undos")
    table = pl.DataFrame(rows, schema=list(columns), orient="row")
    return table.with_columns(step=pl.lit("annotate"), redos=pl.lit(0))


TWO = telemetry(
    [
        # ana: two tasks, the first in two summaries (an interval, then the submit)
        ("ana", "t1", 20_000, 10_000, 30, 10, 4, 1),
        ("ana", "t1", 10_000, 0, 10, 0, 2, 1),
        ("ana", "t2", 30_000, 20_000, 0, 10, 2, 0),
        # bob: one task, mouse only, no edits
        ("bob", "t1", 5_000, 0, 0, 4, 0, 0),
    ]
)


def values(chart: Any) -> list[dict[str, Any]]:
    spec = chart.to_dict()
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_habits_are_summed_per_annotator_over_their_task_steps() -> None:
    table = {row["user"]: row for row in habits_table(TWO).rows(named=True)}
    ana, bob = table["ana"], table["bob"]
    assert ana["tasks"] == 2
    assert ana["seconds_per_task"] == pytest.approx(45.0)  # 90 s over two tasks
    assert ana["active_share"] == pytest.approx(60 / 90)
    assert ana["keyboard_share"] == pytest.approx(40 / 60)
    assert (ana["edits_per_task"], ana["undos_per_task"]) == (4.0, 1.0)
    assert ana["undos_per_edit"] == pytest.approx(2 / 8)
    assert (bob["tasks"], bob["seconds_per_task"], bob["active_share"]) == (1, 5.0, 1.0)
    assert bob["keyboard_share"] == 0.0
    assert bob["undos_per_edit"] is None  # no edits: no rate, rather than 0 or NaN


def test_the_dashboard_draws_the_telemetry_panels_from_aggregates() -> None:
    annotations = frame([(1, "ana", spans((0, 3, "PER"))), (1, "bob", spans((0, 3, "PER")))])
    without = dashboards.annotator(annotations, "ana").to_dict()
    chart = dashboards.annotator(annotations, "ana", telemetry=TWO)
    spec = chart.to_dict()
    text = str(spec)
    assert "Time on task" in text and "Keyboard, mouse and edits" in text
    assert "Time on task" not in str(without)
    drawn = [row for row in values(chart) if "keyboard_share" in row]
    # One row per annotator: the panels never carry the raw summaries.
    assert sorted((row["user"], row["who"]) for row in drawn) == [("ana", "ana"), ("bob", "others")]
    # An annotator with no telemetry of their own gets the other panels only.
    assert "Time on task" not in str(dashboards.annotator(annotations, "bob", telemetry=TWO[:3]))


def test_bad_telemetry_frames_are_refused_with_the_reason() -> None:
    with pytest.raises(QualityError, match=r"missing the columns \['undos'\].*proj.telemetry\(\)"):
        habits_table(TWO.drop("undos"))
    with pytest.raises(QualityError, match=r"user='cy' has no telemetry.*'ana', 'bob'"):
        dashboards.time_on_task(TWO, "cy")


@pytest.mark.db
def test_the_panels_draw_from_a_projects_telemetry(workspace: al.Workspace) -> None:
    proj = workspace.create_project(
        f"habits-{uuid.uuid4().hex[:8]}", labels=["pos", "neg"], layout="classify"
    )
    proj.add_tasks(pl.DataFrame({"id": ["a", "b"], "text": ["good", "bad"]}), id="id")
    for who, keys in (("hab-ana", 12), ("hab-bob", 0)):
        session = proj.session(who)
        item = session.next()
        assert item is not None
        summary = {
            "batch_id": str(uuid.uuid4()),
            "widget": "classify",
            "reason": "submit",
            "active_ms": 4_000,
            "idle_ms": 1_000,
            "keys": keys,
            "pointer": 3,
            "edits": 2,
            "undos": 1,
            "redos": 0,
        }
        assert session.record_telemetry([parse_summary(summary)], item) == 1
    chart = dashboards.input_and_edits(proj.telemetry(), "hab-ana")
    shares = {r["user"]: r["keyboard_share"] for r in values(chart) if "keyboard_share" in r}
    assert shares == {"hab-ana": pytest.approx(0.8), "hab-bob": 0.0}
