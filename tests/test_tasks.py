"""add_tasks: COPY in, idempotent by external id, bad rows refused by number, nothing lost."""

from __future__ import annotations

import json
import threading

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import sqlalchemy as sa

import annolab as al


def _count(project: al.Project) -> int:
    return project.tasks().height


def test_tasks_from_polars_keep_text_id_and_other_columns(project: al.Project) -> None:
    frame = pl.DataFrame(
        {
            "doc_id": ["d1", "d2"],
            "body": ["Ada Lovelace lives in London", "東京 👋🏽 café"],
            "source": ["tweet", "reddit"],
        }
    )
    added = project.add_tasks(frame, text="body", id="doc_id")
    assert (added.new, added.existing) == (2, 0)
    tasks = project.tasks()
    assert tasks["external_id"].to_list() == ["d1", "d2"]
    assert tasks["text"].to_list() == ["Ada Lovelace lives in London", "東京 👋🏽 café"]
    # Every column but the text stays in the data, the id too (a layout may show it).
    assert json.loads(tasks["data"][1]) == {
        "text": "東京 👋🏽 café",
        "doc_id": "d2",
        "source": "reddit",
    }
    assert tasks["status"].to_list() == ["pending", "pending"]


def test_adding_the_same_ids_again_adds_nothing(project: al.Project) -> None:
    frame = pl.DataFrame({"id": [1, 2, 3], "text": ["a", "b", "c"]})
    assert project.add_tasks(frame, id="id").new == 3
    again = project.add_tasks(pl.DataFrame({"id": [2, 3, 4], "text": ["b", "c", "d"]}), id="id")
    assert (again.new, again.existing) == (1, 2)
    assert repr(again) == "<AddedTasks 1 new, 2 already in the project>"
    assert _count(project) == 4


def test_without_ids_the_same_texts_are_not_added_twice(project: al.Project) -> None:
    assert project.add_tasks(pl.DataFrame({"text": ["x", "y", "x"]})).new == 2
    assert project.add_tasks(pl.DataFrame({"text": ["y", "z"]})).new == 1
    assert sorted(project.tasks()["text"].to_list()) == ["x", "y", "z"]


def test_pandas_and_arrow_frames_are_accepted(project: al.Project) -> None:
    project.add_tasks(pd.DataFrame({"id": ["p1"], "text": ["from pandas"]}), id="id")
    project.add_tasks(pa.table({"id": ["a1"], "text": ["from arrow"]}), id="id")
    assert project.tasks()["text"].to_list() == ["from pandas", "from arrow"]


def test_priority_column(project: al.Project) -> None:
    frame = pl.DataFrame({"id": ["a", "b"], "text": ["a", "b"], "urgency": [5, None]})
    project.add_tasks(frame, id="id", priority="urgency")
    assert project.tasks()["priority"].to_list() == [5, 0]


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (["ok", None, "ok", None], "text: text is null in rows 1, 3; nothing was added"),
        (["ok", ""], "text: text is empty in row 1; nothing was added"),
        (["nul\x00byte"], r"text: text holds a NUL character \(\\x00\) in row 0"),
    ],
)
def test_bad_texts_are_refused_with_row_numbers(
    project: al.Project, texts: list[str | None], message: str
) -> None:
    project.add_tasks(pl.DataFrame({"text": ["already here"]}))
    with pytest.raises(al.DataError, match=message):
        project.add_tasks(pl.DataFrame({"text": texts}))
    assert project.tasks()["text"].to_list() == ["already here"]


def test_unknown_column_names_the_columns(project: al.Project) -> None:
    with pytest.raises(
        al.DataError, match="text='body' is not a column of the frame; its columns are 'id', 'txt'"
    ):
        project.add_tasks(pl.DataFrame({"id": [1], "txt": ["a"]}), text="body", id="id")
    with pytest.raises(al.DataError, match="id='doc' is not a column"):
        project.add_tasks(pl.DataFrame({"id": [1], "text": ["a"]}), id="doc")


