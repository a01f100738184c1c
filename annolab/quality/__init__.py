"""Agreement and quality metrics: pure functions over long polars frames, no database.

Each metric reads one row per annotation with an item, an annotator and a value column (named
``item``, ``annotator`` and ``value`` unless told otherwise); pandas and Arrow tables work too.
Scalar metrics return an ``AgreementResult`` (NaN with a ``reason`` when undefined), per-label
and per-annotator metrics a polars DataFrame. Input a metric cannot measure raises
``annolab.errors.QualityError``.

>>> import polars as pl
>>> from annolab import quality
>>> frame = pl.DataFrame({"item": [1, 1, 2, 2], "annotator": ["a", "b"] * 2,
...                       "value": ["x", "x", "y", "x"]})
>>> quality.percent_agreement(frame).value
0.5
"""

from __future__ import annotations

from annolab.quality._result import AgreementResult
from annolab.quality.boxes import box_agreement
from annolab.quality.categorical import (
    KAPPA_WEIGHTS,
    cohen_kappa,
    fleiss_kappa,
    percent_agreement,
)
from annolab.quality.gold import gold_accuracy
from annolab.quality.items import item_agreement
from annolab.quality.krippendorff import LEVELS, krippendorff_alpha
from annolab.quality.profiles import annotator_profiles
from annolab.quality.ranking import (
    kendall_tau,
    pairwise_agreement,
    ranking_agreement,
    ranking_alpha,
    rubric_agreement,
)
from annolab.quality.spans import MATCHES, span_agreement

__all__ = [
    "KAPPA_WEIGHTS",
    "LEVELS",
    "MATCHES",
    "AgreementResult",
    "annotator_profiles",
    "box_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "gold_accuracy",
    "item_agreement",
    "kendall_tau",
    "krippendorff_alpha",
    "pairwise_agreement",
    "percent_agreement",
    "ranking_agreement",
    "ranking_alpha",
    "rubric_agreement",
    "span_agreement",
]
