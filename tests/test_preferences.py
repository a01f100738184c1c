"""Preference data: pairwise and ranking answers become chosen/rejected pairs for DPO.

The prompts ask a model about tweets from WNUT 2017 (Emerging and Rare Entities; Derczynski,
Nichols, van Erp, Limsopatham, 2017; CC-BY 4.0): /work/shared/data/wnut17/wnut17train.conll.
"""

from __future__ import annotations

import itertools
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import annolab as al
from annolab.errors import LayoutError, ValidationError
from annolab.workflow.consensus import consensus

pytestmark = pytest.mark.db

ASK = "Name the entities in this tweet and their types: "
TWEETS = {
    "t1": "@paulwalk It's the view from where I'm living for two weeks. Empire State Building = "
    "ESB. Pretty bad storm here last evening.",
    "t2": "From Green Newsfeed: AHFA extends deadline for Sage Award to Nov. 5 "
    "http://tinyurl.com/24agj38",
    "t3": "watching the VMA pre-show again lol it wasn't even a good show the first time... "
    "so bored!",
    "t4": "@Suzie55 whispering cause I may have had 1 too many vodka's last night and am a lil "
    "fragile, hold me?",
}
A = {
    "t1": "Empire State Building (location); ESB (location).",
    "t2": "AHFA (group).",
    "t3": "VMA (person).",
    "t4": "vodka (product).",
}
B = {
    "t1": "paulwalk (person); Empire State (location).",
    "t2": "AHFA (group); Sage Award (creative-work).",
    "t3": "None.",
    "t4": "Suzie55 (person).",
}
GOLD = {"t1": "", "t2": "", "t3": "VMA (creative-work).", "t4": ""}

# Non-ASCII on purpose: exports keep it as UTF-8 text.
WHY = "ESB is the building\u2019s nickname \N{CITYSCAPE}"
# Three annotators; t4 splits three ways, so it has no majority.
VERDICTS = {
    "t1": {"ann": ("a", WHY), "bea": ("a", ""), "cal": ("b", "")},
    "t2": {"ann": ("tie", "both right"), "bea": ("tie", ""), "cal": ("a", "")},
    "t3": {"ann": ("both_bad", "VMA is an award show"), "bea": ("both_bad", ""), "cal": ("b", "")},
    "t4": {"ann": ("a", ""), "bea": ("b", "a handle is a person"), "cal": ("tie", "")},
}


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _answer_all(proj: al.Project, users: list[str], answer: Any) -> None:
    """Each user takes their queue in order and answers every task through a session."""
    for user in users:
        session = proj.session(f"{proj.name}-{user}")
        while (item := session.next()) is not None:
            session.submit(answer(item.external_id, user))


def _pairwise_layout(*more: dict[str, Any]) -> al.Layout:
    return al.Layout.from_dict(
        {
            "name": _name("compare"),
            "inputs": [
                {"name": "prompt", "type": "text"},
                {"name": "a", "type": "text"},
                {"name": "b", "type": "text"},
                {"name": "gold", "type": "text", "required": False},
            ],
            "questions": [
                {"kind": "pairwise", "name": "better", "prompt": "prompt", "a": "a", "b": "b"},
                *more,
            ],
        }
    )


def _pairwise_tasks(ids: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": ids,
            "text": [ASK + TWEETS[t] for t in ids],
            "prompt": [ASK + TWEETS[t] for t in ids],
            "a": [A[t] for t in ids],
            "b": [B[t] for t in ids],
            "gold": [GOLD[t] for t in ids],
        }
    )


@pytest.fixture
def compared(workspace: al.Workspace) -> al.Project:
    layout = _pairwise_layout()
    # Three blind answers per task; whatever they say, the task then leaves the queue.
    spec = al.workflows.vote(annotators=3, threshold=0.0, on_disagreement="escalate")
    proj = workspace.create_project(_name("prefs"), labels=[], layout=layout, workflow=spec)
    proj.add_tasks(_pairwise_tasks(list(TWEETS)), id="id")

    def answer(task: str, user: str) -> dict[str, Any]:
        choice, why = VERDICTS[task][user]
        return {"kind": "pairwise", "choice": choice, "rationale": why}

    _answer_all(proj, ["ann", "bea", "cal"], answer)
    return proj


