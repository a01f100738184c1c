"""Dashboards: the aggregated numbers each panel draws, the row bound, and saving to files."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl
import pytest

from annolab import dashboards
from annolab.dashboards import _data, _render
from annolab.dashboards.annotator import trend_table, volume_table
from annolab.dashboards.personas import persona_table
from annolab.dashboards.project import event_waits, progress_table, step_hours
from annolab.quality import span_agreement

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def spans(*found: tuple[int, int, str]) -> str:
    return json.dumps(
        {"kind": "spans", "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in found]}
    )


def frame(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    """(task, user, payload[, kind, hours after T0, seconds]) -> an annotations() frame."""
    full = [(*r, "human", i, 10.0)[:6] if len(r) == 3 else r for i, r in enumerate(rows)]
    return pl.DataFrame(
        {
            "task_id": [r[0] for r in full],
            "user": [r[1] for r in full],
            "payload": [r[2] for r in full],
            "kind": [r[3] for r in full],
            "status": ["submitted"] * len(full),
            "created_at": [T0 + dt.timedelta(hours=r[4]) for r in full],
            "time_spent": [float(r[5]) for r in full],
        }
    )


@pytest.fixture
def three() -> pl.DataFrame:
    return frame(
        [
            (1, "ann", spans((0, 3, "PER"), (8, 17, "PER"))),
            (1, "bob", spans((0, 3, "PER"), (8, 11, "PER"))),
            (1, "cy", spans((0, 3, "LOC"))),
            (2, "ann", spans((0, 4, "LOC"))),
            (2, "bob", spans((0, 4, "LOC"))),
            (2, "cy", spans()),
        ]
    )


def values(chart: Any) -> list[dict[str, Any]]:
    spec = chart.to_dict()
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_label_agreement_equals_span_agreement_exact(three: pl.DataFrame) -> None:
    rows = _data.annotation_rows(three)
    ours = dict(_data.label_agreement(rows, _data.units(rows)).select("label", "agreement").rows())
    reference = span_agreement(
        three.rename({"task_id": "item", "user": "annotator", "payload": "value"}), tokens="chars"
    ).filter(pl.col("match") == "exact", pl.col("label").is_not_null())
    assert ours == pytest.approx(dict(reference.select("label", "f1").rows()))
    assert ours == pytest.approx({"PER": 0.25, "LOC": 1 / 3})


def test_agreement_per_label_chart_draws_the_figures_worst_first(three: pl.DataFrame) -> None:
    drawn = values(dashboards.agreement_per_label(three))
    assert [(r["label"], round(r["agreement"], 4)) for r in drawn] == [
        ("PER", 0.25),
        ("LOC", 0.3333),
    ]


def test_confusion_counts_pairs_of_annotators_at_one_place(three: pl.DataFrame) -> None:
    rows = _data.annotation_rows(three)
    table = _data.label_confusion(rows, _data.units(rows))
    cells = {(a, b): n for a, b, n in table.rows()}
    # Task 1 (0, 3): PER, PER, LOC -> one agreeing PER pair, two PER/LOC pairs.
    assert cells[("PER", "PER")] == 1
    assert cells[("PER", "LOC")] == cells[("LOC", "PER")] == 2
    # (8, 17) and (8, 11) PER each meet two annotators with nothing there.
    assert cells[("PER", "(none)")] == cells[("(none)", "PER")] == 4
    # Task 2 (0, 4): LOC, LOC, nothing.
    assert cells[("LOC", "LOC")] == 1
    assert cells[("LOC", "(none)")] == 2


def test_choices_agree_as_percent_agreement() -> None:
    choice = [json.dumps({"kind": "choice", "label": x}) for x in "xxyyyy"]
    df = frame(
        [(t, u, c) for (t, u), c in zip([(1, "a"), (1, "b"), (1, "c")] * 2, choice, strict=True)]
    )
    df = df.with_columns(task_id=pl.Series([1, 1, 1, 2, 2, 2]))
    rows = _data.annotation_rows(df)
    scores = _data.annotation_scores(rows, _data.units(rows), by_label=False)
    overall = _data.agreement(scores.with_columns(pl.lit(1).alias("all")), ["all"])
    # Pairs: task 1 has 1 agreeing of 3, task 2 three of 3 -> 4 / 6.
    assert overall["agreement"][0] == pytest.approx(4 / 6)


def test_only_the_latest_submitted_annotation_of_a_user_counts() -> None:
    df = frame(
        [
            (1, "ann", spans((0, 3, "PER"))),
            (1, "ann", spans((0, 3, "LOC"))),
            (1, "bob", spans((0, 3, "LOC"))),
        ]
    ).with_columns(status=pl.Series(["submitted", "submitted", "submitted"]))
    draft = df.head(1).with_columns(
        status=pl.lit("draft"), created_at=pl.lit(T0 + dt.timedelta(days=1))
    )
    rows = _data.annotation_rows(pl.concat([df, draft]))
    assert rows.height == 2
    table = _data.label_agreement(rows, _data.units(rows))
    assert table.rows() == [("LOC", 4, 2, 1.0)]  # (label, units compared, annotations, F1)


def test_compact_and_escaped_json_read_like_canonical() -> None:
    compact = json.dumps(
        {"spans": [{"label": 'say "hi"', "start": 0, "end": 2}], "kind": "spans"},
        separators=(",", ":"),
    )
    df = frame([(1, "a", compact), (1, "b", spans((0, 2, 'say "hi"')))])
    rows = _data.annotation_rows(df)
    found = _data.units(rows)
    assert sorted(found.select("user", "start", "end", pl.col("label").cast(str)).rows()) == [
        ("a", 0, 2, 'say "hi"'),
        ("b", 0, 2, 'say "hi"'),
    ]


def test_payloads_in_any_json_form_give_the_units_a_parser_reads() -> None:
    span = {"start": 4, "end": 9, "label": "PER"}
    forms = [
        '{"kind": "spans", "spans": [{"end": 9, "label": "PER", "score": 0.5, "start": 4}]}',
        json.dumps({"kind": "spans", "spans": [span]}),
        json.dumps({"spans": [span], "kind": "spans"}, separators=(",", ":")),
        '{"kind": "spans", "spans": [{"end":\t9, "label":  "PER", "start":\n 4}]}',
        json.dumps({"kind": "errors", "spans": [{**span, "comment": 'a "b"'}]}),
        json.dumps({"kind": "choice", "label": "PER", "score": 0.5}),
        '{"kind":"choice","label":"PER"}',
        json.dumps({"kind": "choices", "labels": ["PER", "PER"]}),
        json.dumps({"kind": "boxes", "boxes": [{"x": 1, "y": 1, "w": 2, "h": 2, "label": "PER"}]}),
    ]
    df = frame([(1, f"u{i}", payload) for i, payload in enumerate(forms)])
    rows = _data.annotation_rows(df)
    found = _data.units(rows).select("user", "start", "end", pl.col("label").cast(str))
    assert sorted(found.rows()) == [
        *((f"u{i}", 4, 9, "PER") for i in range(5)),
        *((f"u{i}", None, None, "PER") for i in (5, 6, 7)),
    ]


def odd_agreement_frame(item: str) -> pl.DataFrame:
    """Unlabelled and repeated spans, choices, a lone annotator and a persona, on ``item``s."""
    df = frame(
        [
            (1, "a", spans((0, 3, "PER"), (0, 3, "PER"), (5, 9, "LOC"))),
            (1, "b", spans((0, 3, "PER"), (5, 9, "PER"))),
            (1, "c", '{"kind": "spans", "spans": [{"end": 3, "label": null, "start": 0}]}'),
            (1, "d", spans((5, 9, "LOC")), "persona", 1, 5),
            (2, "a", json.dumps({"kind": "choice", "label": "yes"})),
            (2, "b", json.dumps({"kind": "choice", "label": "no"})),
            (3, "a", json.dumps({"kind": "choices", "labels": ["x", "y"]})),
            (3, "b", json.dumps({"kind": "choices", "labels": ["y"]})),
            (3, "c", json.dumps({"kind": "choices", "labels": []}), "human", 30, 5),
            (4, "a", spans((0, 1, "PER"))),
        ]
    )
    if item == "external_id":
        return df.with_columns(pl.format("t{}", "task_id").alias("external_id")).drop("task_id")
    if item == "far offsets":
        far = pl.col("payload").str.replace_all(r'"(start|end)": (\d)', r'"$1": 10000000000000$2')
        return df.with_columns(far)
    return df


@pytest.mark.parametrize("item", ["task_id", "external_id", "far offsets"])
def test_agreement_plans_sum_the_per_annotation_scores(item: str) -> None:
    # Integer items and near offsets are counted by one packed key, the others column by column:
    # both give what scoring each annotation per label gives.
    rows = _data.annotation_rows(odd_agreement_frame(item))
    found = _data.units(rows)
    plans = _data.agreement_plans(rows, found, "1d")
    assert plans.over_time is not None
    per_label, over_time = pl.collect_all([plans.per_label, plans.over_time])
    scores = _data.annotation_scores(rows, found, by_label=True)
    assert per_label.equals(_data.agreement(scores, ["label"]).sort("agreement", "label"))
    summed = scores.group_by("row").agg(pl.col("matched", "compared").sum())
    assert over_time.equals(_data.over_time(rows, summed, "1d"))
    # Task 1's PER: (0, 3) given 3 times (twice by a), (5, 9) once; 4 annotators.
    # Matched 3 * 2, compared 4 * 3 + 4 * 4 - 4. The unlabelled span is compared, never matched.
    assert per_label.rows() == [
        (None, 4, 4, 0.0),
        ("no", 2, 2, 0.0),
        ("x", 4, 3, 0.0),
        ("yes", 2, 2, 0.0),
        ("LOC", 12, 4, pytest.approx(1 / 3)),
        ("PER", 24, 4, 0.5),
        ("y", 8, 3, 0.5),
    ]
    # Day 2 holds c's empty choices on task 3: compared on the item's 3 units, matching none.
    assert [r[1:] for r in over_time.rows()] == [
        (53, 8, pytest.approx(20 / 53)),
        (3, 1, 0.0),
    ]


def test_progress_counts_and_running_total(three: pl.DataFrame) -> None:
    rows = _data.annotation_rows(three, kinds=None)
    table, name = progress_table(rows)
    assert name == "hour"
    assert table["total"].to_list() == [1, 2, 3, 4, 5, 6]


def test_agreement_over_time_pools_each_period(three: pl.DataFrame) -> None:
    drawn = values(dashboards.agreement_over_time(three))
    # Hour 0..2 are task 1's annotations, hours 3..5 task 2's.
    assert len(drawn) == 6
    assert drawn[0]["agreement"] == pytest.approx(2 * 1 / (2 * 2 + 3))  # ann on task 1


def test_annotator_trend_and_volume_against_the_team(three: pl.DataFrame) -> None:
    rows = _data.annotation_rows(three)
    trend, _ = trend_table(rows, "cy")
    mine = trend.filter(pl.col("who") == "cy")
    assert mine["agreement"].to_list() == pytest.approx([0.0, 0.0])
    volume, _ = volume_table(rows, "cy")
    assert volume.filter(pl.col("who") == "cy")["annotations"].to_list() == [1.0, 1.0]


def test_time_histogram_shares_sum_to_one() -> None:
    df = frame([(i, "ann" if i % 2 else "bob", spans(), "human", i, i) for i in range(1, 41)])
    table = _data.seconds_histogram(_data.annotation_rows(df), "ann")
    for who in ("this annotator", "team"):
        assert table.filter(pl.col("who") == who)["share"].sum() == pytest.approx(1.0)


def test_step_hours_and_event_waits() -> None:
    df = frame([(1, "a", spans(), "human", 0, 1800), (2, "a", spans(), "human", 1, 5400)])
    assert step_hours(_data.annotation_rows(df)).row(0) == ("(none)", 2.0, 3600.0, 2)
    events = pl.DataFrame(
        {
            "at": [T0, T0 + dt.timedelta(hours=2), T0 + dt.timedelta(hours=3)],
            "action": ["task.assigned", "step.completed", "step.completed"],
            "entity": ["task", "task", "project"],
            "entity_id": ["1", "1", "9"],
        }
    )
    assert event_waits(events).rows() == [("step.completed", 2.0, 1)]


def test_persona_against_humans_per_label() -> None:
    df = frame(
        [
            (1, "ann", spans((0, 3, "PER"))),
            (1, "bob", spans((0, 3, "PER"))),
            (1, "llm", spans((0, 3, "PER")), "persona", 0, 1),
            (2, "ann", spans((0, 4, "LOC"))),
            (2, "bob", spans((0, 4, "LOC"))),
            (2, "llm", spans((0, 4, "PER")), "persona", 0, 1),
        ]
    )
    table = persona_table(df)
    got = {(w, lab): round(a, 4) for w, lab, a in table.select("who", "label", "agreement").rows()}
    assert got[("human vs human", "PER")] == 1.0
    assert got[("human vs human", "LOC")] == 1.0
    # llm vs the two humans: PER matched 2 of (llm 2 x 2 humans + humans' 2) -> 2*2/6.
    assert got[("llm", "PER")] == round(4 / 6, 4)
    assert got[("llm", "LOC")] == 0.0


def big(n: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        from dashboards import make_annotations
    finally:
        sys.path.pop(0)
    result: tuple[pl.DataFrame, pl.DataFrame] = make_annotations(n)
    return result


def test_charts_embed_a_few_thousand_rows_at_most_for_100k_annotations() -> None:
    annotations, tasks = big(100_000)
    events = pl.DataFrame(
        {
            "at": [T0 + dt.timedelta(minutes=i) for i in range(3000)],
            "action": ["task.assigned", "step.completed"] * 1500,
            "entity": ["task"] * 3000,
            "entity_id": [str(i // 2) for i in range(3000)],
        }
    )
    charts = [
        dashboards.project(annotations, tasks),
        dashboards.project(annotations, tasks, events),
        dashboards.annotator(annotations, "annotator-3"),
        dashboards.persona_vs_human(annotations),
    ]
    for chart in charts:
        assert 0 < len(values(chart)) <= 3000


@pytest.mark.parametrize(("suffix", "magic"), [("png", b"\x89PNG\r\n\x1a\n"), ("svg", b"<svg")])
def test_dashboards_save_to_png_and_svg(
    three: pl.DataFrame, tmp_path: Path, suffix: str, magic: bytes
) -> None:
    out = tmp_path / f"project.{suffix}"
    dashboards.project(three).save(str(out))
    assert out.read_bytes().startswith(magic)
    assert out.stat().st_size > 1000


# --- the offline renderer --------------------------------------------------------------------

REPO = Path(__file__).resolve().parent.parent


def built_bundle() -> _render.Bundle:
    bundle = _render.load_bundle(_render.BUNDLE)
    assert bundle is not None, f"{_render.BUNDLE} is not built: {_render.BUILD_COMMAND}"
    return bundle


def test_bundle_holds_the_pinned_versions_and_the_vega_lite_major_altair_emits() -> None:
    bundle = built_bundle()
    pins = json.loads((REPO / "widgets" / "package.json").read_text())["devDependencies"]
    assert bundle.versions == {name: pins[name] for name in ("vega", "vega-lite", "vega-embed")}
    assert bundle.vega_lite_major == alt.SCHEMA_VERSION.lstrip("v").split(".")[0]
    assert _render.version_problem(bundle, alt.SCHEMA_VERSION) is None


def test_importing_dashboards_makes_annolab_the_active_renderer() -> None:
    assert alt.renderers.active == "annolab"
    assert "annolab" in alt.renderers.names()


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


def test_a_renderer_chosen_before_the_import_stays_and_embed_options_carry_over() -> None:
    chosen = run_python(
        "import altair as alt; alt.renderers.enable('mimetype'); import annolab.dashboards; "
        "print(alt.renderers.active)"
    )
    assert chosen == "mimetype"
    carried = run_python(
        "import altair as alt; alt.renderers.set_embed_options(actions=False); "
        "import annolab.dashboards; print(alt.renderers.active, alt.renderers.options)"
    )
    assert carried == "annolab {'embed_options': {'actions': False}}"


def chart_html(chart: alt.TopLevelMixin) -> tuple[dict[str, str], str]:
    bundle: dict[str, str] = chart._repr_mimebundle_()  # type: ignore[assignment]
    return bundle, bundle["text/html"]


def test_a_chart_carries_the_whole_bundle_and_loads_nothing_from_a_network(
    three: pl.DataFrame,
) -> None:
    mimebundle, html = chart_html(dashboards.agreement_per_label(three))
    assert sorted(mimebundle) == ["text/html", "text/plain"]
    assert mimebundle["text/plain"] == (
        "<Altair chart 'Agreement per label', drawn by annolab's offline renderer>"
    )
    packed = re.findall(r'unpack\("([A-Za-z0-9+/=]+)"\)', html)
    assert len(packed) == 1
    assert gzip.decompress(base64.b64decode(packed[0])) == _render.BUNDLE.read_bytes()
    # No script src, no stylesheet link, no URL but the spec's $schema (an identifier only).
    assert "<script src" not in html
    assert "<link" not in html
    urls = set(re.findall(r"https?://[^\s\"']+", html))
    assert urls == {f"https://vega.github.io/schema/vega-lite/{alt.SCHEMA_VERSION}.json"}


def test_the_spec_and_embed_options_go_in_script_safe(three: pl.DataFrame) -> None:
    chart = alt.Chart(alt.Data(values=[{"label": "</script><b>", "n": 1}]), title="x").mark_bar()
    with alt.renderers.set_embed_options(actions=False, renderer="canvas"):
        _, html = chart_html(chart)
    assert html.count("</script>") == 1  # the template's own
    assert '"label": "\\u003c/script>\\u003cb>"' in html
    assert 'const options = {"renderer": "canvas", "actions": false, "mode": "vega-lite"};' in html


def test_two_renders_of_one_chart_differ_only_in_their_element_id(three: pl.DataFrame) -> None:
    chart = dashboards.agreement_per_label(three)
    ids = [re.findall(r"annolab-chart-[0-9a-f]{32}", chart_html(chart)[1]) for _ in range(2)]
    assert len(set(ids[0])) == len(set(ids[1])) == 1
    assert ids[0][0] != ids[1][0]
    first, second = (chart_html(chart)[1] for _ in range(2))
    same = re.sub(r"annolab-chart-[0-9a-f]{32}", "ID", first)
    assert same == re.sub(r"annolab-chart-[0-9a-f]{32}", "ID", second)


def test_an_unbuilt_bundle_says_how_to_build_it(tmp_path: Path) -> None:
    assert _render.load_bundle(tmp_path / "vega.js") is None
    (tmp_path / "other.js").write_text("export const x = 1;\n")
    assert _render.load_bundle(tmp_path / "other.js") is None


def test_a_bundle_of_another_vega_lite_major_is_refused_by_name() -> None:
    bundle = built_bundle()
    problem = _render.version_problem(bundle, "v7.0.0")
    assert problem is not None
    assert "Altair emits Vega-Lite v7.0.0" in problem
    assert f"vega-lite@{bundle.versions['vega-lite']}" in problem


def test_an_annotator_giving_one_place_two_labels_counts_once_among_who_gave_something() -> None:
    # Overlapping spans allowed: ann gives (0, 3) both PER and LOC, bob gives PER, cy nothing.
    df = frame(
        [
            (1, "ann", spans((0, 3, "PER"), (0, 3, "LOC"))),
            (1, "bob", spans((0, 3, "PER"))),
            (1, "cy", spans()),
        ]
    )
    rows = _data.annotation_rows(df)
    cells = {(a, b): n for a, b, n in _data.label_confusion(rows, _data.units(rows)).rows()}
    # One annotator of three (cy) gave nothing at (0, 3): each of the three units meets them once.
    nobody = {(a, b): n for (a, b), n in cells.items() if "(none)" in (a, b)}
    assert nobody == {
        ("(none)", "LOC"): 1,
        ("(none)", "PER"): 2,
        ("LOC", "(none)"): 1,
        ("PER", "(none)"): 2,
    }
