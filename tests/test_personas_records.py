"""Personas as versioned records in Postgres: create, get, list, edit, versions."""

from __future__ import annotations

import json
import uuid

import pytest

import annolab as al
from annolab.errors import ValidationError
from annolab.paths import annolab_home

pytestmark = pytest.mark.db


def _name() -> str:
    return f"persona-{uuid.uuid4().hex[:10]}"


def test_create_stores_version_one_with_its_rendered_prompt(workspace: al.Workspace) -> None:
    name = _name()
    persona = workspace.personas.create(
        name,
        model="llama3.2",
        description="Marks only what is certain.",
        traits=[{"name": "recall", "value": 0.3, "description": "misses rather than guesses"}],
        examples=[{"input": "Ada", "output": {"label": "person"}, "explanation": "a name"}],
        options={"temperature": 0},
    )
    again = workspace.personas.get(name)
    assert (again.version, again.model, again.options) == (1, "llama3.2", {"temperature": 0})
    assert again.traits[0].description == "misses rather than guesses"
    assert again.system_prompt == persona.system_prompt
    assert "- recall: 0.30 (misses rather than guesses)" in again.system_prompt
    assert repr(again) == f"<Persona {name!r} v1: llama3.2; recall=0.30>"


def test_edit_makes_a_new_version_and_keeps_the_old(workspace: al.Workspace) -> None:
    name = _name()
    first = workspace.personas.create(name, model="llama3.2", traits={"recall": 0.3})
    second = first.edit(traits={"recall": 0.8}, description="Bolder.")
    assert second.version == 2
    assert workspace.personas.get(name).traits[0].value == 0.8
    assert workspace.personas.get(name, version=1).traits[0].value == 0.3
    versions = second.versions()
    assert versions["version"].to_list() == [1, 2]
    assert versions["description"].to_list() == ["", "Bolder."]
    assert [json.loads(t)[0]["value"] for t in versions["traits"]] == [0.3, 0.8]


def test_an_edit_that_changes_nothing_makes_no_version(workspace: al.Workspace) -> None:
    persona = workspace.personas.create(_name(), model="llama3.2", traits={"recall": 0.3})
    assert persona.edit(traits={"recall": 0.3}).version == 1
    twice = persona.edit(traits={"recall": 0.5})
    assert persona.edit(traits={"recall": 0.5}).version == twice.version == 2


def test_edit_is_validated(workspace: al.Workspace) -> None:
    persona = workspace.personas.create(_name(), model="llama3.2")
    with pytest.raises(ValidationError, match=r"traits\[0\]\.value=2 must be at most 1"):
        persona.edit(traits={"recall": 2})
    assert len(persona.versions()) == 1


def test_create_twice_is_refused_unless_exist_ok_and_the_same(workspace: al.Workspace) -> None:
    name = _name()
    workspace.personas.create(name, model="llama3.2")
    assert workspace.personas.create(name, model="llama3.2", exist_ok=True).version == 1
    with pytest.raises(ValidationError, match=r"is already a persona \(at version 1\)"):
        workspace.personas.create(name, model="qwen3:4b", exist_ok=True)


def test_a_human_name_cannot_become_a_persona(workspace: al.Workspace) -> None:
    with pytest.raises(ValidationError) as caught:
        workspace.personas.create(workspace.user, model="llama3.2")
    assert str(caught.value) == (
        f"name={workspace.user!r} is already a human user; give the persona another name"
    )


def test_get_names_what_exists(workspace: al.Workspace) -> None:
    name = _name()
    workspace.personas.create(name, model="llama3.2")
    with pytest.raises(ValidationError, match=r"version=7 is not a version of persona"):
        workspace.personas.get(name, version=7)
    with pytest.raises(ValidationError) as caught:
        workspace.personas.get("nobody")
    # The session's database holds other tests' personas too: long lists are cut at 20.
    listed = workspace.personas.list()["name"].to_list()
    shown = ", ".join(repr(n) for n in listed[:20])
    if len(listed) > 20:
        shown += f", ... ({len(listed)} in all; see workspace.personas.list())"
    assert str(caught.value) == f"name='nobody' is not a persona; personas are {shown}"


def test_list_shows_each_persona_at_its_latest_version(workspace: al.Workspace) -> None:
    name = _name()
    workspace.personas.create(name, model="llama3.2").edit(model="qwen3:4b")
    listed = workspace.personas.list().filter(name=name)
    assert listed.select("version", "versions", "model", "annotations").row(0) == (
        2,
        2,
        "qwen3:4b",
        0,
    )


def test_a_prompt_template_in_annolab_home_comes_first(workspace: al.Workspace) -> None:
    folder = annolab_home() / "prompts"
    folder.mkdir(parents=True, exist_ok=True)
    template = folder / f"terse-{uuid.uuid4().hex[:8]}.j2"
    template.write_text(
        "{{ name }}: {{ description }} ({{ traits | length }} traits, "
        "{{ examples | length }} examples)",
        encoding="utf-8",
    )
    try:
        persona = workspace.personas.create(
            "terse-" + uuid.uuid4().hex[:8],
            model="llama3.2",
            description="Short.",
            traits={"recall": 0.5},
            template=template.name,
        )
    finally:
        template.unlink()
    assert persona.system_prompt == f"{persona.name}: Short. (1 traits, 0 examples)\n"
    assert persona.versions()["template"].to_list() == [template.name]


def test_a_persona_round_trips_through_a_dict(workspace: al.Workspace) -> None:
    original = workspace.personas.create(
        _name(),
        model="llama3.2",
        traits={"recall": 0.3},
        examples=[{"input": "Ada", "output": {"label": "person"}}],
        options={"temperature": 0.1},
    )
    config = original.to_dict()
    config["name"] = _name()
    copy = workspace.personas.create(**config)
    assert copy.spec == original.spec
    assert copy.system_prompt == original.system_prompt.replace(original.name, copy.name)