def _rows(frame: pl.DataFrame) -> list[tuple[Any, ...]]:
    return frame.rows()


def _p(task: str) -> str:
    return ASK + TWEETS[task]


def test_consensus_gives_one_pair_per_task_with_a_majority(compared: al.Project) -> None:
    frame = compared.preferences()
    assert frame.columns == [
        "prompt",
        "chosen",
        "rejected",
        "task_id",
        "annotator",
        "source",
        "rationale",
    ]
    # t1: a by two of three. t2 (tie) and t3 (both bad) are dropped by default; t4 has no
    # majority. The rationale is that of the annotators who gave the verdict.
    assert _rows(frame) == [(_p("t1"), A["t1"], B["t1"], "t1", None, "pairwise", WHY)]


def test_all_answers_give_one_pair_per_decisive_verdict(compared: al.Project) -> None:
    name = compared.name
    rows = _rows(compared.preferences(which="all"))
    assert rows == [
        (
            _p("t1"),
            A["t1"],
            B["t1"],
            "t1",
            f"{name}-ann",
            "pairwise",
            WHY,
        ),
        (_p("t1"), A["t1"], B["t1"], "t1", f"{name}-bea", "pairwise", None),
        (_p("t1"), B["t1"], A["t1"], "t1", f"{name}-cal", "pairwise", None),
        (_p("t2"), A["t2"], B["t2"], "t2", f"{name}-cal", "pairwise", None),
        (_p("t3"), B["t3"], A["t3"], "t3", f"{name}-cal", "pairwise", None),
        (_p("t4"), A["t4"], B["t4"], "t4", f"{name}-ann", "pairwise", None),
        (_p("t4"), B["t4"], A["t4"], "t4", f"{name}-bea", "pairwise", "a handle is a person"),
    ]


def test_ties_both_keeps_a_tie_as_two_mirrored_pairs(compared: al.Project) -> None:
    rows = _rows(compared.preferences(ties="both").select("chosen", "rejected", "task_id"))
    assert rows == [
        (A["t1"], B["t1"], "t1"),
        (A["t2"], B["t2"], "t2"),
        (B["t2"], A["t2"], "t2"),
    ]


def test_reject_both_prefers_the_reference_over_each_bad_output(compared: al.Project) -> None:
    frame = compared.preferences(both_bad="reject_both", reference="gold")
    rows = _rows(frame.select("chosen", "rejected", "task_id", "rationale"))
    assert rows == [
        (A["t1"], B["t1"], "t1", WHY),
        (GOLD["t3"], A["t3"], "t3", "VMA is an award show"),
        (GOLD["t3"], B["t3"], "t3", "VMA is an award show"),
    ]


def test_reject_both_without_a_reference_is_refused_naming_the_option(
    compared: al.Project,
) -> None:
    with pytest.raises(ValidationError, match=r"^both_bad='reject_both' needs reference=<input>"):
        compared.preferences(both_bad="reject_both")


def test_an_unknown_option_or_value_is_refused(compared: al.Project) -> None:
    with pytest.raises(ValidationError, match=r"^ties='half' is not one of 'drop', 'both'$"):
        compared.preferences(ties="half")
    with pytest.raises(ValidationError, match=r"^tie=.both. is not an option; use which, "):
        compared.export_preferences("x.jsonl", tie="both")
    with pytest.raises(ValidationError, match=r"^kind\[0\]='humans' is not one of 'human', "):
        compared.preferences(kind="humans")


def test_persona_answers_are_read_only_when_asked(compared: al.Project) -> None:
    compared.add_annotation(
        "t4", {"kind": "pairwise", "choice": "b", "rationale": ""}, user="critic", kind="persona"
    )
    assert compared.preferences().get_column("task_id").to_list() == ["t1"]
    # With the persona's vote, t4 has two b's of four: still no majority (more than half).
    both = compared.preferences(kind=["human", "persona"], which="all")
    assert both.filter(pl.col("annotator") == "critic").rows() == [
        (_p("t4"), B["t4"], A["t4"], "t4", "critic", "pairwise", None)
    ]


