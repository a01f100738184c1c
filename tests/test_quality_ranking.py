"""Agreement on judged model outputs: Kendall's tau-b and ordinal alpha over rankings proved
against scipy and the krippendorff package, hand-worked values, and agreement_frame for the
ranking, pairwise and rubric kinds."""

from __future__ import annotations

import itertools
import json
import math
import warnings
from typing import Any

import krippendorff
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import kendalltau

from annolab.errors import QualityError
from annolab.quality import (
    kendall_tau,
    krippendorff_alpha,
    pairwise_agreement,
    ranking_agreement,
    ranking_alpha,
    rubric_agreement,
)
from annolab.quality.report import AGREEMENT_SCHEMA, agreement_frame
from annolab.schema import RankingPayload


def frame(rows: list[tuple[Any, str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "item": [r[0] for r in rows],
            "annotator": [r[1] for r in rows],
            "value": [r[2] for r in rows],
        }
    )


# --- hand-worked values -----------------------------------------------------------------------


def test_tau_of_one_swapped_pair_of_three_is_one_third() -> None:
    # Pairs (a,b) and (a,c) agree, (b,c) is swapped: (2 - 1) / 3.
    result = kendall_tau(frame([("q", "ann", ["a", "b", "c"]), ("q", "bob", ["a", "c", "b"])]))
    assert result.value == pytest.approx(1 / 3, abs=1e-12)
    assert (result.n_items, result.n_annotators, result.reason) == (1, 2, None)


def test_tau_b_ties_the_outputs_one_annotator_left_out() -> None:
    # [a, b] against [a, b, c, d]: c and d are tied last in the first. Five concordant pairs,
    # one tie in x: 5 / sqrt((6 - 1) * (6 - 0)).
    rows = [("q", "ann", ["a", "b"]), ("q", "bob", ["a", "b", "c", "d"])]
    assert kendall_tau(frame(rows)).value == pytest.approx(5 / math.sqrt(30), abs=1e-12)


def test_alpha_of_one_swapped_pair_is_seven_twelfths() -> None:
    # Ranks a: (1, 1), b: (2, 3), c: (3, 2); each rank used twice (n = 6). Ordinal distances
    # delta(1,2) = delta(2,3) = (4 - 2)^2 = 4, delta(1,3) = (6 - 2)^2 = 16.
    # D_o = (2 * 4 + 2 * 4) / 6; D_e = 2 * (4 * 4 + 4 * 16 + 4 * 4) / 30; alpha = 1 - 40/96.
    result = ranking_alpha(frame([("q", "ann", ["a", "b", "c"]), ("q", "bob", ["a", "c", "b"])]))
    assert result.value == pytest.approx(7 / 12, abs=1e-12)
    assert (result.n_items, result.n_annotators) == (3, 2)


def test_rankings_are_read_in_every_shape() -> None:
    order = ["b", "a", "c"]
    shapes: list[Any] = [
        order,
        tuple(order),
        RankingPayload(order=tuple(order)),
        {"kind": "ranking", "order": order},
        json.dumps({"kind": "ranking", "order": order}),
        json.dumps(order),
    ]
    for shape in shapes:
        rows = [("q", "ann", ["b", "a", "c"]), ("q", "bob", shape)]
        table = pl.DataFrame(
            {"item": ["q", "q"], "annotator": ["ann", "bob"], "value": [r[2] for r in rows]},
            schema={"item": pl.String, "annotator": pl.String, "value": pl.Object},
        )
        assert kendall_tau(table).value == 1.0, shape


def test_undefined_and_bad_input() -> None:
    single = kendall_tau(
        frame([("q", "ann", ["a"]), ("q", "bob", ["a"]), ("r", "ann", ["x", "y"])])
    )
    assert math.isnan(single.value)
    assert single.reason is not None and single.reason.startswith("no item has two rankings")
    with pytest.raises(QualityError, match="order\\[1\\]='a' is ranked twice"):
        kendall_tau(frame([("q", "ann", ["a", "a"]), ("q", "bob", ["a"])]))
    with pytest.raises(QualityError, match="annotator 'ann' has more than one annotation"):
        kendall_tau(frame([("q", "ann", ["a", "b"]), ("q", "ann", ["b", "a"])]))
    with pytest.raises(QualityError, match="is not a ranking"):
        kendall_tau(frame([("q", "ann", '{"kind": "choice", "label": "x"}')]))


# --- against the reference implementations ---------------------------------------------------


@st.composite
def rankings(draw: st.DrawFn) -> list[tuple[int, str, list[str]]]:
    """Items of 2-6 outputs, each ranked (in full, or its first few) by some of 4 annotators."""
    rows = []
    for item in range(draw(st.integers(1, 6))):
        outputs = [f"o{i}" for i in range(draw(st.integers(2, 6)))]
        for who in draw(st.lists(st.sampled_from("abcd"), min_size=1, max_size=4, unique=True)):
            order = draw(st.permutations(outputs))
            keep = draw(st.integers(1, len(outputs)))
            rows.append((item, who, list(order[:keep])))
    return rows


def scipy_tau(rows: list[tuple[int, str, list[str]]]) -> float:
    per_item = []
    for item in sorted({r[0] for r in rows}):
        mine = {who: order for it, who, order in rows if it == item}
        taus = []
        for a, b in itertools.combinations(sorted(mine), 2):
            outputs = sorted(set(mine[a]) | set(mine[b]))
            x = [mine[a].index(o) if o in mine[a] else len(mine[a]) for o in outputs]
            y = [mine[b].index(o) if o in mine[b] else len(mine[b]) for o in outputs]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tau = kendalltau(x, y, variant="b").statistic
            if not math.isnan(tau):
                taus.append(tau)
        if taus:
            per_item.append(float(np.mean(taus)))
    return float(np.mean(per_item)) if per_item else math.nan


def package_alpha(rows: list[tuple[int, str, list[str]]]) -> float:
    units = sorted({(it, o) for it, _, order in rows for o in order})
    coders = sorted({who for _, who, _ in rows})
    matrix = np.full((len(coders), len(units)), np.nan)
    for it, who, order in rows:
        for place, o in enumerate(order, start=1):
            matrix[coders.index(who), units.index((it, o))] = place
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(krippendorff.alpha(matrix, level_of_measurement="ordinal"))
    except ValueError:  # one value in the domain, or no unit with two values
        return math.nan


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rankings())
def test_kendall_tau_equals_scipy_tau_b(rows: list[tuple[int, str, list[str]]]) -> None:
    ours = kendall_tau(frame(rows)).value
    theirs = scipy_tau(rows)
    assert (math.isnan(ours) and math.isnan(theirs)) or ours == pytest.approx(theirs, abs=1e-9)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rankings())
