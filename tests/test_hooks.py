"""Plugin hooks: each fires at its place with its arguments, vetoes and errors leave the data as
it was, contributions (formats, kinds, evaluators) are used end to end, an entry-point plugin
loads from an installed distribution, and every hook is documented."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import subprocess
import sys
import uuid
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
import annolab.hooks as hooks
import annolab.kinds
from annolab.errors import PluginError
from annolab.hooks import manager, specs
from annolab.io.catalog import FORMATS
from annolab.io.records import Context, Format, Record, WriteReport
from annolab.quality.evaluators import SubmissionEvaluator
from annolab.schema import validate_payload
from annolab.schema.payloads import PAYLOAD_KINDS, SchemaModel
from annolab.session import Item
from annolab.widgets import NER
from annolab.workflow.consensus import agreement
from tests.conftest import REPO

SPECS = REPO / "annolab" / "hooks" / "specs.py"
DOC = REPO / "docs" / "hooks.md"


@pytest.fixture
def plugin() -> Iterator[Any]:
    """``plugin(obj)`` registers ``obj`` for this test only."""
    names: list[str] = []

    def add(obj: object) -> str:
        names.append(hooks.register(obj))
        return names[-1]

    yield add
    for name in names:
        if manager.plugin_manager().get_plugin(name) is not None:
            hooks.unregister(name)


def _project(workspace: al.Workspace, layout: str = "classify", n: int = 2) -> al.Project:
    proj = workspace.create_project(
        f"hooks-{uuid.uuid4().hex[:8]}", labels=["pos", "neg"], layout=layout
    )
    texts = [f"Ada met Bob {i}" for i in range(n)]
    proj.add_tasks(pl.DataFrame({"id": [f"t{i}" for i in range(n)], "text": texts}), id="id")
    return proj


class Recorder:
    """Records every call of the hooks that report what happened."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @hooks.hookimpl
    def annolab_before_claim(self, project: al.Project, user: str) -> None:
        self.calls.append(("before_claim", {"project": project.name, "user": user}))

    @hooks.hookimpl
    def annolab_after_claim(self, project: al.Project, user: str, item: Item) -> None:
        self.calls.append(("after_claim", {"user": user, "task": item.external_id}))

    @hooks.hookimpl
    def annolab_on_submit(
        self, project: al.Project, user: str, item: Item, annotation_id: str, payload: Any
    ) -> None:
        self.calls.append(
            (
                "on_submit",
                {
                    "user": user,
                    "task": item.external_id,
                    "id": annotation_id,
                    "payload": dict(payload),
                },
            )
        )

    @hooks.hookimpl
    def annolab_on_step_completed(
        self, project: al.Project, task_id: int, step: str, annotation_ids: list[str]
    ) -> None:
        self.calls.append(
            ("step_completed", {"task_id": task_id, "step": step, "ids": annotation_ids})
        )


def _task_id(proj: al.Project, external: str) -> int:
    with proj.workspace.engine.begin() as conn:
        return int(
            conn.execute(
                sa.text("SELECT id FROM tasks WHERE project_id = :p AND external_id = :e"),
                {"p": proj.id, "e": external},
            ).scalar_one()
        )


def test_claim_submit_and_step_hooks_fire_in_order_with_their_arguments(
    workspace: al.Workspace, plugin: Any
) -> None:
    proj = _project(workspace, n=1)
    rec = Recorder()
    plugin(rec)
    session = proj.session("hooked")
    item = session.next()
    assert item is not None
    ann = session.submit({"kind": "choice", "label": "pos"})
    step = proj.workflow.steps[0].name
    assert rec.calls == [
        ("before_claim", {"project": proj.name, "user": "hooked"}),
        ("after_claim", {"user": "hooked", "task": "t0"}),
        (
            "on_submit",
            {
                "user": "hooked",
                "task": "t0",
                "id": str(ann),
                "payload": {"kind": "choice", "label": "pos"},
            },
        ),
        ("step_completed", {"task_id": _task_id(proj, "t0"), "step": step, "ids": [str(ann)]}),
    ]
    rec.calls.clear()
    assert session.next() is None  # nothing left: no after_claim
    assert rec.calls == [("before_claim", {"project": proj.name, "user": "hooked"})]


