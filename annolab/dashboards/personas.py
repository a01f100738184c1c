"""Personas against people: how well each LLM persona agrees with the human annotators."""

from __future__ import annotations

import altair as alt
import polars as pl

from annolab.dashboards import _data

WIDTH = 360
HEIGHT = 240

HUMANS = "human vs human"


def persona_table(annotations: pl.DataFrame) -> pl.DataFrame:
    """Agreement per label: each persona against the humans, and the humans among themselves.

    Columns ``who`` (a persona's name, or "human vs human"), ``label``, ``agreement``, ``units``,
    ``annotations``.
    """
    rows = _data.annotation_rows(annotations)
    found = _data.units(rows)
    personas = _data.cross_agreement(rows, found, group="persona", against="human")
    humans = rows.filter(pl.col("kind") == "human").drop("row").with_row_index("row")
    among = _data.label_agreement(humans, _data.units(humans))
    columns = ["who", "label", "agreement", "units", "annotations"]
    return pl.concat(
        [
            personas.rename({"user": "who"}).select(columns),
            among.with_columns(pl.lit(HUMANS).alias("who")).select(columns),
        ]
    ).sort("who", "label")


def persona_vs_human(annotations: pl.DataFrame) -> alt.Chart:
    """Per label, each persona's agreement with the human annotators, beside the humans'
    agreement with each other (the bar a persona has to reach).

    >>> al.dashboards.persona_vs_human(proj.annotations())  # doctest: +SKIP
    """
    table = persona_table(annotations)
    chart: alt.Chart = (
        alt.Chart(table, title="Personas against humans, per label")
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title="Label"),
            yOffset=alt.YOffset("who:N"),
            x=alt.X("agreement:Q", title="Agreement (pairwise F1)", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("who:N", title="Who"),
            tooltip=[
                alt.Tooltip("who:N", title="Who"),
                alt.Tooltip("label:N", title="Label"),
                alt.Tooltip("agreement:Q", title="Agreement", format=".3f"),
                alt.Tooltip("annotations:Q", title="Annotations"),
            ],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return chart