def test_jsonl_export_is_one_json_object_a_line(compared: al.Project, tmp_path: Path) -> None:
    path = tmp_path / "out" / "dpo.jsonl"
    report = compared.export_preferences(path, ties="both")
    assert (report.rows, report.answers, report.tasks) == (3, 12, 2)
    assert (report.no_consensus, report.ties_dropped, report.both_bad_dropped) == (("t4",), 0, 1)
    assert report.path == path
    lines = [
        {"prompt": _p("t1"), "chosen": A["t1"], "rejected": B["t1"], "task_id": "t1",
         "annotator": None, "source": "pairwise", "rationale": WHY},
        {"prompt": _p("t2"), "chosen": A["t2"], "rejected": B["t2"], "task_id": "t2",
         "annotator": None, "source": "pairwise", "rationale": "both right"},
        {"prompt": _p("t2"), "chosen": B["t2"], "rejected": A["t2"], "task_id": "t2",
         "annotator": None, "source": "pairwise", "rationale": "both right"},
    ]  # fmt: skip
    expected = "".join(
        json.dumps(x, ensure_ascii=False, separators=(",", ":")) + "\n" for x in lines
    )
    assert path.read_text(encoding="utf-8") == expected
    assert [p.name for p in path.parent.iterdir()] == ["dpo.jsonl"]  # no temporary file left


def test_parquet_export_reads_back_as_the_same_frame(compared: al.Project, tmp_path: Path) -> None:
    path = tmp_path / "dpo.parquet"
    report = compared.export_preferences(path, which="all")
    assert report.rows == 7
    assert pl.read_parquet(path).equals(compared.preferences(which="all"))


def test_the_dataset_has_trl_standard_columns(compared: al.Project) -> None:
    datasets = pytest.importorskip("datasets")
    ds = compared.preferences_dataset(which="all")
    string = datasets.Value("string")
    assert ds.features == datasets.Features(
        {
            "prompt": string,
            "chosen": string,
            "rejected": string,
            "task_id": string,
            "annotator": string,
            "source": string,
            "rationale": string,
        }
    )
    assert ds.num_rows == 7
    assert ds[2] == {
        "prompt": _p("t1"),
        "chosen": B["t1"],
        "rejected": A["t1"],
        "task_id": "t1",
        "annotator": f"{compared.name}-cal",
        "source": "pairwise",
        "rationale": None,
    }


def test_conversational_rows_are_chat_messages(compared: al.Project) -> None:
    datasets = pytest.importorskip("datasets")
    frame = compared.preferences(conversational=True)
    assert frame.select("prompt", "chosen", "rejected").row(0) == (
        [{"role": "user", "content": _p("t1")}],
        [{"role": "assistant", "content": A["t1"]}],
        [{"role": "assistant", "content": B["t1"]}],
    )
    ds = compared.preferences_dataset(conversational=True)
    message = datasets.Features(
        {"m": [{"role": datasets.Value("string"), "content": datasets.Value("string")}]}
    )["m"]
    assert [ds.features[c] for c in ("prompt", "chosen", "rejected")] == [message] * 3
    assert ds[0]["chosen"] == [{"role": "assistant", "content": A["t1"]}]


def test_trl_reads_the_rows_in_the_formats_it_documents(compared: al.Project) -> None:
    # trl is no requirement of annolab: where it is not installed this test says so (skipped).
    trl = pytest.importorskip("trl")
    conversational = compared.preferences_dataset(conversational=True)[0]
    standard = compared.preferences_dataset()[0]
    assert trl.is_conversational(conversational)
    assert not trl.is_conversational(standard)
    # A standard row needs no chat template: TRL passes it through as it is.
    assert trl.maybe_apply_chat_template(standard, tokenizer=None) == standard