def test_a_draft_fires_no_submit_hook(workspace: al.Workspace, plugin: Any) -> None:
    proj = _project(workspace, n=1)
    rec = Recorder()
    plugin(rec)
    session = proj.session("drafty")
    session.next()
    session.save_draft({"kind": "choice", "label": "neg"})
    assert [name for name, _ in rec.calls] == ["before_claim", "after_claim"]


def test_before_claim_veto_refuses_and_claims_nothing(workspace: al.Workspace, plugin: Any) -> None:
    proj = _project(workspace)

    class OnlyAda:
        @hooks.hookimpl
        def annolab_before_claim(self, user: str) -> str | None:
            return None if user == "ada" else f"user {user!r} is not on today's rota"

    name = plugin(OnlyAda())
    with pytest.raises(
        al.AssignmentError,
        match=rf"^user 'bob' is not on today's rota \(refused by plugin {re.escape(repr(name))}\)$",
    ):
        proj.session("bob").next()
    with proj.workspace.engine.begin() as conn:
        held = conn.execute(
            sa.text(
                "SELECT count(*) FROM assignments a JOIN tasks t ON t.id = a.task_id"
                " WHERE t.project_id = :p"
            ),
            {"p": proj.id},
        ).scalar_one()
    assert held == 0
    assert proj.session("ada").next() is not None


def test_a_before_claim_that_raises_names_the_plugin_and_claims_nothing(
    workspace: al.Workspace, plugin: Any
) -> None:
    proj = _project(workspace)

    class Broken:
        @hooks.hookimpl
        def annolab_before_claim(self) -> None:
            raise RuntimeError("rota service down")

    plugin(Broken())
    with pytest.raises(RuntimeError, match="rota service down") as caught:
        proj.session("carl").next()
    assert any("in annolab_before_claim" in note for note in caught.value.__notes__)
    with proj.workspace.engine.begin() as conn:
        n = conn.execute(
            sa.text(
                "SELECT count(*) FROM assignments a JOIN tasks t ON t.id = a.task_id"
                " WHERE t.project_id = :p"
            ),
            {"p": proj.id},
        ).scalar_one()
    assert n == 0


def test_validate_rejection_is_a_validation_error_and_stores_nothing(
    workspace: al.Workspace, plugin: Any
) -> None:
    proj = _project(workspace)

    class NoNegatives:
        @hooks.hookimpl
        def annolab_validate(self, payload: Mapping[str, Any], text: str | None) -> Any:
            assert text is not None and text.startswith("Ada met Bob")
            if payload.get("label") == "neg":
                return [("label", payload["label"], "is not allowed by the house rules")]
            return None

    plugin(NoNegatives())
    session = proj.session("val")
    item = session.next()
    with pytest.raises(al.ValidationError) as caught:
        session.submit({"kind": "choice", "label": "neg"})
    assert str(caught.value) == "label='neg' is not allowed by the house rules"
    assert (caught.value.field, caught.value.value) == ("label", "neg")
    assert proj.annotations().height == 0
    assert session.current == item  # the task is still open to answer again
    session.submit({"kind": "choice", "label": "pos"})
    assert proj.annotations()["payload"].to_list() == ['{"kind": "choice", "label": "pos"}']


def test_validate_applies_to_every_door_and_takes_a_raised_error_or_a_rule(
    workspace: al.Workspace, plugin: Any
) -> None:
    proj = _project(workspace)

    class Strict:
        @hooks.hookimpl
        def annolab_validate(self, payload: Mapping[str, Any], text: str | None) -> Any:
            if payload.get("label") == "neg":
                raise al.ValidationError("label", "neg", "is refused by Strict")
            return "is never right on task 1" if str(text).endswith("1") else None

    plugin(Strict())
    with pytest.raises(al.ValidationError) as raised:
        proj.add_annotation("t0", {"kind": "choice", "label": "neg"}, user="api")
    assert str(raised.value) == "label='neg' is refused by Strict"
    with pytest.raises(al.ValidationError) as ruled:
        proj.add_annotation("t1", {"kind": "choice", "label": "pos"}, user="api")
    assert str(ruled.value) == "payload={'kind': 'choice', 'label': 'pos'} is never right on task 1"
    assert proj.annotations().height == 0
    proj.add_annotation("t0", {"kind": "choice", "label": "pos"}, user="api")
    assert proj.annotations().height == 1


