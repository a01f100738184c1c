"""Persona panels: several personas on the same items, their agreement with each other and with
people, and the items they disagree on sent to the front of the human queue."""

from __future__ import annotations

import json
import re
import uuid

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.errors import ValidationError
from tests.ollama_server import Request, serve_ollama

pytestmark = pytest.mark.db

MODEL = "llama3.2"
TEXTS = {"a": "Ada met Bob in Rome", "b": "nothing here", "c": "Cy saw Dee"}
# What each persona says, by item: "sharp" gets everything, "hasty" misses Bob and calls Rome a
# person on item a, and agrees elsewhere.
SAYS = {
    "sharp": {
        "a": [("Ada", "person"), ("Bob", "person"), ("Rome", "location")],
        "b": [],
        "c": [("Cy", "person"), ("Dee", "person")],
    },
    "hasty": {
        "a": [("Ada", "person"), ("Rome", "person")],
        "b": [],
        "c": [("Cy", "person"), ("Dee", "person")],
    },
}


def persona_of(request: Request) -> str:
    """The persona asking, from the first line of its system prompt ("You are NAME, ...")."""
    found = re.match(r"You are (\S+?),", request.body["messages"][0]["content"])
    assert found is not None
    return found.group(1)


def item_of(request: Request) -> str:
    found = re.search(r"^Text: (.*)$", request.prompt, re.MULTILINE)
    assert found is not None
    text = json.loads(found.group(1))
    return next(key for key, value in TEXTS.items() if value == text)


def panel_answers(request: Request) -> str:
    style = persona_of(request).split("-")[0]
    spans = SAYS[style][item_of(request)]
    return json.dumps({"spans": [{"text": t, "label": label} for t, label in spans]})


@pytest.fixture
def ner(project: al.Project) -> al.Project:
    project.add_tasks(pl.DataFrame({"id": list(TEXTS), "text": list(TEXTS.values())}), id="id")
    return project


def two_personas(workspace: al.Workspace) -> list[al.personas.Persona]:
    tag = uuid.uuid4().hex[:8]
    return [workspace.personas.create(f"{style}-{tag}", model=MODEL) for style in SAYS]


def run_panel(workspace: al.Workspace, ner: al.Project, **options: object) -> object:
    panel = workspace.personas.panel(two_personas(workspace))
    with serve_ollama([MODEL], responder=panel_answers) as server:
        return panel.run(ner, host=server.url, backoff=0.0, progress=False, **options)


def test_agreement_among_personas_item_by_item_and_overall(
    workspace: al.Workspace, ner: al.Project
) -> None:
    result = run_panel(workspace, ner)
    items = result.items.sort("external_id")
    # Item a: 3 and 2 spans, one overlap match with the same label: 2 x 1 / 5.
    assert items["agreement"].to_list() == [0.4, 1.0, 1.0]
    assert items["exact"].to_list() == [False, True, True]
    overall = result.agreement.filter(pl.col("label").is_null()).sort("match")
    # Pooled over items: 3 matches of 9 spans (exact and overlap alike).
    assert overall.filter(pl.col("match") == "overlap")["value"][0] == pytest.approx(6 / 9)
    assert overall.filter(pl.col("match") == "exact")["value"][0] == pytest.approx(6 / 9)
    assert "3 items, mean agreement 0.800; 1 under 0.8 routed" in repr(result)


def test_disagreement_raises_priority_lowers_confidence_and_is_logged(
    workspace: al.Workspace, ner: al.Project
) -> None:
    result = run_panel(workspace, ner, threshold=0.8, priority=10)
    routed = result.items.filter(pl.col("routed"))
    assert routed["external_id"].to_list() == ["a"]
    assert routed["reason"][0] == "personas disagree: agreement 0.400 under 0.8"
    tasks = ner.tasks().sort("external_id")
    # 10, plus one point per tenth of agreement lacking (0.6).
    assert tasks["priority"].to_list() == [16, 0, 0]
    assert json.loads(tasks["data"][0])["confidence"] == 0.4
    assert "confidence" not in json.loads(tasks["data"][1])
    with workspace.engine.begin() as conn:
        event = conn.execute(
            sa.text(
                "SELECT entity_id, before, after FROM events WHERE action = 'task.routed' "
                "AND project_id = :p"
            ),
            {"p": ner.id},
        ).one()
    assert int(event.entity_id) == tasks["task_id"][0]
    assert event.before == {"priority": 0, "confidence": None}
    assert event.after["priority"] == 16
    assert event.after["agreement"] == 0.4
    assert event.after["reason"] == "personas disagree: agreement 0.400 under 0.8"
    assert len(event.after["personas"]) == 2


def test_a_routed_task_is_first_in_a_persons_queue(
    workspace: al.Workspace, ner: al.Project
) -> None:
    run_panel(workspace, ner)
    claim = ner.session("reader").next()
    assert claim is not None
    assert claim.external_id == "a"


def test_personas_against_people_and_gold(workspace: al.Workspace, ner: al.Project) -> None:
    spans = {
        "kind": "spans",
        "spans": [
            {"start": 0, "end": 3, "label": "person"},
            {"start": 8, "end": 11, "label": "person"},
            {"start": 15, "end": 19, "label": "location"},
        ],
    }
    ner.add_annotation("a", spans, user="hana")
    gold = {"kind": "spans", "spans": [{"start": 0, "end": 2, "label": "person"}]}
    ner.add_annotation("c", gold, user="hana", kind="gold")
    result = run_panel(workspace, ner)
    table = result.with_humans.with_columns(pl.col("persona").str.extract(r"^(\w+)-"))
    assert table.select("persona", "reference", "items", "exact", "score").sort(
        "reference", "persona"
    ).rows() == [
        # Gold on c marks only Cy; both personas also mark Dee: F1 2 x 1 / 3.
        ("hasty", "gold", 1, 0, pytest.approx(2 / 3)),
        ("sharp", "gold", 1, 0, pytest.approx(2 / 3)),
        ("hasty", "hana", 1, 0, pytest.approx(0.4)),
        ("sharp", "hana", 1, 1, 1.0),
    ]