def test_ranking_alpha_equals_the_krippendorff_package(
    rows: list[tuple[int, str, list[str]]],
) -> None:
    ours = ranking_alpha(frame(rows)).value
    theirs = package_alpha(rows)
    if math.isnan(theirs) or not math.isfinite(theirs):
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


# --- the per-kind figures and agreement_frame -------------------------------------------------


def annotations(payloads: dict[tuple[str, str], dict[str, Any]]) -> pl.DataFrame:
    """The columns of project.annotations() that agreement_frame reads."""
    return pl.DataFrame(
        {
            "external_id": [task for task, _ in payloads],
            "user": [user for _, user in payloads],
            "kind": ["human"] * len(payloads),
            "status": ["submitted"] * len(payloads),
            "payload": [json.dumps(p) for p in payloads.values()],
        }
    )


def rank(*order: str) -> dict[str, Any]:
    return {"kind": "ranking", "order": list(order)}


def test_agreement_frame_measures_rankings() -> None:
    rows = annotations(
        {
            ("q1", "ann"): rank("llama", "qwen", "phi"),
            ("q1", "bob"): rank("llama", "phi", "qwen"),
            ("q2", "ann"): rank("qwen", "llama", "phi"),
            ("q2", "bob"): rank("qwen", "llama", "phi"),
        }
    )
    table = agreement_frame(rows)
    assert table.schema == pl.Schema(AGREEMENT_SCHEMA)
    figures = {(m, label): v for m, label, v in table.select("metric", "label", "value").rows()}
    long = frame(
        [
            ("q1", "ann", ["llama", "qwen", "phi"]),
            ("q1", "bob", ["llama", "phi", "qwen"]),
            ("q2", "ann", ["qwen", "llama", "phi"]),
            ("q2", "bob", ["qwen", "llama", "phi"]),
        ]
    )
    assert figures[("kendall_tau", None)] == pytest.approx((1 / 3 + 1) / 2)
    assert figures[("krippendorff_alpha", None)] == pytest.approx(ranking_alpha(long).value)
    assert figures[("percent_agreement", None)] == 0.5
    # Per model: llama ranked (1, 1) and (2, 2); phi (3, 2) and (3, 3); qwen (2, 3) and (1, 1).
    llama = frame([(1, "ann", 1), (1, "bob", 1), (2, "ann", 2), (2, "bob", 2)])
    assert (
        figures[("krippendorff_alpha", "llama")] == krippendorff_alpha(llama, level="ordinal").value
    )
    phi = frame([(1, "ann", 3), (1, "bob", 2), (2, "ann", 3), (2, "bob", 3)])
    assert figures[("krippendorff_alpha", "phi")] == pytest.approx(
        krippendorff.alpha(np.array([[3.0, 3.0], [2.0, 3.0]]), level_of_measurement="ordinal")
    )
    assert krippendorff_alpha(phi, level="ordinal").value == figures[("krippendorff_alpha", "phi")]
    assert set(table["n_annotators"]) == {2}
    assert table["match"].null_count() == table.height


