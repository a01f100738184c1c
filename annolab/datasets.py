"""Real data to learn and test with: WNUT 2017 noisy-text NER (CC-BY 4.0, see data/README.md)."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import polars as pl

WNUT17_LABELS = ("person", "location", "group", "creative-work", "corporation", "product")


def read_conll(path: str | Path) -> Iterator[tuple[str, list[dict[str, object]]]]:
    """Yield ``(text, spans)`` per document of a CoNLL file of ``token<TAB>BIO-tag`` lines.

    The text is the tokens joined by single spaces; span offsets are code points of that text.
    """
    with Path(path).open(encoding="utf-8") as handle:
        tokens: list[tuple[str, str]] = []
        for raw in handle:
            line = raw.rstrip("\n")
            if line.strip():
                token, _, tag = line.partition("\t")
                tokens.append((token, tag.strip() or "O"))
            elif tokens:
                yield _document(tokens)
                tokens = []
        if tokens:
            yield _document(tokens)


def _document(tokens: list[tuple[str, str]]) -> tuple[str, list[dict[str, object]]]:
    parts: list[str] = []
    spans: list[dict[str, object]] = []
    position = 0
    for token, tag in tokens:
        if parts:
            position += 1  # the joining space
        start, end = position, position + len(token)
        kind, _, label = tag.partition("-")
        if kind == "I" and spans and spans[-1]["label"] == label and spans[-1]["end"] == start - 1:
            spans[-1]["end"] = end
        elif kind in {"B", "I"}:  # an I- with no B- before it still starts an entity
            spans.append({"start": start, "end": end, "label": label})
        parts.append(token)
        position = end
    return " ".join(parts), spans


def wnut17() -> pl.DataFrame:
    """The WNUT 2017 development set: ``id``, ``text`` and its gold ``spans``.

    >>> docs = wnut17()
    >>> docs.height, docs.columns
    (1009, ['id', 'text', 'spans'])
    """
    path = Path(str(files("annolab") / "data" / "wnut17_dev.conll"))
    rows = [
        {"id": f"wnut17-dev-{i:04d}", "text": text, "spans": spans}
        for i, (text, spans) in enumerate(read_conll(path), start=1)
    ]
    span_type = pl.List(pl.Struct({"start": pl.Int64, "end": pl.Int64, "label": pl.String}))
    return pl.DataFrame(rows, schema={"id": pl.String, "text": pl.String, "spans": span_type})
