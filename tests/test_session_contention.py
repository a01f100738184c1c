"""``session.next()`` returns None only when nothing is left, not when others hold the rows."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
import annolab.session


@pytest.fixture
def one_task(project: al.Project) -> al.Project:
    project.add_tasks(pl.DataFrame({"id": ["t1"], "text": ["Ada met Grace"]}), id="id")
    return project


@pytest.fixture
def locked(one_task: al.Project) -> Iterator[sa.Connection]:
    """Another transaction holds the only task's row, as a claim in flight does."""
    with one_task.workspace.engine.connect() as conn:
        conn.execute(
            sa.text("SELECT id FROM tasks WHERE project_id = :p FOR NO KEY UPDATE"),
            {"p": one_task.id},
        )
        yield conn
        conn.rollback()


def test_a_place_locked_for_a_moment_is_claimed_once_it_is_free(
    one_task: al.Project, locked: sa.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []

    def pause(seconds: float) -> None:  # the other claim finishes while we wait
        pauses.append(seconds)
        locked.rollback()

    monkeypatch.setattr(annolab.session.time, "sleep", pause)
    item = one_task.session("ann").next()
    assert item is not None and item.external_id == "t1"
    assert pauses == [annolab.session.CONTENDED_PAUSES[0]]


def test_a_place_locked_throughout_gives_none_after_the_last_try(
    one_task: al.Project, locked: sa.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(annolab.session.time, "sleep", pauses.append)
    assert one_task.session("ann").next() is None
    assert tuple(pauses) == annolab.session.CONTENDED_PAUSES


def test_an_empty_queue_answers_at_once(
    project: al.Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(annolab.session.time, "sleep", pauses.append)
    assert project.session("ann").next() is None
    assert pauses == []