def test_a_validate_hook_returning_nonsense_is_a_plugin_error(
    workspace: al.Workspace, plugin: Any
) -> None:
    proj = _project(workspace)

    class Odd:
        @hooks.hookimpl
        def annolab_validate(self) -> Any:
            return 42

    name = plugin(Odd())
    with pytest.raises(PluginError, match=rf"^plugin {re.escape(repr(name))}: annolab_validate"):
        proj.add_annotation("t0", {"kind": "choice", "label": "pos"}, user="api")


def test_prefill_is_shown_as_suggestions(workspace: al.Workspace, plugin: Any) -> None:
    proj = _project(workspace, layout="ner", n=1)
    seen: list[str] = []

    class Spacyish:
        @hooks.hookimpl
        def annolab_prefill(self, project: al.Project, item: Item) -> dict[str, Any]:
            seen.append(item.external_id)
            return {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "pos"}]}

    class Second:
        @hooks.hookimpl(trylast=True)
        def annolab_prefill(self) -> dict[str, Any]:
            raise AssertionError("firstresult: never asked once a payload came back")

    plugin(Second())
    plugin(Spacyish())
    loop = proj.annotate("prefilled")
    assert isinstance(loop.widget, NER)
    assert [(s["start"], s["end"], s["label"]) for s in loop.widget.suggestions] == [(0, 3, "pos")]
    assert loop.widget.value == []  # offered, not accepted
    assert seen == ["t0"]


def test_a_prefill_that_breaks_a_rule_is_left_out_with_a_message(
    workspace: al.Workspace, plugin: Any
) -> None:
    proj = _project(workspace, layout="ner", n=1)

    class Wrong:
        @hooks.hookimpl
        def annolab_prefill(self) -> dict[str, Any]:
            return {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "ORG"}]}

    plugin(Wrong())
    loop = proj.annotate("prefilled2")
    assert isinstance(loop.widget, NER)
    assert loop.widget.suggestions == []
    assert loop.widget.error.startswith("The suggested answer was left out: spans[0].label='ORG'")


def test_an_after_hook_error_warns_and_the_committed_work_stands(
    workspace: al.Workspace, plugin: Any
) -> None:
    proj = _project(workspace, n=1)
    rec = Recorder()
    plugin(rec)

    class Flaky:
        @hooks.hookimpl(tryfirst=True)
        def annolab_on_submit(self) -> None:
            raise ConnectionError("metrics server unreachable")

    name = plugin(Flaky())
    session = proj.session("flaky")
    session.next()
    with pytest.warns(hooks.HookWarning) as caught:
        ann = session.submit({"kind": "choice", "label": "pos"})
    assert str(caught[0].message) == (
        f"plugin {name!r} failed in annolab_on_submit after the work was committed (it stands): "
        "ConnectionError: metrics server unreachable"
    )
    assert proj.annotations()["annotation_id"].to_list() == [str(ann)]
    assert [n for n, _ in rec.calls][-2:] == ["on_submit", "step_completed"]  # others still ran
    assert session.current is None


class _TsvWriter:
    def __call__(self, records: Iterable[Record], path: Path, context: Context) -> WriteReport:
        report = WriteReport()
        with path.open("w", encoding="utf-8") as out:
            for r in records:
                label = "" if r.payload is None else str(r.payload.get("label", ""))
                out.write(f"{r.task}\t{r.data.get('text')}\t{label}\n")
                report.written += 1
                report.tasks += 1
        return report


class TsvPlugin:
    @hooks.hookimpl
    def annolab_export_formats(self) -> list[Format]:
        return [
            Format(
                "labels-tsv",
                "task, text and label, tab-separated",
                ("choice",),
                suffixes=(".tsv",),
                write=_TsvWriter(),
            )
        ]


def test_an_export_format_from_a_plugin_is_used_by_name_and_by_suffix(
    workspace: al.Workspace, plugin: Any, tmp_path: Path
) -> None:
    proj = _project(workspace)
    assert "labels-tsv" not in FORMATS
    plugin(TsvPlugin())
    proj.add_annotation("t0", {"kind": "choice", "label": "pos"}, user="a")
    proj.add_annotation("t1", {"kind": "choice", "label": "neg"}, user="a")
    report = proj.export(tmp_path / "out.tsv", progress=False)
    assert (report.format, report.written) == ("labels-tsv", 2)
    assert (tmp_path / "out.tsv").read_text(encoding="utf-8") == (
        "t0\tAda met Bob 0\tpos\nt1\tAda met Bob 1\tneg\n"
    )
    proj.export(tmp_path / "named.txt", format="labels-tsv", progress=False)
    assert (tmp_path / "named.txt").read_text(encoding="utf-8").startswith("t0\t")
    with pytest.raises(al.ValidationError, match=r"^format='labels-tsv' can be exported but not"):
        proj.import_file(tmp_path / "out.tsv")