def test_the_hf_format_saves_a_dataset_folder(compared: al.Project, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    path = tmp_path / "dpo"
    compared.export_preferences(path, format="hf", which="all")
    compared.export_preferences(path, format="hf")  # again: replaces the first
    saved = datasets.load_from_disk(str(path))
    assert saved.column_names[:3] == ["prompt", "chosen", "rejected"]
    assert saved["task_id"] == ["t1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dpo"]


def test_a_missing_datasets_package_names_the_extra(
    compared: al.Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # as if it were not installed
    with pytest.raises(al.AnnolabError, match=r'pip install "annolab\[hf\]"'):
        compared.preferences_dataset()


def test_a_format_that_is_not_one_is_refused(compared: al.Project, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"^format='csv' is not a preference format"):
        compared.export_preferences(tmp_path / "x.csv", format="csv")
    with pytest.raises(ValidationError, match=r"^path='.*x.csv' has no preference suffix"):
        compared.export_preferences(tmp_path / "x.csv")
    assert list(tmp_path.iterdir()) == []


def test_a_layout_without_a_preference_question_is_refused(workspace: al.Workspace) -> None:
    proj = workspace.create_project(_name("plain"), labels=["pos", "neg"], layout="classify")
    with pytest.raises(LayoutError, match=r"has no pairwise or ranking question"):
        proj.preferences()


def test_an_adjudicated_verdict_is_the_consensus(workspace: al.Workspace) -> None:
    spec = al.workflows.vote(annotators=2, on_disagreement="adjudicate")
    proj = workspace.create_project(
        _name("adj"), labels=[], layout=_pairwise_layout(), workflow=spec
    )
    proj.add_tasks(_pairwise_tasks(["t1", "t4"]), id="id")
    workspace.set_roles(f"{proj.name}-judge", ["adjudicator"])
    picks = {("t1", "ann"): "a", ("t1", "bea"): "a", ("t4", "ann"): "a", ("t4", "bea"): "b"}
    _answer_all(proj, ["ann", "bea"], lambda t, u: {"kind": "pairwise", "choice": picks[t, u]})
    judge = proj.session(f"{proj.name}-judge")
    item = judge.next()
    assert item is not None and item.external_id == "t4" and item.step == "adjudicate"
    judge.adjudicate(
        {"kind": "pairwise", "choice": "b", "rationale": "the handle is a person"},
        chosen=item.shown_ids[1],
    )
    # t1 agreed; t4's two answers split, and the adjudicator decided it.
    assert _rows(proj.preferences().select("chosen", "rejected", "task_id", "rationale")) == [
        (A["t1"], B["t1"], "t1", None),
        (B["t4"], A["t4"], "t4", "the handle is a person"),
    ]


def test_a_reviewers_revision_replaces_the_work_it_corrects(workspace: al.Workspace) -> None:
    spec = al.workflows.review(fraction=1.0)
    proj = workspace.create_project(
        _name("rev"), labels=[], layout=_pairwise_layout(), workflow=spec
    )
    proj.add_tasks(_pairwise_tasks(["t3"]), id="id")
    workspace.set_roles(f"{proj.name}-rev", ["reviewer"])
    _answer_all(proj, ["ann"], lambda t, u: {"kind": "pairwise", "choice": "a"})
    reviewer = proj.session(f"{proj.name}-rev")
    assert reviewer.next() is not None
    reviewer.revise({"kind": "pairwise", "choice": "b", "rationale": "VMA is no person"})
    assert _rows(proj.preferences(which="all").select("chosen", "task_id", "annotator")) == [
        (B["t3"], "t3", f"{proj.name}-rev")
    ]


def test_a_form_is_read_by_its_pairwise_question(workspace: al.Workspace) -> None:
    notes = {"kind": "text", "name": "notes", "required": False}
    proj = workspace.create_project(_name("form"), labels=[], layout=_pairwise_layout(notes))
    proj.add_tasks(_pairwise_tasks(["t2"]), id="id")
    _answer_all(
        proj,
        ["ann"],
        lambda t, u: {
            "kind": "form",
            "answers": {
                "better": {"kind": "pairwise", "choice": "b", "rationale": "Sage Award too"},
                "notes": {"kind": "text", "text": "b is complete"},
            },
        },
    )
    assert _rows(proj.preferences(question="better")) == [
        (_p("t2"), B["t2"], A["t2"], "t2", None, "pairwise", "Sage Award too")
    ]
    with pytest.raises(LayoutError, match=r"^question='notes' is a text question"):
        proj.preferences(question="notes")


# --- ranking ------------------------------------------------------------------------------------

RANKED = [
    {"id": "m1", "text": "Pxleyes (corporation)."},
    {"id": "m2", "text": "Pxleyes (product); August 2010 (date)."},
    {"id": "m3", "text": "None."},
]
TWEET5 = (
    "Pxleyes Top 50 Photography Contest Pictures of August 2010 ... http://bit.ly/bgCyZ0 "
    "#photography"
)
TWEET6 = "Gotta dress up for london fashion week and party in style!"
PLAIN = ["london (location).", "london fashion week (creative-work).", "None."]


@pytest.fixture
def ranked(workspace: al.Workspace) -> al.Project:
    layout = al.Layout.from_dict(
        {
            "name": _name("rank"),
            "inputs": [{"name": "prompt", "type": "text"}, {"name": "outputs", "type": "list"}],
            "questions": [
                {"kind": "ranking", "name": "order", "prompt": "prompt", "field": "outputs"}
            ],
        }
    )
    spec = al.workflows.vote(annotators=2, threshold=0.0, on_disagreement="escalate")
    proj = workspace.create_project(_name("ranks"), labels=[], layout=layout, workflow=spec)
    # Outputs with ids, and plain strings (ranked by position): one frame each, as their
    # column types differ. The prompt comes as the task's text (add_tasks text="prompt").
    proj.add_tasks(
        pl.DataFrame({"id": ["r1"], "prompt": [ASK + TWEET5], "outputs": [RANKED]}),
        text="prompt",
        id="id",
    )
    proj.add_tasks(
        pl.DataFrame({"id": ["r2"], "prompt": [ASK + TWEET6], "outputs": [PLAIN]}),
        text="prompt",
        id="id",
    )
    orders = {
        ("r1", "ann"): ["m1", "m2", "m3"],
        ("r1", "bea"): ["m1", "m2", "m3"],
        ("r2", "ann"): ["1", "0", "2"],
        ("r2", "bea"): ["0", "1", "2"],
    }
    _answer_all(
        proj,
        ["ann", "bea"],
        lambda task, user: {"kind": "ranking", "order": orders[task, user]},
    )
    return proj


def test_adjacent_pairs_of_the_consensus_ranking(ranked: al.Project) -> None:
    frame = ranked.preferences()
    m1, m2, m3 = (o["text"] for o in RANKED)
    assert _rows(frame.filter(pl.col("task_id") == "r1")) == [
        (ASK + TWEET5, m1, m2, "r1", None, "ranking", None),
        (ASK + TWEET5, m2, m3, "r1", None, "ranking", None),
    ]
    # r2's two rankings differ: its pairs are those of the ranking kind's consensus, if any.
    merged = consensus(
        [
            {"kind": "ranking", "order": ["1", "0", "2"]},
            {"kind": "ranking", "order": ["0", "1", "2"]},
        ],
        "majority",
    )
    order = [] if merged is None else [PLAIN[int(i)] for i in merged["order"]]
    assert _rows(frame.filter(pl.col("task_id") == "r2").select("chosen", "rejected")) == list(
        itertools.pairwise(order)
    )


def test_all_pairs_and_best_vs_rest_of_every_ranking(ranked: al.Project) -> None:
    m1, m2, m3 = (o["text"] for o in RANKED)
    london, week, none = PLAIN
    ann, bea = f"{ranked.name}-ann", f"{ranked.name}-bea"
    every = ranked.preferences(which="all", ranking="all_pairs")
    assert _rows(every.select("chosen", "rejected", "task_id", "annotator")) == [
        (m1, m2, "r1", ann),
        (m1, m3, "r1", ann),
        (m2, m3, "r1", ann),
        (m1, m2, "r1", bea),
        (m1, m3, "r1", bea),
        (m2, m3, "r1", bea),
        (week, london, "r2", ann),
        (week, none, "r2", ann),
        (london, none, "r2", ann),
        (london, week, "r2", bea),
        (london, none, "r2", bea),
        (week, none, "r2", bea),
    ]
    best = ranked.preferences(which="all", ranking="best_vs_rest")
    assert _rows(best.filter(pl.col("task_id") == "r2").select("chosen", "rejected")) == [
        (week, london),
        (week, none),
        (london, week),
        (london, none),
    ]