def test_without_routing_the_queue_is_left_alone(workspace: al.Workspace, ner: al.Project) -> None:
    result = run_panel(workspace, ner, route=False)
    assert result.routed == 0
    assert result.items["routed"].to_list() == [False, False, False]
    assert result.items["priority"].to_list() == [None, None, None]
    assert ner.tasks()["priority"].to_list() == [0, 0, 0]


def test_an_item_only_one_persona_answered_is_routed_as_unsure(
    workspace: al.Workspace, ner: al.Project
) -> None:
    def one_breaks(request: Request) -> str:
        if persona_of(request).startswith("hasty") and item_of(request) == "b":
            return "not json"
        return panel_answers(request)

    panel = workspace.personas.panel(two_personas(workspace))
    with serve_ollama([MODEL], responder=one_breaks) as server:
        result = panel.run(ner, host=server.url, backoff=0.0, progress=False, retries=0)
    row = result.items.filter(pl.col("external_id") == "b").row(0, named=True)
    assert (row["personas"], row["agreement"], row["routed"]) == (1, None, True)
    assert row["reason"] == "only 1 of 2 personas answered"
    assert row["priority"] == 20  # nothing agreed: ten tenths lacking


def test_a_panel_needs_two_different_personas(workspace: al.Workspace) -> None:
    (one, _) = two_personas(workspace)
    with pytest.raises(ValidationError, match=r"personas=\[.*\] must hold at least two"):
        workspace.personas.panel([one])
    with pytest.raises(ValidationError, match="twice; a panel holds one version of each"):
        workspace.personas.panel([one, one.edit(description="again")])


def test_routing_never_lowers_a_priority_already_higher(
    workspace: al.Workspace, ner: al.Project
) -> None:
    with workspace.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE tasks SET priority = 50 WHERE project_id = :p AND external_id = 'a'"),
            {"p": ner.id},
        )
    result = run_panel(workspace, ner)
    assert result.items.filter(pl.col("routed"))["priority"].to_list() == [50]
    assert ner.tasks().sort("external_id")["priority"].to_list() == [50, 0, 0]


def test_a_classification_panel_reports_kappa_and_routes_the_split_item(
    workspace: al.Workspace,
) -> None:
    reviews = {"r1": "great film", "r2": "fine I guess", "r3": "awful", "r4": "dull"}
    votes = {"sharp": ["pos", "pos", "neg", "neg"], "hasty": ["pos", "neg", "neg", "neg"]}
    proj = workspace.create_project(
        f"test-{uuid.uuid4().hex[:12]}", labels=["pos", "neg"], layout="classify"
    )
    proj.add_tasks(pl.DataFrame({"id": list(reviews), "text": list(reviews.values())}), id="id")

    def vote(request: Request) -> str:
        found = re.search(r"^Text: (.*)$", request.prompt, re.MULTILINE)
        assert found is not None
        index = list(reviews.values()).index(json.loads(found.group(1)))
        return json.dumps({"label": votes[persona_of(request).split("-")[0]][index]})

    panel = workspace.personas.panel(two_personas(workspace))
    with serve_ollama([MODEL], responder=vote) as server:
        result = panel.run(proj, host=server.url, backoff=0.0, progress=False)
    figures = dict(
        result.agreement.filter(pl.col("label").is_null()).select("metric", "value").rows()
    )
    # Agreement on 3 of 4; by chance 0.5 x 0.25 + 0.5 x 0.75 = 0.5, so kappa = 0.25 / 0.5.
    assert figures["percent_agreement"] == 0.75
    assert figures["cohen_kappa"] == pytest.approx(0.5)
    assert result.items.filter(pl.col("routed"))["external_id"].to_list() == ["r2"]
    assert result.items["agreement"].to_list() == [1.0, 0.0, 1.0, 1.0]


def test_an_item_a_persona_is_unsure_of_goes_to_people_though_they_agree(
    workspace: al.Workspace,
) -> None:
    reviews = {"r1": "great film", "r2": "fine I guess"}
    proj = workspace.create_project(
        f"test-{uuid.uuid4().hex[:12]}", labels=["pos", "neg"], layout="classify"
    )
    proj.add_tasks(pl.DataFrame({"id": list(reviews), "text": list(reviews.values())}), id="id")

    def vote(request: Request) -> str:
        # Both say pos; hasty is barely sure about the lukewarm one.
        unsure = "fine" in request.prompt and persona_of(request).startswith("hasty")
        return json.dumps({"label": "pos", "confidence": 0.3 if unsure else 0.9})

    panel = workspace.personas.panel(two_personas(workspace))
    with serve_ollama([MODEL], responder=vote) as server:
        result = panel.run(proj, host=server.url, backoff=0.0, progress=False)
    routed = result.items.filter(pl.col("routed"))
    assert routed.select("external_id", "reason").rows() == [
        ("r2", "a persona is unsure: confidence 0.30 under 0.5")
    ]
    assert result.items["agreement"].to_list() == [1.0, 1.0]
    scores = sorted(json.loads(p)["score"] for p in proj.annotations()["payload"])
    assert scores == [0.3, 0.9, 0.9, 0.9]
    with pytest.raises(ValidationError, match="unsure_below=2"):
        panel.run(proj, unsure_below=2, host=server.url, progress=False)