def test_a_format_gone_with_its_plugin_is_refused_by_name(
    workspace: al.Workspace, plugin: Any, tmp_path: Path
) -> None:
    proj = _project(workspace)
    name = plugin(TsvPlugin())
    assert "labels-tsv" in FORMATS
    hooks.unregister(name)
    with pytest.raises(
        al.ValidationError, match=r"^format='labels-tsv' must be one of csv, jsonl, .*, prodigy$"
    ):
        proj.export(tmp_path / "out.tsv", format="labels-tsv", progress=False)


def test_a_plugin_format_may_not_take_a_builtin_name(plugin: Any) -> None:
    class Clash:
        @hooks.hookimpl
        def annolab_export_formats(self) -> list[Format]:
            return [Format("conll", "mine", ("spans",), write=_TsvWriter())]

    name = plugin(Clash())
    with pytest.raises(PluginError, match=rf"^plugin {re.escape(repr(name))}: .*'conll', a name"):
        list(FORMATS)
    hooks.unregister(name)
    assert FORMATS["conll"].summary != "mine"


class StarsPayload(SchemaModel):
    """A plugin's payload kind: one to three stars."""

    kind: Literal["stars"] = "stars"
    stars: int


def _stars_units(payload: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [(payload.get("stars"),)]


class KindsPlugin:
    """Adds ``stars`` and gives ``choice`` a Label Studio form of its own."""

    @hooks.hookimpl
    def annolab_payload_kinds(self) -> list[annolab.kinds.Kind]:
        # Asked while the registry is rebuilt: ``get`` gives the built-in kinds here.
        choice = annolab.kinds.get("choice")
        stars = dataclasses.replace(
            annolab.kinds.get("rating"),
            name="stars",
            payload=StarsPayload,
            units=_stars_units,
            title="Stars",
        )

        def tagged(payload: Mapping[str, Any], target: Any) -> list[dict[str, Any]]:
            return [
                {
                    "from_name": target.name,
                    "to_name": target.field,
                    "type": "taxonomy",
                    "value": {"taxonomy": [[str(payload["label"])]]},
                }
            ]

        return [
            stars,
            dataclasses.replace(choice, exports={**choice.exports, "label-studio": tagged}),
        ]


def test_payload_kinds_from_a_plugin_are_registered_used_and_removed(
    workspace: al.Workspace, plugin: Any, tmp_path: Path
) -> None:
    before = annolab.kinds.get("choice")
    name = plugin(KindsPlugin())
    assert "stars" in annolab.kinds.names()
    # The payload validator takes the new kind, and agreement reads its units.
    assert validate_payload({"kind": "stars", "stars": 3}).to_dict() == {
        "kind": "stars",
        "stars": 3,
    }
    with pytest.raises(al.ValidationError, match=r"^stars="):
        validate_payload({"kind": "stars", "stars": "many"})
    three = {"kind": "stars", "stars": 3}
    assert agreement([three, three], "exact") == 1.0
    # A replaced built-in kind is used by a project's export.
    proj = _project(workspace)
    proj.add_annotation("t0", {"kind": "choice", "label": "pos"}, user="a")
    proj.export(tmp_path / "ls.json", format="label-studio", progress=False)
    exported = json.loads((tmp_path / "ls.json").read_text(encoding="utf-8"))
    results = [r for task in exported for a in task["annotations"] for r in a["result"]]
    assert [r["value"] for r in results] == [{"taxonomy": [["pos"]]}]
    hooks.unregister(name)
    assert "stars" not in annolab.kinds.names()
    assert "stars" not in PAYLOAD_KINDS
    assert annolab.kinds.get("choice") is before


def test_an_evaluator_from_a_plugin_drives_a_quality_rule(
    workspace: al.Workspace, plugin: Any
) -> None:
    seen: list[tuple[dict[str, Any], Any]] = []

    def positive(payload: Mapping[str, Any], gold: Mapping[str, Any] | None) -> float:
        seen.append((dict(payload), gold))
        return 1.0 if payload.get("label") == "pos" else 0.0

    class Positivity:
        @hooks.hookimpl
        def annolab_evaluators(self) -> list[SubmissionEvaluator]:
            return [SubmissionEvaluator("positivity", positive)]

    plugin(Positivity())
    proj = _project(workspace, n=4)
    proj.set_rules(
        [
            {
                "name": "too negative",
                "evaluators": [{"name": "positivity"}],
                "when": {"kind": "threshold", "below": 0.5, "min_samples": 2},
                "actions": ["restrict_assignment"],
            }
        ]
    )
    session = proj.session("gloomy")
    for _ in range(2):
        session.next()
        session.submit({"kind": "choice", "label": "neg"})
    assert seen == [({"kind": "choice", "label": "neg"}, None)] * 2
    with proj.workspace.engine.begin() as conn:
        scores = (
            conn.execute(
                sa.text(
                    "SELECT after->>'score' FROM events WHERE project_id = :p"
                    " AND action = 'quality.scored' AND after->>'evaluator' = 'positivity'"
                ),
                {"p": proj.id},
            )
            .scalars()
            .all()
        )
    assert scores == ["0.0", "0.0"]
    with pytest.raises(
        al.AssignmentError,
        match=r"^Restricted by quality rule 'too negative': score 0\.000 < 0\.500 over 2 samples$",
    ):
        proj.session("gloomy").next()


def test_an_evaluator_scoring_out_of_range_fails_the_submit_and_stores_nothing(
    workspace: al.Workspace, plugin: Any
) -> None:
    class Bad:
        @hooks.hookimpl
        def annolab_evaluators(self) -> list[SubmissionEvaluator]:
            return [SubmissionEvaluator("bad", lambda payload, gold: 7)]

    plugin(Bad())
    proj = _project(workspace, n=1)
    session = proj.session("scored")
    session.next()
    with pytest.raises(PluginError, match=r"^evaluator 'bad' scored 7; a score is a number"):
        session.submit({"kind": "choice", "label": "pos"})
    assert proj.annotations().height == 0


def _distribution(root: Path, module: str, body: str, entry: str) -> None:
    """A real installed distribution: a module and its dist-info with entry_points.txt."""
    (root / f"{module}.py").write_text(body, encoding="utf-8")
    info = root / f"{module.replace('_', '-')}-1.0.dist-info"
    info.mkdir()
    name = module.replace("_", "-")
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[annolab]\n{entry}\n", encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m.startswith("annolab_demo")]:
            del sys.modules[module]


PLUGIN_SOURCE = """
import annolab.hooks

@annolab.hooks.hookimpl
def annolab_before_claim(user):
    return "closed for maintenance" if user == "late" else None
"""


def test_an_entry_point_plugin_loads_from_an_installed_distribution(
    workspace: al.Workspace, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _distribution(site, "annolab_demo_rota", PLUGIN_SOURCE, "rota = annolab_demo_rota")
    monkeypatch.setenv("ANNOLAB_LOAD_PLUGINS", "someone-else")
    assert hooks.load_entry_points() == []  # not on the list
    monkeypatch.delenv("ANNOLAB_LOAD_PLUGINS")
    try:
        found = hooks.load_entry_points()
        assert found == [hooks.Loaded("rota", "annolab-demo-rota", "1.0", "annolab_demo_rota")]
        assert found[0] in hooks.loaded()
        assert hooks.load_entry_points() == []  # once
        proj = _project(workspace)
        with pytest.raises(
            al.AssignmentError, match=r"^closed for maintenance \(refused by plugin 'rota'\)$"
        ):
            proj.session("late").next()
        assert proj.session("early").next() is not None
    finally:
        hooks.unregister("rota")


def test_a_broken_entry_point_names_its_distribution_and_entry_point(site: Path) -> None:
    _distribution(
        site,
        "annolab_demo_broken",
        "raise ImportError('needs spacy')\n",
        "broken = annolab_demo_broken",
    )
    with pytest.raises(
        PluginError,
        match=r"^entry point 'broken' = 'annolab_demo_broken' of distribution "
        r"annolab-demo-broken 1\.0 failed to load: ImportError: needs spacy$",
    ):
        hooks.load_entry_points({"broken"})
    assert manager.plugin_manager().get_plugin("broken") is None


def test_an_entry_point_with_a_wrong_hook_signature_is_refused(site: Path) -> None:
    _distribution(
        site,
        "annolab_demo_wrong",
        "import annolab.hooks\n@annolab.hooks.hookimpl\ndef annolab_on_submit(colour):\n    pass\n",
        "wrong = annolab_demo_wrong",
    )
    with pytest.raises(
        PluginError,
        match=r"(?s)^entry point 'wrong' = 'annolab_demo_wrong' of distribution annolab-demo-wrong "
        r"1\.0 is not a valid plugin: .*colour",
    ):
        hooks.load_entry_points({"wrong"})


def test_unregistering_an_unknown_name_says_what_is_registered() -> None:
    with pytest.raises(PluginError, match=r"^plugin='nobody' is not registered; registered: "):
        hooks.unregister("nobody")


def test_a_call_site_with_no_plugin_costs_a_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    # The cost itself is a benchmark's business; what keeps it low is that, once asked, a hook's
    # implementations come from the cache and pluggy is not consulted again.
    first = manager.implementations("annolab_on_submit")
    assert first == ()

    def consulted() -> None:
        raise AssertionError("pluggy asked again")

    monkeypatch.setattr(manager, "plugin_manager", consulted)
    assert manager.implementations("annolab_on_submit") is first


def _hookspecs() -> list[ast.FunctionDef]:
    tree = ast.parse(SPECS.read_text(encoding="utf-8"))
    return [n for n in tree.body if isinstance(n, ast.FunctionDef)]


def test_every_hookspec_is_documented_and_has_a_docstring() -> None:
    specs_found = _hookspecs()
    assert {f.name for f in specs_found} == {
        name for name in dir(specs) if name.startswith("annolab_")
    }
    headings = set(re.findall(r"^#{2,4} `?(annolab_\w+)`?", DOC.read_text(encoding="utf-8"), re.M))
    missing = [f.name for f in specs_found if f.name not in headings]
    assert missing == []
    assert [f.name for f in specs_found if not ast.get_docstring(f)] == []
    assert len(specs_found) == 9


def test_every_hookspec_has_a_test_here() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    untested = [f.name for f in _hookspecs() if f"def {f.name}(" not in source]
    assert untested == []


def test_warnings_filter_turns_after_hook_errors_into_errors(
    workspace: al.Workspace, plugin: Any
) -> None:
    proj = _project(workspace, n=1)

    class Loud:
        @hooks.hookimpl
        def annolab_after_claim(self) -> None:
            raise ValueError("no")

    plugin(Loud())
    session = proj.session("strict")
    with warnings.catch_warnings():
        warnings.simplefilter("error", hooks.HookWarning)
        with pytest.raises(hooks.HookWarning, match="annolab_after_claim"):
            session.next()
    assert session.current is not None  # the claim committed before the hook ran


def test_a_broken_installed_plugin_fails_every_first_use_until_left_out(site: Path) -> None:
    """In a fresh interpreter: the first use of any hook loads the entry points, and a broken
    one is named on every try, not only the first; ANNOLAB_LOAD_PLUGINS leaves it out."""
    _distribution(
        site,
        "annolab_demo_crash",
        "raise ImportError('needs torch')\n",
        "crash = annolab_demo_crash",
    )
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(site)!r})\n"
        "from annolab.errors import PluginError\n"
        "from annolab.hooks import manager\n"
        "for _ in range(2):\n"
        "    try:\n"
        "        manager.implementations('annolab_on_submit')\n"
        "        print('loaded')\n"
        "    except PluginError as exc:\n"
        "        print(exc)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ANNOLAB_LOAD_PLUGINS"}
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    message = (
        "entry point 'crash' = 'annolab_demo_crash' of distribution annolab-demo-crash 1.0 "
        "failed to load: ImportError: needs torch"
    )
    assert run.stdout.splitlines() == [message, message]
    env["ANNOLAB_LOAD_PLUGINS"] = "rota"
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert run.stdout.splitlines() == ["loaded", "loaded"]


def test_a_plugin_kind_that_is_not_a_kind_fails_every_lookup(plugin: Any) -> None:
    class NotAKind:
        @hooks.hookimpl
        def annolab_payload_kinds(self) -> list[object]:
            return [{"name": "stars"}]

    name = plugin(NotAKind())
    for _ in range(2):
        with pytest.raises(
            PluginError,
            match=rf"^plugin {re.escape(repr(name))}: annolab_payload_kinds gave dict; give ",
        ):
            annolab.kinds.get("choice")
    hooks.unregister(name)
    assert annolab.kinds.get("choice").name == "choice"
