"""Layout versions on the real server: immutable bodies, pinning, deprecation, old projects."""

from __future__ import annotations

import json
import uuid

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.store import projects as project_store
from annolab.workflow.spec import single


def _layout(name: str, title: str = "v1") -> al.Layout:
    return al.Layout.from_dict(
        {
            "name": name,
            "title": title,
            "inputs": [{"name": "text", "type": "text", "required": True}],
            "questions": [{"kind": "spans", "name": "entities", "field": "text"}],
        }
    )


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_publishing_makes_versions_and_the_same_body_publishes_nothing(
    workspace: al.Workspace,
) -> None:
    name = _name("lay")
    assert workspace.layouts.publish(_layout(name)) == 1
    assert workspace.layouts.publish(_layout(name)) == 1
    assert workspace.layouts.publish(_layout(name, "v2")) == 2
    assert workspace.layouts.get(name).title == "v2"
    assert workspace.layouts.get(name, 1).title == "v1"
    frame = workspace.layouts.versions(name)
    assert frame.select("version", "status", "created_by").rows() == [
        (1, "published", workspace.user),
        (2, "published", workspace.user),
    ]


def test_a_published_body_can_not_be_updated_in_the_database(workspace: al.Workspace) -> None:
    name = _name("frozen")
    workspace.layouts.publish(_layout(name))
    for statement in (
        "UPDATE layouts SET body = '{}'::jsonb WHERE name = :n",
        "UPDATE layouts SET version = 7 WHERE name = :n",
        "DELETE FROM layouts WHERE name = :n",
    ):
        with (
            pytest.raises(sa.exc.DBAPIError, match=rf"layout {name} version 1 is published"),
            workspace.engine.begin() as conn,
        ):
            conn.execute(sa.text(statement), {"n": name})
    assert workspace.layouts.get(name) == _layout(name)


def test_a_project_pins_the_version_it_was_made_with(workspace: al.Workspace) -> None:
    name = _name("pin")
    workspace.layouts.publish(_layout(name))
    proj = workspace.create_project(_name("p"), layout=_layout(name, "v2"), labels=["A"])
    assert (proj.layout_name, proj.layout_version) == (name, 2)  # the edit published v2
    workspace.layouts.publish(_layout(name, "v3"))
    again = workspace.project(proj.name)
    assert again.layout_version == 2
    assert again.layout.title == "v2"  # its own copy, whatever is published later
    with workspace.engine.begin() as conn:
        stored = conn.execute(
            sa.text("SELECT layout FROM projects WHERE id = :i"), {"i": proj.id}
        ).scalar_one()
    assert stored == {**_layout(name, "v2").to_dict(), "version": 2}


def test_a_shipped_layout_is_published_once_for_many_projects(workspace: al.Workspace) -> None:
    first = workspace.create_project(_name("c1"), layout="clinical-ner-v1", labels=["A"])
    second = workspace.create_project(_name("c2"), layout="clinical-ner-v1", labels=["A"])
    assert first.layout_version == second.layout_version
    assert workspace.layouts.get("clinical-ner-v1") == al.Layout.load("clinical-ner-v1")


def test_a_deprecated_version_warns_naming_the_newer_one(workspace: al.Workspace) -> None:
    name = _name("old")
    workspace.layouts.publish(_layout(name))
    proj = workspace.create_project(_name("p"), layout=_layout(name), labels=["A"])
    workspace.layouts.publish(_layout(name, "v2"))
    workspace.layouts.deprecate(name, 1)
    with pytest.warns(DeprecationWarning, match="is deprecated") as caught:
        workspace.project(proj.name)
    assert str(caught[0].message) == (
        f"layout {name!r} version 1 is deprecated; version 2 is the newest"
    )
    with pytest.warns(DeprecationWarning, match="version 1 is deprecated"):
        workspace.layouts.get(name, 1)
    assert workspace.layouts.versions(name)["status"].to_list() == ["deprecated", "published"]
    with pytest.warns(DeprecationWarning, match="is deprecated"):
        assert workspace.project(proj.name).answer_kinds == ("spans",)  # still works


def test_an_unknown_version_names_the_published_ones(workspace: al.Workspace) -> None:
    name = _name("few")
    workspace.layouts.publish(_layout(name))
    with pytest.raises(al.StoreError) as caught:
        workspace.layouts.get(name, 5)
    assert str(caught.value) == f"layout {name!r} version=5 is not published; published versions: 1"


def test_a_project_made_with_the_old_dict_layout_still_works(workspace: al.Workspace) -> None:
    # The row as create_project wrote it before layouts were typed: the file's dict plus its name.
    old = {
        "name": "ner",
        "title": "Named entities",
        "fields": [{"name": "text", "kind": "text"}],
        "questions": [
            {
                "name": "entities",
                "kind": "spans",
                "field": "text",
                "required": False,
                "snap_to_words": True,
            }
        ],
    }
    with workspace.engine.begin() as conn:
        row = project_store.create_project(
            conn,
            actor=workspace.user,
            actor_id=workspace.user_id,
            name=_name("legacy"),
            label_schema=al.LabelSchema.from_names(["PER"]).to_dict(),
            layout=old,
            workflow=single().to_dict(),
            guidelines="",
            settings={},
        )
    proj = workspace.project(row.name)
    assert (proj.layout_name, proj.layout_version) == ("ner", 1)
    assert proj.answer_kinds == ("spans",)
    assert proj.layout.question("entities").kind == "spans"
    proj.add_tasks(pl.DataFrame({"id": ["t"], "text": ["Ada wrote"]}), id="id")
    proj.add_annotation("t", {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "PER"}]})
    payload = json.loads(proj.annotations()["payload"][0])
    assert payload["spans"] == [{"start": 0, "end": 3, "label": "PER"}]


def test_a_layout_dict_of_its_own_makes_a_project(workspace: al.Workspace) -> None:
    judge = {
        "name": _name("judge"),
        "inputs": [
            {"name": "text", "type": "text"},
            {"name": "a", "type": "text"},
            {"name": "b", "type": "text"},
        ],
        "questions": [{"name": "better", "kind": "pairwise", "prompt": "text", "a": "a", "b": "b"}],
    }
    proj = workspace.create_project(_name("pw"), layout=judge, labels=["x"])
    assert proj.layout.answer_kinds == ("pairwise",)
    assert proj.layout.question("better").verdicts == ("a", "b", "tie", "both_bad")
