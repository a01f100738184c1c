"""Tokens and tag sequences: the bridge between character spans and token-level formats.

Annotations are character spans of a task's text (Python code points). CoNLL, spaCy and
Hugging Face token classification speak of tokens and per-token tags instead, so every one of
those formats goes through the three functions here:

- ``token_offsets`` finds each token's ``(start, end)`` in the text: the task's own tokens when
  it has them (a task imported from CoNLL keeps them in ``data["tokens"]``), else our tokenizer;
- ``tags_from_spans`` turns spans into BIO or BILOU tags, and reports every span it could not
  tag faithfully;
- ``spans_from_tags`` turns tags back into spans.

>>> text = "Ada met Bob"
>>> offsets = token_offsets(text)
>>> offsets
[(0, 3), (4, 7), (8, 11)]
>>> tags, problems = tags_from_spans([{"start": 8, "end": 11, "label": "PER"}], offsets)
>>> tags, problems
(['O', 'O', 'B-PER'], [])
>>> spans_from_tags(tags, offsets)
[{'start': 8, 'end': 11, 'label': 'PER'}]
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from annolab.errors import ValidationError

__all__ = ["SCHEMES", "TOKEN_PATTERN", "spans_from_tags", "tags_from_spans", "token_offsets"]

SCHEMES = ("BIO", "BILOU")

# What the tokenizer keeps together, tried in this order at each position (noisy text such as
# WNUT's tweets in mind):
# 1. a URL (http://, https:// or www.) up to the next space, less the punctuation that ends a
#    sentence after it ("see http://x.co/a." keeps the final "." apart);
# 2. an @mention or a #hashtag;
# 3. a number with decimal or thousands separators ("3.5", "1,000");
# 4. a word: letters, digits and underscores, with combining marks, and apostrophes or hyphens
#    inside it ("don't", "state-of-the-art"; a leading or trailing "'" or "-" stands alone);
# 5. a flag (two regional indicators) or an emoji with its modifiers (variation selectors, skin
#    tones) and zero-width-joined parts ("👩‍💻" is one token);
# 6. any other non-space character, alone.
_WORD = r"\w[\w\u0300-\u036f]*"
_EMOJI_TAIL = r"(?:[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\u20e3]|\u200d[^\s\w])*"
TOKEN_PATTERN = re.compile(
    r"(?:https?://|www\.)\S+?(?=[.,!?;:)\]\"']*(?:\s|$))"
    r"|[@#]\w+"
    r"|\d+(?:[.,]\d+)+"
    rf"|{_WORD}(?:['\u2019-]{_WORD})*"
    r"|[\U0001f1e6-\U0001f1ff]{2}"
    rf"|[^\s\w]{_EMOJI_TAIL}",
)


def token_offsets(text: str, tokens: Sequence[str] | None = None) -> list[tuple[int, int]]:
    """The ``(start, end)`` code point offsets of each token of ``text``.

    With ``tokens``, each is looked for in order from where the previous one ended, so the
    tokens may be separated by any text (CoNLL's are joined by single spaces). Without, the text
    is tokenized with ``TOKEN_PATTERN`` (see the comment above it).

    >>> token_offsets("@ann it's at http://x.co/a.")
    [(0, 4), (5, 9), (10, 12), (13, 26), (26, 27)]
    >>> token_offsets("New York", ["New", "York"])
    [(0, 3), (4, 8)]
    """
    if tokens is None:
        return [match.span() for match in TOKEN_PATTERN.finditer(text)]
    offsets: list[tuple[int, int]] = []
    position = 0
    for index, token in enumerate(tokens):
        if not token:
            raise ValidationError(f"tokens[{index}]", token, "must not be empty")
        start = text.find(token, position)
        if start < 0:
            rule = f"is not in the text after character {position}; tokens must appear in order"
            raise ValidationError(f"tokens[{index}]", token, rule)
        position = start + len(token)
        offsets.append((start, position))
    return offsets


def _check_scheme(scheme: str) -> None:
    if scheme not in SCHEMES:
        raise ValidationError("scheme", scheme, f"must be one of {', '.join(SCHEMES)}")


def tags_from_spans(
    spans: Iterable[Mapping[str, Any]],
    offsets: Sequence[tuple[int, int]],
    scheme: str = "BIO",
) -> tuple[list[str], list[dict[str, Any]]]:
    """Tag each token for ``spans``; also return the spans that could not be tagged faithfully.

    A span is tagged on every token it touches. Each span that is not tagged exactly as it is
    comes back in the second list, as its ``start``, ``end`` and ``label`` with ``problem`` and
    ``tokens`` (the ``[first, last)`` token indices it was tagged on, or would have been):

    - ``"misaligned"``: it does not start and end on token boundaries; it is still tagged, on
      the tokens it touches, so nothing is silently lost;
    - ``"overlap"``: it shares a token with a span already tagged (spans are taken by start,
      the longest first, then by label); one tag sequence cannot hold both, so it is not tagged;
    - ``"no token"``: it touches no token (it covers only spaces); not tagged, ``tokens`` None.

    >>> offsets = token_offsets("New York rocks")
    >>> tags_from_spans([{"start": 0, "end": 8, "label": "LOC"}], offsets, scheme="BILOU")
    (['B-LOC', 'L-LOC', 'O'], [])
    >>> tags, problems = tags_from_spans([{"start": 1, "end": 8, "label": "LOC"}], offsets)
    >>> tags, problems[0]["problem"], problems[0]["tokens"]
    (['B-LOC', 'I-LOC', 'O'], 'misaligned', (0, 2))
    """
    _check_scheme(scheme)
    tags = ["O"] * len(offsets)
    problems: list[dict[str, Any]] = []
    # Offsets are in order, so the tokens a span touches (end > span start, start < span end)
    # are found by bisection: long documents with many spans stay fast.
    starts = [start for start, _ in offsets]
    ends = [end for _, end in offsets]
    ordered = sorted(spans, key=lambda s: (int(s["start"]), -int(s["end"]), str(s["label"])))
    for span in ordered:
        start, end, label = int(span["start"]), int(span["end"]), str(span["label"])
        found = {"start": start, "end": end, "label": label}
        first, last = bisect_right(ends, start), bisect_left(starts, end)
        if first >= last:
            problems.append({**found, "problem": "no token", "tokens": None})
            continue
        if any(tags[i] != "O" for i in range(first, last)):
            problems.append({**found, "problem": "overlap", "tokens": (first, last)})
            continue
        if offsets[first][0] != start or offsets[last - 1][1] != end:
            problems.append({**found, "problem": "misaligned", "tokens": (first, last)})
        if scheme == "BILOU" and last - first == 1:
            tags[first] = f"U-{label}"
            continue
        tags[first] = f"B-{label}"
        for i in range(first + 1, last):
            tags[i] = f"I-{label}"
        if scheme == "BILOU":
            tags[last - 1] = f"L-{label}"
    return tags, problems


def spans_from_tags(
    tags: Sequence[str],
    offsets: Sequence[tuple[int, int]],
    scheme: str = "BIO",
) -> list[dict[str, Any]]:
    """The spans that BIO or BILOU ``tags`` of the tokens at ``offsets`` stand for.

    As CoNLL readers do, an ``I-`` (or BILOU's ``L-``) that does not continue an entity of its
    label starts one. A tag of another shape is refused, naming its position.

    >>> offsets = token_offsets("Ada met New York")
    >>> spans_from_tags(["U-PER", "O", "B-LOC", "L-LOC"], offsets, scheme="BILOU")
    [{'start': 0, 'end': 3, 'label': 'PER'}, {'start': 8, 'end': 16, 'label': 'LOC'}]
    """
    _check_scheme(scheme)
    if len(tags) != len(offsets):
        rule = f"must have one tag per token ({len(offsets)} tokens)"
        raise ValidationError("tags", f"{len(tags)} tags", rule)
    prefixes = "BI" if scheme == "BIO" else "BILU"
    spans: list[dict[str, Any]] = []
    open_label: str | None = None  # the label of the entity the previous token continues
    for index, tag in enumerate(tags):
        if tag == "O":
            open_label = None
            continue
        prefix, dash, label = tag.partition("-")
        if not dash or not label or prefix not in prefixes or len(prefix) != 1:
            allowed = ", ".join(f"{p}-label" for p in prefixes)
            rule = f"is not a {scheme} tag; tags are O or {allowed}"
            raise ValidationError(f"tags[{index}]", tag, rule)
        start, end = offsets[index]
        if prefix in "IL" and open_label == label:
            spans[-1]["end"] = end
        else:
            spans.append({"start": start, "end": end, "label": label})
        open_label = label if prefix in "BI" else None
    return spans