def test_duplicate_ids_in_one_frame_are_refused(project: al.Project) -> None:
    frame = pl.DataFrame({"id": ["a", "b", "a"], "text": ["1", "2", "3"]})
    with pytest.raises(al.DataError, match=r"ids must be unique .* \['a'\] repeat \(rows 0, 2\)"):
        project.add_tasks(frame, id="id")
    assert _count(project) == 0


def test_null_ids_are_refused(project: al.Project) -> None:
    with pytest.raises(al.DataError, match="id: id is null in row 1"):
        project.add_tasks(pl.DataFrame({"id": ["a", None], "text": ["1", "2"]}), id="id")


def test_invalid_utf8_is_refused_with_row_numbers(project: al.Project) -> None:
    frame = pl.DataFrame({"text": [b"fine", b"\xff\xfe broken"]})
    with pytest.raises(al.DataError, match="text: text is not valid UTF-8 in row 1"):
        project.add_tasks(frame)
    assert _count(project) == 0


def test_text_over_the_limit_is_refused(project: al.Project) -> None:
    big = "word " * 2_100_000  # 10.5 MB
    with pytest.raises(
        al.DataError,
        match=r"text is longer than this project's "
        r"max_text_chars=2,000,000 .* in row 1",
    ):
        project.add_tasks(pl.DataFrame({"text": ["small", big]}))
    assert _count(project) == 0


def test_project_setting_raises_the_text_limit(workspace: al.Workspace) -> None:
    roomy = workspace.create_project(
        "roomy-" + str(id(workspace)), labels=["x"], settings={"max_text_chars": 11_000_000}
    )
    big = "word " * 2_100_000
    assert roomy.add_tasks(pl.DataFrame({"text": [big]})).new == 1
    assert roomy.tasks()["text"][0] == big


def test_non_text_column_is_refused(project: al.Project) -> None:
    with pytest.raises(al.DataError, match=r"text='n' holds Int64, not text"):
        project.add_tasks(pl.DataFrame({"n": [1]}), text="n")


def test_adding_is_recorded_in_the_event_log(workspace: al.Workspace, project: al.Project) -> None:
    project.add_tasks(pl.DataFrame({"text": ["a", "b"]}))
    project.add_tasks(pl.DataFrame({"text": ["b", "c"]}))
    with workspace.engine.begin() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT actor, after FROM events WHERE action = 'tasks.added' AND project_id = :p "
                "ORDER BY id"
            ),
            {"p": project.id},
        ).all()
    assert [(r.actor, r.after) for r in rows] == [
        ("tester", {"new": 2, "existing": 0}),
        ("tester", {"new": 1, "existing": 1}),
    ]


def test_concurrent_loads_of_overlapping_ids_add_each_task_once(project: al.Project) -> None:
    frames = [
        pl.DataFrame(
            {
                "id": [f"t{i}" for i in range(start, start + 3000)],
                "text": [f"text {i}" for i in range(start, start + 3000)],
            }
        )
        for start in (0, 1000, 2000)
    ]
    results: list[al.AddedTasks] = []
    errors: list[BaseException] = []

    def load(frame: pl.DataFrame) -> None:
        try:
            results.append(project.add_tasks(frame, id="id"))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(f,)) for f in frames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert sum(r.new for r in results) == 5000
    assert _count(project) == 5000


def test_a_pandas_text_with_a_lone_surrogate_is_refused_and_nothing_added(
    project: al.Project,
) -> None:
    frame = pd.DataFrame({"text": ["fine", "caf\udce9"]}, dtype=object)
    with pytest.raises(al.DataError, match="could not read the DataFrame as a table"):
        project.add_tasks(frame)
    assert _count(project) == 0


def test_whole_float_priorities_are_stored_exactly(project: al.Project) -> None:
    frame = pl.DataFrame({"id": ["a", "b"], "text": ["a", "b"], "urgency": [3.0, None]})
    project.add_tasks(frame, id="id", priority="urgency")
    assert project.tasks()["priority"].to_list() == [3, 0]
