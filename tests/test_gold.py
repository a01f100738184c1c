"""The golden dataset: promotion from consensus and review, the conflict queue, frozen versions,
export, and scoring people and personas against a named version."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.errors import AssignmentError, ValidationError
from annolab.gold import Conflict, GoldEntry
from tests.ollama_server import Request, serve_ollama

pytestmark = pytest.mark.db

POS = {"kind": "choice", "label": "pos"}
NEG = {"kind": "choice", "label": "neg"}


def _name() -> str:
    return f"gold-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def proj(workspace: al.Workspace) -> al.Project:
    """A classification project of four tasks, each answered by up to three people."""
    project = workspace.create_project(_name(), labels=["pos", "neg"], layout="classify")
    project.add_tasks(
        pl.DataFrame({"id": ["t1", "t2", "t3", "t4"], "text": ["great", "awful", "meh", "ok"]}),
        id="id",
    )
    return project


def _answer(proj: al.Project, task: str, *labels: str) -> list[uuid.UUID]:
    return [
        proj.add_annotation(task, {"kind": "choice", "label": label}, user=f"ann{i}")
        for i, label in enumerate(labels)
    ]


def _events(ws: al.Workspace, proj: al.Project) -> list[tuple[str, Any]]:
    with ws.engine.begin() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT action, after FROM events WHERE project_id = :p "
                "AND action LIKE 'gold.%' ORDER BY id"
            ),
            {"p": proj.id},
        ).all()
    return [(r.action, r.after) for r in rows]


def test_promote_takes_the_consensus_the_workflow_stored(workspace: al.Workspace) -> None:
    proj = workspace.create_project(
        _name(), labels=["pos", "neg"], layout="classify", workflow=al.workflows.vote(annotators=2)
    )
    proj.add_tasks(pl.DataFrame({"id": ["t1"], "text": ["great"]}), id="id")
    for who in ("ann", "bob"):
        session = proj.session(user=who)
        assert session.next() is not None
        session.submit(POS)
    stored = proj.annotations().filter(pl.col("kind") == "consensus")
    assert stored.height == 1

    entry = proj.gold.promote("t1", category="true_positive")

    assert isinstance(entry, GoldEntry)
    assert (entry.set, entry.version, entry.task, entry.payload) == ("default", 1, "t1", POS)
    assert (entry.source, str(entry.source_annotation_id)) == (
        "consensus",
        stored["annotation_id"][0],
    )
    assert (entry.category, entry.reviewer, entry.agreement) == ("true_positive", "tester", 1.0)
    frame = proj.gold.entries()
    assert frame.select("external_id", "text", "payload", "category", "version").rows() == [
        ("t1", "great", json.dumps(POS), "true_positive", 1)
    ]
    assert [action for action, _ in _events(workspace, proj)] == [
        "gold.version_opened",
        "gold.promoted",
    ]


def test_promote_merges_a_majority_when_no_consensus_was_stored(proj: al.Project) -> None:
    _answer(proj, "t1", "pos", "pos", "neg")
    entry = proj.gold.promote("t1", category="edge_case", reviewer="dr-lee")
    assert isinstance(entry, GoldEntry)
    assert entry.payload == POS
    assert entry.source_annotation_id is None  # merged now: no stored annotation stands for it
    assert entry.agreement == pytest.approx(2 / 3)  # two of the three annotators gave it
    assert entry.reviewer == "dr-lee"


def test_promote_takes_the_answer_a_review_approved(workspace: al.Workspace) -> None:
    proj = workspace.create_project(
        _name(), labels=["pos", "neg"], layout="classify", workflow=al.workflows.review()
    )
    proj.add_tasks(pl.DataFrame({"id": ["r1"], "text": ["fine"]}), id="id")
    workspace.set_roles("rita", ["annotator", "reviewer"])
    writer = proj.session(user="wes")
    assert writer.next() is not None
    written = writer.submit(NEG)
    reviewer = proj.session(user="rita")
    assert reviewer.next() is not None
    reviewer.review("approve")

    entry = proj.gold.promote("r1", from_="reviewed", category="true_negative")

    assert isinstance(entry, GoldEntry)
    assert (entry.payload, entry.source, entry.source_annotation_id) == (NEG, "reviewed", written)
    assert entry.agreement == 1.0


def test_promote_takes_a_named_annotation(proj: al.Project) -> None:
    _pos, neg = _answer(proj, "t2", "pos", "neg")
    entry = proj.gold.promote("t2", from_=str(neg), category="adversarial")
    assert isinstance(entry, GoldEntry)
    assert (entry.payload, entry.source, entry.source_annotation_id) == (NEG, "annotation", neg)
    assert entry.agreement == 0.5


def test_the_same_answer_again_changes_nothing(workspace: al.Workspace, proj: al.Project) -> None:
    _answer(proj, "t1", "pos", "pos")
    first = proj.gold.promote("t1", category="true_positive")
    again = proj.gold.promote("t1", category="true_positive")
    assert again == first
    assert proj.gold.entries().height == 1
    assert proj.gold.conflicts().height == 0
    assert [a for a, _ in _events(workspace, proj)].count("gold.promoted") == 1


def test_a_different_answer_is_queued_and_not_integrated(
    workspace: al.Workspace, proj: al.Project
) -> None:
    _pos, _pos2, neg = _answer(proj, "t1", "pos", "pos", "neg")
    proj.gold.promote("t1", category="true_positive")

    conflict = proj.gold.promote("t1", from_=neg, category="edge_case")

    assert isinstance(conflict, Conflict)
    assert (conflict.existing, conflict.proposed, conflict.status) == (POS, NEG, "open")
    assert proj.gold.entries()["payload"].to_list() == [json.dumps(POS)]  # not integrated
    # A retried promote is the same conflict, not a second one.
    retried = proj.gold.promote("t1", from_=neg, category="edge_case")
    assert isinstance(retried, Conflict)
    assert retried.id == conflict.id
    queue = proj.gold.conflicts()
    assert queue.select(
        "conflict_id", "external_id", "existing", "proposed", "source", "proposed_by", "status"
    ).rows() == [
        (conflict.id, "t1", json.dumps(POS), json.dumps(NEG), "annotation", "tester", "open")
    ]
    assert queue["agreement"][0] == pytest.approx(1 / 3)
    assert _events(workspace, proj)[-1][0] == "gold.conflict_queued"


def test_accepting_a_conflict_replaces_the_entry(workspace: al.Workspace, proj: al.Project) -> None:
    *_, neg = _answer(proj, "t1", "pos", "pos", "neg")
    proj.gold.promote("t1", category="true_positive")
    conflict = proj.gold.promote("t1", from_=neg, category="edge_case", reviewer="dr-lee")
    assert isinstance(conflict, Conflict)

    entry = proj.gold.resolve(conflict.id, accept=True, reason="sarcasm: the guideline says neg")

    assert isinstance(entry, GoldEntry)
    assert (entry.payload, entry.category, entry.reviewer, entry.version) == (
        NEG,
        "edge_case",
        "dr-lee",
        1,
    )
    assert proj.gold.entries().select("payload", "source").rows() == [
        (json.dumps(NEG), "annotation")
    ]
    assert proj.gold.conflicts().height == 0
    decided = proj.gold.conflicts(status="accepted")
    assert decided.select("status", "resolved_by", "reason").rows() == [
        ("accepted", "tester", "sarcasm: the guideline says neg")
    ]
    action, after = _events(workspace, proj)[-1]
    assert action == "gold.conflict_accepted"
    assert after["proposed"] == NEG
    assert after["reason"] == "sarcasm: the guideline says neg"
    with pytest.raises(ValidationError, match=r"conflict_id=\d+ was already accepted"):
        proj.gold.resolve(conflict.id, accept=False, reason="changed my mind")


def test_rejecting_a_conflict_keeps_the_entry(proj: al.Project) -> None:
    *_, neg = _answer(proj, "t1", "pos", "pos", "neg")
    proj.gold.promote("t1", category="true_positive")
    conflict = proj.gold.promote("t1", from_=neg, category="edge_case")
    assert isinstance(conflict, Conflict)
    with pytest.raises(ValidationError, match=r"reason='  ' must not be empty"):
        proj.gold.resolve(conflict.id, accept=False, reason="  ")
    assert proj.gold.resolve(conflict.id, accept=False, reason="one careless answer") is None
    assert proj.gold.entries()["payload"].to_list() == [json.dumps(POS)]
    assert proj.gold.conflicts(status=None)["status"].to_list() == ["rejected"]


def test_a_frozen_version_refuses_every_change_even_in_sql(
    workspace: al.Workspace, proj: al.Project
) -> None:
    _answer(proj, "t1", "pos", "pos")
    proj.gold.promote("t1", category="true_positive")
    assert proj.gold.freeze(note="first cut") == 1
    statements = {
        'UPDATE gold_entries SET payload = \'{"kind": "choice", "label": "neg"}\' '
        "WHERE gold_version_id = :v": "belongs to a frozen gold version",
        "UPDATE gold_versions SET note = 'rewritten' WHERE id = :v": "is frozen and can not",
        "UPDATE gold_versions SET frozen = false WHERE id = :v": "is frozen and can not",
        "DELETE FROM gold_entries WHERE gold_version_id = :v": "gold entries are never deleted",
        "INSERT INTO gold_entries (gold_version_id, task_id, payload, category, source) "
        "SELECT :v, id, '{}', 'edge_case', 'x' FROM tasks "
        "WHERE external_id = 't2' AND project_id = :p": "belongs to a frozen gold version",
    }
    with workspace.engine.begin() as conn:
        version_id = conn.execute(
            sa.text(
                "SELECT v.id FROM gold_versions v JOIN gold_sets s ON s.id = v.gold_set_id "
                "WHERE s.project_id = :p"
            ),
            {"p": proj.id},
        ).scalar_one()
    for statement, refusal in statements.items():
        with pytest.raises(sa.exc.DBAPIError, match=refusal), workspace.engine.begin() as conn:
            conn.execute(sa.text(statement), {"v": version_id, "p": proj.id})
    frozen = proj.gold.entries(version=1)
    assert frozen.select("external_id", "payload").rows() == [("t1", json.dumps(POS))]
    versions = proj.gold.versions()
    assert versions.select("version", "frozen", "entries", "note", "created_by").rows() == [
        (1, True, 1, "first cut", "tester")
    ]
    assert versions["frozen_at"][0] is not None


def test_the_next_promote_opens_a_copy_of_the_frozen_version(proj: al.Project) -> None:
    _answer(proj, "t1", "pos", "pos")
    _answer(proj, "t2", "neg", "neg")
    proj.gold.promote("t1", category="true_positive")
    proj.gold.freeze()
    # The same answer again opens nothing: version 1 still is the working version.
    assert isinstance(proj.gold.promote("t1", category="true_positive"), GoldEntry)
    assert proj.gold.versions()["version"].to_list() == [1]

    entry = proj.gold.promote("t2", category="true_negative")

    assert isinstance(entry, GoldEntry)
    assert entry.version == 2
    assert proj.gold.entries().select("external_id", "version").rows() == [
        ("t1", 2),
        ("t2", 2),
    ]
    assert proj.gold.entries(version=1)["external_id"].to_list() == ["t1"]
    assert proj.gold.versions().select("version", "frozen", "entries").rows() == [
        (1, True, 1),
        (2, False, 2),
    ]
    assert proj.gold.freeze(note="two") == 2


def test_freezing_waits_for_open_conflicts_and_needs_an_open_version(proj: al.Project) -> None:
    *_, neg = _answer(proj, "t1", "pos", "pos", "neg")
    proj.gold.promote("t1", category="true_positive")
    conflict = proj.gold.promote("t1", from_=neg, category="edge_case")
    assert isinstance(conflict, Conflict)
    with pytest.raises(ValidationError, match=r"set='default' has 1 open conflict\(s\)"):
        proj.gold.freeze()
    proj.gold.resolve(conflict.id, accept=False, reason="keep pos")
    assert proj.gold.freeze() == 1
    with pytest.raises(
        ValidationError, match=r"set='default' has no open version to freeze \(version 1 is"
    ):
        proj.gold.freeze()


def test_a_conflict_accepted_after_a_freeze_goes_into_the_next_version(
    proj: al.Project,
) -> None:
    *_, neg = _answer(proj, "t1", "pos", "pos", "neg")
    proj.gold.promote("t1", category="true_positive")
    proj.gold.freeze()
    conflict = proj.gold.promote("t1", from_=neg, category="edge_case")
    assert isinstance(conflict, Conflict)
    entry = proj.gold.resolve(conflict.id, accept=True, reason="relabelled")
    assert entry is not None
    assert entry.version == 2
    assert proj.gold.entries(version=1)["payload"].to_list() == [json.dumps(POS)]
    assert proj.gold.entries(version=2)["payload"].to_list() == [json.dumps(NEG)]


def test_export_writes_one_version(proj: al.Project, tmp_path: Path) -> None:
    _answer(proj, "t1", "pos", "pos", "neg")
    _answer(proj, "t2", "neg", "neg")
    proj.gold.promote("t1", category="true_positive", reviewer="dr-lee")
    proj.gold.promote("t2", category="true_negative")
    proj.gold.freeze()
    target = tmp_path / "gold.jsonl"
    assert proj.gold.export(target, version=1) == 2
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {
        "task": "t1",
        "text": "great",
        "payload": POS,
        "category": "true_positive",
        "source": "consensus",
        "source_annotation_id": None,
        "reviewer": "dr-lee",
        "agreement": pytest.approx(2 / 3),
        "set": "default",
        "version": 1,
    }
    assert (lines[1]["task"], lines[1]["payload"], lines[1]["reviewer"]) == ("t2", NEG, "tester")


def test_score_is_against_the_named_version(proj: al.Project) -> None:
    # ann0 says pos on both, ann1 says neg on both, ann2 pos on t1 only.
    _answer(proj, "t1", "pos", "neg", "pos")
    _answer(proj, "t2", "pos", "neg")
    first = proj.gold.promote("t1", category="true_positive")
    assert isinstance(first, GoldEntry)
    annotations = proj.annotations()
    ann1_t2 = annotations.filter((pl.col("user") == "ann1") & (pl.col("external_id") == "t2"))
    proj.gold.promote("t2", from_=ann1_t2["annotation_id"][0], category="true_negative")
    proj.gold.freeze()  # v1: t1 pos, t2 neg
    ann1_t1 = annotations.filter((pl.col("user") == "ann1") & (pl.col("external_id") == "t1"))
    conflict = proj.gold.promote("t1", from_=ann1_t1["annotation_id"][0], category="edge_case")
    assert isinstance(conflict, Conflict)
    proj.gold.resolve(conflict.id, accept=True, reason="re-read: negative")
    proj.gold.freeze()  # v2: t1 neg, t2 neg

    one = proj.gold.score(version=1)
    two = proj.gold.score(version=2)

    cols = ("annotator", "items", "exact", "accuracy", "set", "version")
    assert one.select(cols).rows() == [
        ("ann0", 2, 1, 0.5, "default", 1),
        ("ann1", 2, 1, 0.5, "default", 1),
        ("ann2", 1, 1, 1.0, "default", 1),
    ]
    assert two.select(cols).rows() == [
        ("ann0", 2, 0, 0.0, "default", 2),
        ("ann1", 2, 2, 1.0, "default", 2),
        ("ann2", 1, 0, 0.0, "default", 2),
    ]
    only_ann0 = proj.gold.score(annotations.filter(pl.col("user") == "ann0"), version=2)
    assert only_ann0.select("annotator", "exact").rows() == [("ann0", 0)]


TEXTS = {"a": "Ada met Bob in Rome", "b": "nothing here", "c": "Cy saw Dee"}
NAMES = {
    "a": [("Ada", "person"), ("Bob", "person"), ("Rome", "location")],
    "b": [],
    "c": [("Cy", "person"), ("Dee", "person")],
}


def _spans(key: str, *, skip: str = "") -> dict[str, Any]:
    text = TEXTS[key]
    spans = [
        {"start": text.index(w), "end": text.index(w) + len(w), "label": label}
        for w, label in NAMES[key]
        if w != skip
    ]
    return {"kind": "spans", "spans": spans}


def _every_name(request: Request) -> str:
    """A persona that marks every name it was taught."""
    line = next(x for x in request.prompt.splitlines() if x.startswith("Text: "))
    key = next(k for k, v in TEXTS.items() if v == json.loads(line[len("Text: ") :]))
    return json.dumps({"spans": [{"text": w, "label": lab} for w, lab in NAMES[key]]})


def test_persona_evaluation_on_a_named_gold_version(
    workspace: al.Workspace, project: al.Project
) -> None:
    project.add_tasks(pl.DataFrame({"id": list(TEXTS), "text": list(TEXTS.values())}), id="id")
    for key in TEXTS:
        made = project.add_annotation(key, _spans(key), user="expert")
        project.gold.promote(key, from_=made, category="true_positive")
    project.gold.freeze()  # v1: every name
    # v2 says Bob is no name (a wrong gold answer, to tell the versions apart).
    narrow = project.add_annotation("a", _spans("a", skip="Bob"), user="second")
    conflict = project.gold.promote("a", from_=narrow, category="edge_case")
    assert isinstance(conflict, Conflict)
    project.gold.resolve(conflict.id, accept=True, reason="test version")
    project.gold.freeze()
    persona = workspace.personas.create(f"names-{uuid.uuid4().hex[:8]}", model="llama3.2")
    with serve_ollama(["llama3.2"], responder=_every_name) as server:
        options = {"host": server.url, "backoff": 0.0, "progress": False}
        v1 = workspace.personas.evaluate([persona], project, gold=("default", 1), **options)
        v2 = workspace.personas.evaluate([persona], project, gold=("default", 2), **options)
    assert v1.select("items", "exact", "accuracy").row(0) == (3, 3, 1.0)
    assert v2.select("items", "exact", "accuracy").row(0) == (3, 2, pytest.approx(2 / 3))
    with pytest.raises(ValidationError, match=r"version=7 is not a version of gold set"):
        workspace.personas.evaluate([persona], project, gold=("default", 7))
    with pytest.raises(ValidationError, match=r"gold=\('default',\) must be a \(set, version\)"):
        workspace.personas.evaluate([persona], project, gold=("default",))


@pytest.mark.parametrize("state", ["new set", "open version", "frozen version"])
@pytest.mark.parametrize("payloads", ["same", "different"])
def test_concurrent_promotes_of_one_task_make_one_entry(
    db_url: str, proj: al.Project, payloads: str, state: str
) -> None:
    pos, _, neg = _answer(proj, "t1", "pos", "pos", "neg")
    if state != "new set":
        _answer(proj, "t2", "neg", "neg")
        proj.gold.promote("t2", category="true_negative")
    if state == "frozen version":
        proj.gold.freeze()  # both promotes would open version 2
    sources: list[uuid.UUID] = [pos, pos] if payloads == "same" else [pos, neg]
    barrier = threading.Barrier(len(sources))
    results: list[object] = []
    errors: list[BaseException] = []

    def promote(source: uuid.UUID) -> None:
        # Each its own workspace: its own engine and connections, as two notebooks would be.
        with al.connect(db_url, user="tester") as ws:
            mine = ws.project(proj.name)
            barrier.wait()
            try:
                results.append(mine.gold.promote("t1", from_=source, category="edge_case"))
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=promote, args=(s,)) for s in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert proj.gold.entries().filter(pl.col("external_id") == "t1").height == 1
    assert proj.gold.versions()["frozen"].to_list()[-1] is False
    kinds = sorted(type(r).__name__ for r in results)
    if payloads == "same":
        assert kinds == ["GoldEntry", "GoldEntry"]
        assert proj.gold.conflicts().height == 0
    else:
        assert kinds == ["Conflict", "GoldEntry"]
        assert proj.gold.conflicts().height == 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda g: g.entries("nope"), r"set='nope' is not a gold set of project"),
        (lambda g: g.entries(version=9), r"version=9 is not a version of gold set 'default' \("),
        (lambda g: g.entries(version=0), r"version=0 must be a whole number from 1"),
        (
            lambda g: g.promote("zz", category="edge_case"),
            r"task='zz' is not a task of project",
        ),
        (
            lambda g: g.promote("t1", category="obvious"),
            r"category='obvious' is not one of 'true_positive', 'true_negative', 'edge_case'",
        ),
        (
            lambda g: g.promote("t1", from_="majority", category="edge_case"),
            r"from_='majority' must be 'consensus', 'reviewed' or the id of an annotation",
        ),
        (
            lambda g: g.promote("t3", category="edge_case"),
            r"from_='consensus' finds no consensus for task 't3': 0 answer\(s\)",
        ),
        (
            lambda g: g.promote("t1", from_="reviewed", category="edge_case"),
            r"from_='reviewed' finds no answer a review approved on task 't1'",
        ),
        (
            lambda g: g.promote("t2", from_=str(uuid.UUID(int=5)), category="edge_case"),
            r"from_='00000000-0000-0000-0000-000000000005' is not a submitted or approved",
        ),
        (lambda g: g.resolve(10**9, accept=True, reason="x"), r"conflict_id=1000000000 is not"),
        (
            lambda g: g.resolve(1, accept="yes", reason="x"),
            r"accept='yes' must be True or False",
        ),
        (lambda g: g.conflicts(status="closed"), r"status='closed' is not one of 'open'"),
        (lambda g: g.export(3), r"path=3 must be a file path"),
    ],
)
def test_bad_input_names_the_field_the_value_and_the_rule(
    proj: al.Project, call: Any, message: str
) -> None:
    _answer(proj, "t1", "pos", "pos")
    proj.gold.promote("t1", category="true_positive")
    with pytest.raises(ValidationError, match=message):
        call(proj.gold)


def test_an_annotator_neither_reads_nor_writes_gold(db_url: str, proj: al.Project) -> None:
    _answer(proj, "t1", "pos", "pos")
    proj.gold.promote("t1", category="true_positive")
    with al.connect(db_url, user=f"plain-{uuid.uuid4().hex[:6]}") as ws:
        theirs = ws.project(proj.name)
        gold = theirs.gold
        for attempt, args in (
            (gold.entries, {}),
            (gold.score, {}),
            (gold.promote, {"task": "t1", "category": "edge_case"}),
            (gold.freeze, {}),
        ):
            with pytest.raises(AssignmentError, match=r"Requires role: reviewer, adjudicator"):
                attempt(**args)
    with al.connect(db_url, user="tester") as owner:
        reviewer = f"rev-{uuid.uuid4().hex[:6]}"
        owner.set_roles(reviewer, ["annotator", "reviewer"])
    with al.connect(db_url, user=reviewer) as ws:
        assert ws.project(proj.name).gold.entries()["external_id"].to_list() == ["t1"]