def test_per_output_rows_only_for_outputs_ranked_on_two_items() -> None:
    table = ranking_agreement(
        frame([("q1", "ann", ["0", "1"]), ("q1", "bob", ["1", "0"]), ("q2", "ann", ["x", "y"])])
    )
    assert table["label"].to_list() == [None, None, None]
    assert table["value"][0] == -1.0


def pair(choice: str, **criteria: str) -> dict[str, Any]:
    return {"kind": "pairwise", "choice": choice, "rationale": "", "criteria": criteria}


def test_agreement_frame_measures_pairwise_verdicts_and_criteria() -> None:
    rows = annotations(
        {
            ("t1", "ann"): pair("a", accuracy="a", tone="tie"),
            ("t1", "bob"): pair("a", accuracy="a", tone="b"),
            ("t2", "ann"): pair("b", accuracy="b", tone="b"),
            ("t2", "bob"): {**pair("a", accuracy="b", tone="b"), "rationale": "shorter"},
            ("t3", "ann"): pair("tie", accuracy="a", tone="tie"),
            ("t3", "bob"): pair("tie", accuracy="b", tone="tie"),
        }
    )
    table = agreement_frame(rows)
    assert table.schema == pl.Schema(AGREEMENT_SCHEMA)
    figures = {(m, label): v for m, label, v in table.select("metric", "label", "value").rows()}
    assert list(figures) == [
        ("percent_agreement", None),
        ("krippendorff_alpha", None),
        ("krippendorff_alpha", "accuracy"),
        ("krippendorff_alpha", "tone"),
    ]
    assert figures[("percent_agreement", None)] == pytest.approx(2 / 3)
    # Verdicts a a | b a | tie tie: n = 6 (a 3, b 1, tie 2); one unit disagrees.
    # D_o = 2 / 6, D_e = (36 - 9 - 1 - 4) / 30: alpha = 1 - (1/3) / (22/30) = 6/11.
    assert figures[("krippendorff_alpha", None)] == pytest.approx(6 / 11, abs=1e-12)
    codes = {"a": 0.0, "b": 1.0, "tie": 2.0}

    def package(first: str, second: str) -> float:
        matrix = np.array([[codes[v] for v in first.split()], [codes[v] for v in second.split()]])
        return float(krippendorff.alpha(matrix, level_of_measurement="nominal"))

    assert figures[("krippendorff_alpha", "accuracy")] == pytest.approx(package("a b a", "a b b"))
    assert figures[("krippendorff_alpha", "tone")] == pytest.approx(package("tie b tie", "b b tie"))


def test_agreement_frame_measures_rubric_criteria_as_ordinal() -> None:
    scores = {
        ("t1", "ann"): {"accuracy": 5, "clarity": 2},
        ("t1", "bob"): {"accuracy": 4, "clarity": 2},
        ("t2", "ann"): {"accuracy": 1, "clarity": 4},
        ("t2", "bob"): {"accuracy": 2, "clarity": 5},
        ("t3", "ann"): {"accuracy": 3, "clarity": 3},
        ("t3", "bob"): {"accuracy": 3},
    }
    rows = annotations(
        {k: {"kind": "rubric", "scores": v, "comment": ""} for k, v in scores.items()}
    )
    table = agreement_frame(rows)
    assert table.schema == pl.Schema(AGREEMENT_SCHEMA)
    assert table.select("metric", "label").rows() == [
        ("krippendorff_alpha", "accuracy"),
        ("krippendorff_alpha", "clarity"),
    ]
    accuracy = np.array([[5.0, 1.0, 3.0], [4.0, 2.0, 3.0]])
    clarity = np.array([[2.0, 4.0, 3.0], [2.0, 5.0, np.nan]])
    expected = [
        krippendorff.alpha(accuracy, level_of_measurement="ordinal"),
        krippendorff.alpha(clarity, level_of_measurement="ordinal"),
    ]
    assert table["value"].to_list() == pytest.approx(expected, abs=1e-9)
    assert table["n_items"].to_list() == [3, 2]
    direct = rubric_agreement(
        frame([(t, who, {"kind": "rubric", "scores": s}) for (t, who), s in scores.items()])
    )
    assert direct["value"].to_list() == pytest.approx(expected, abs=1e-9)


def test_pairwise_agreement_refuses_another_kind() -> None:
    with pytest.raises(QualityError, match="is not a pairwise payload"):
        pairwise_agreement(frame([("t", "ann", '{"kind": "rubric", "scores": {}}')]))
