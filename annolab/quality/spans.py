"""Agreement on text spans between every pair of annotators: exact, overlapping and token F1."""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from itertools import combinations
from typing import Any

import polars as pl

from annolab.errors import QualityError
from annolab.quality._frames import require_columns, require_no_nulls, to_polars
from annolab.quality._matching import Interval, covered, merged, overlap_matches, shared
from annolab.quality._payloads import (
    SpanKey,
    by_item,
    item_texts,
    read_annotations,
    sorted_names,
)

__all__ = ["MATCHES", "span_agreement"]

MATCHES = ("exact", "overlap", "token")

Tokenizer = Callable[[str], Iterable[tuple[int, int]]]

NO_PAIRS = "fewer than two annotators on every item: there is no pair to compare"
NO_SPANS = "no spans on the items compared: there is nothing to agree on"

_WORD = re.compile(r"\S+")

SCHEMA = {
    "match": pl.String,
    "label": pl.String,
    "pairs": pl.Int64,
    "matched": pl.Int64,
    "n_a": pl.Int64,
    "n_b": pl.Int64,
    "precision": pl.Float64,
    "recall": pl.Float64,
    "f1": pl.Float64,
    "reason": pl.String,
}


def span_agreement(
    frame: object,
    *,
    tokens: str | Tokenizer = "whitespace",
    text: str = "text",
    item: str = "item",
    annotator: str = "annotator",
    value: str = "value",
) -> pl.DataFrame:
    """Pairwise F1 of span annotations, per label and overall, three ways.

    Every item's annotators are compared in pairs (a, b), a the one whose name sorts first, and
    the counts of all pairs are pooled (micro average):

    - ``exact``: a span matches a span of the other side with the same start, end and label;
    - ``overlap``: it matches one with the same label that shares at least one code point, each
      span matched at most once (a maximum matching);
    - ``token``: the units are (token, label), a token counting for a label when a span of that
      label overlaps it. ``tokens`` is ``"whitespace"`` (runs of non-space in the ``text``
      column), ``"chars"`` (code points; needs no text) or a function text -> (start, end) pairs.

    One row per (match, label), the overall row of each match first with a null label. ``matched``
    counts matches, ``n_a`` and ``n_b`` spans (tokens) of the first and second annotator of each
    pair; ``f1`` = 2 matched / (n_a + n_b), ``precision`` = matched / n_b and ``recall`` =
    matched / n_a read the first annotator as the reference (as seqeval's ``y_true``). NaN
    with a ``reason`` when there is no pair or no span.

    When the frame has the ``text`` column, an item with two different texts or a span past its
    text's end raises ``QualityError``.

    >>> import polars as pl
    >>> frame = pl.DataFrame({
    ...     "item": [1, 1],
    ...     "annotator": ["ann", "bob"],
    ...     "text": ["Ada met Bob Smith"] * 2,
    ...     "value": [
    ...         [{"start": 0, "end": 3, "label": "PER"}, {"start": 8, "end": 17, "label": "PER"}],
    ...         [{"start": 0, "end": 3, "label": "PER"}, {"start": 8, "end": 11, "label": "PER"}],
    ...     ],
    ... })
    >>> table = span_agreement(frame).filter(pl.col("label").is_null())
    >>> table.select("match", "matched", "n_a", "n_b", "f1").rows()
    [('exact', 1, 2, 2, 0.5), ('overlap', 2, 2, 2, 1.0), ('token', 2, 3, 2, 0.8)]
    """
    df = to_polars(frame)
    require_columns(df, {"item": item, "annotator": annotator, "value": value})
    require_no_nulls(df, {"item": item, "annotator": annotator})
    if not callable(tokens) and tokens not in ("whitespace", "chars"):
        msg = f"tokens={tokens!r} is not a tokenizer; use 'whitespace', 'chars' or a function"
        raise QualityError(msg)
    texts: dict[Any, str] | None = None
    if text in df.columns:
        texts = item_texts(df, item, text)
    elif tokens != "chars":
        have = ", ".join(repr(c) for c in df.columns)
        msg = (
            f"span_agreement(tokens={tokens!r}) needs each item's text, but text={text!r} is not "
            f"a column of the frame ({have}). Name the text column with text=..., or pass "
            "tokens='chars' to count characters, which needs no text"
        )
        raise QualityError(msg)
    annotations = read_annotations(
        df, item=item, annotator=annotator, value=value, kind="spans", texts=texts
    )
    counts: dict[tuple[str, str | None], list[int]] = defaultdict(lambda: [0, 0, 0])
    pairs = 0
    for it, by_annotator in by_item(annotations, "span_agreement").items():
        names = sorted_names(by_annotator)
        if len(names) < 2:
            continue
        bounds = None if texts is None or tokens == "chars" else _token_bounds(texts, it, tokens)
        for first, second in combinations(names, 2):
            pairs += 1
            _compare(by_annotator[first], by_annotator[second], bounds, counts)
    return _table(counts, pairs)


