"""Annotator twins: a persona built from one person's annotations and comments, and how well it
predicts them on items it never saw."""

from __future__ import annotations

import json
import re
import uuid

import polars as pl
import pytest

import annolab as al
from annolab.errors import ValidationError
from annolab.personas.twin import split
from tests.ollama_server import Request, serve_ollama

pytestmark = pytest.mark.db

MODEL = "llama3.2"
TEXTS = {
    "t1": "Ada met Bob in Rome",
    "t2": "Cy saw Dee",
    "t3": "Eve lives in Oslo",
    "t4": "nothing here",
    "t5": "Flo and Gus",
}
PLACES = {"Rome", "Oslo"}
PROFILE = {
    "description": "Marks people and places, never groups.",
    "traits": [{"name": "recall", "value": 0.8, "description": "marks most names"}],
}


def alices(text: str) -> dict[str, object]:
    """Alice marks capitalised words: places as locations, the rest as people."""
    return {
        "kind": "spans",
        "spans": [
            {
                "start": m.start(),
                "end": m.end(),
                "label": "location" if m[0] in PLACES else "person",
            }
            for m in re.finditer(r"\b[A-Z][a-z]+\b", text)
        ],
    }


def twin_model(request: Request) -> str:
    """Answers the profile question with PROFILE; annotates every capitalised word as a person."""
    if "traits" in request.body["format"]["properties"]:
        return json.dumps(PROFILE)
    found = re.search(r"^Text: (.*)$", request.prompt, re.MULTILINE)
    assert found is not None
    words = re.findall(r"\b[A-Z][a-z]+\b", json.loads(found.group(1)))
    return json.dumps({"spans": [{"text": w, "label": "person"} for w in words]})


def profile_requests(requests: list[Request]) -> list[Request]:
    chats = [r for r in requests if r.path == "/api/chat"]
    return [r for r in chats if "traits" in r.body["format"]["properties"]]


@pytest.fixture
def history(project: al.Project) -> al.Project:
    project.add_tasks(pl.DataFrame({"id": list(TEXTS), "text": list(TEXTS.values())}), id="id")
    for key, text in TEXTS.items():
        project.add_annotation(key, alices(text), user="alice")
    return project


def test_the_split_is_reproducible_and_holds_out_the_asked_share() -> None:
    train, test = split(list(TEXTS), 0.4, seed=1)
    assert (train, test) == (["t3", "t4", "t5"], ["t1", "t2"])
    assert split(list(TEXTS), 0.4, seed=1) == (train, test)
    assert split(["a", "b"], 0.9, seed=0)[0] != []  # always something to learn from


def test_a_twin_predicts_its_person_on_held_out_items(
    workspace: al.Workspace, history: al.Project
) -> None:
    name = f"twin-alice-{uuid.uuid4().hex[:8]}"
    with serve_ollama([MODEL], responder=twin_model) as server:
        result = workspace.personas.twin(
            "alice",
            history,
            model=MODEL,
            holdout=0.4,
            seed=1,
            name=name,
            host=server.url,
            backoff=0.0,
            progress=False,
        )
    # Held out: t1, where the twin calls Rome a person (F1 2 x 2 / 6), and t2, exactly right.
    assert result.items.select("external_id", "agreement").rows() == [
        ("t1", pytest.approx(2 / 3)),
        ("t2", 1.0),
    ]
    assert result.agreement == pytest.approx(5 / 6)
    assert (result.trained_on, result.held_out, result.exact) == (3, 2, 1)
    assert result.frame().select("user", "held_out", "agreement").rows() == [
        ("alice", 2, pytest.approx(5 / 6))
    ]
    assert repr(result) == (
        f"<TwinResult {name!r} v1 of 'alice': trained on 3 items, agreement 0.833 on 2 held "
        "out (1 exact)>"
    )
    persona = result.persona
    assert persona.description == PROFILE["description"]
    assert [(t.name, t.value) for t in persona.traits] == [("recall", 0.8)]
    # Examples are Alice's own answers on the training items, in the model's answer format.
    assert [e.input for e in persona.examples] == [TEXTS["t3"], TEXTS["t4"], TEXTS["t5"]]
    assert persona.examples[0].output == {
        "spans": [{"text": "Eve", "label": "person"}, {"text": "Oslo", "label": "location"}]
    }
    (profile_request,) = profile_requests(server.requests)
    assert "Eve lives in Oslo" in profile_request.prompt
    assert "Ada met Bob" not in profile_request.prompt  # held-out items stay unseen
    assert history.annotations().filter(pl.col("kind") == "persona").height == 0


def test_the_persons_comments_reach_the_profile_prompt(
    db_url: str, workspace: al.Workspace, history: al.Project
) -> None:
    helper = workspace.personas.create(f"helper-{uuid.uuid4().hex[:8]}", model=MODEL)
    with serve_ollama([MODEL], responder=twin_model) as server:
        helper.annotate(history, host=server.url, limit=1, backoff=0.0, progress=False)
        with al.connect(db_url, user="alice") as as_alice:
            mine = as_alice.personas.get(helper.name)
            mine.rate(as_alice.project(history.name), "t1", 2, comment="Rome is a place")
        workspace.personas.twin(
            "alice",
            history,
            model=MODEL,
            seed=1,
            name=f"twin-{uuid.uuid4().hex[:8]}",
            host=server.url,
            backoff=0.0,
            progress=False,
        )
    (profile_request,) = profile_requests(server.requests)
    assert '- "Rome is a place"' in profile_request.prompt


def test_running_again_makes_no_new_version(workspace: al.Workspace, history: al.Project) -> None:
    name = f"twin-{uuid.uuid4().hex[:8]}"
    options = {"model": MODEL, "seed": 3, "name": name, "backoff": 0.0, "progress": False}
    with serve_ollama([MODEL], responder=twin_model) as server:
        first = workspace.personas.twin("alice", history, host=server.url, **options)
        second = workspace.personas.twin("alice", history, host=server.url, **options)
    assert first.persona.version == second.persona.version == 1
    assert first.agreement == second.agreement


def test_an_invalid_profile_names_the_field(workspace: al.Workspace, history: al.Project) -> None:
    bad = {**PROFILE, "traits": [{"name": "recall", "value": 2, "description": ""}]}
    with serve_ollama([MODEL]) as server:
        server.script(json.dumps(bad))
        with pytest.raises(ValidationError, match=r"profile.traits\[0\].value=2 must be less"):
            workspace.personas.twin("alice", history, model=MODEL, host=server.url)


@pytest.mark.parametrize(
    ("user", "holdout", "message"),
    [
        ("alice", 1.0, "holdout=1.0 must be a share between 0 and 1"),
        ("nobody", 0.2, "user='nobody' has 0 submitted annotation"),
    ],
)
def test_a_twin_needs_a_history_and_a_share_to_hold_out(
    workspace: al.Workspace, history: al.Project, user: str, holdout: float, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        workspace.personas.twin(user, history, model=MODEL, holdout=holdout)