def _compare(
    a: list[SpanKey],
    b: list[SpanKey],
    bounds: tuple[list[int], list[int]] | None,
    counts: dict[tuple[str, str | None], list[int]],
) -> None:
    """Add one pair's matched, n_a, n_b to each (match, label) and (match, overall) count."""
    labels = {s[2] for s in a} | {s[2] for s in b}
    for label in labels:
        mine = [(s, e) for s, e, lab in a if lab == label]
        theirs = [(s, e) for s, e, lab in b if lab == label]
        units_a = merged(_token_ranges(mine, bounds))
        units_b = merged(_token_ranges(theirs, bounds))
        found = {
            "exact": (len(set(mine) & set(theirs)), len(mine), len(theirs)),
            "overlap": (overlap_matches(mine, theirs), len(mine), len(theirs)),
            "token": (shared(units_a, units_b), covered(units_a), covered(units_b)),
        }
        for match, numbers in found.items():
            for key in ((match, label), (match, None)):
                tally = counts[key]
                for index, number in enumerate(numbers):
                    tally[index] += number


def _token_bounds(
    texts: dict[Any, str], it: Any, tokens: str | Tokenizer
) -> tuple[list[int], list[int]]:
    """Starts and ends of the item's tokens, in order."""
    body = texts.get(it)
    if body is None:
        msg = f"item {it!r} has no text in the text column; token F1 needs it (or tokens='chars')"
        raise QualityError(msg)
    if tokens == "whitespace":
        found = [(m.start(), m.end()) for m in _WORD.finditer(body)]
    else:
        assert callable(tokens)
        found = sorted((int(s), int(e)) for s, e in tokens(body))
    return [s for s, _ in found], [e for _, e in found]


def _token_ranges(
    spans: Sequence[Interval], bounds: tuple[list[int], list[int]] | None
) -> list[Interval]:
    """Spans as ranges of token indices (of code points when there are no tokens)."""
    if bounds is None:
        return list(spans)
    starts, ends = bounds
    ranges = []
    for start, end in spans:
        first = bisect.bisect_right(ends, start)  # the first token ending after the span starts
        stop = bisect.bisect_left(starts, end)  # past the last token starting before it ends
        if first < stop:
            ranges.append((first, stop))
    return ranges


def _table(counts: dict[tuple[str, str | None], list[int]], pairs: int) -> pl.DataFrame:
    rows: list[dict[str, Any]] = []
    labels = sorted({label for _, label in counts if label is not None})
    for match in MATCHES:
        for label in [None, *labels]:
            matched, n_a, n_b = counts.get((match, label), [0, 0, 0])
            rows.append(score_row(match, label, pairs=pairs, matched=matched, n_a=n_a, n_b=n_b))
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def score_row(
    match: str, label: str | None, *, pairs: int, matched: int, n_a: int, n_b: int
) -> dict[str, Any]:
    """One row of counts with precision, recall and F1, NaN (with a reason) when undefined."""
    nan = float("nan")
    reason = NO_PAIRS if pairs == 0 else NO_SPANS if n_a + n_b == 0 else None
    return {
        "match": match,
        "label": label,
        "pairs": pairs,
        "matched": matched,
        "n_a": n_a,
        "n_b": n_b,
        "precision": matched / n_b if n_b else nan,
        "recall": matched / n_a if n_a else nan,
        "f1": 2 * matched / (n_a + n_b) if n_a + n_b else nan,
        "reason": reason,
    }
