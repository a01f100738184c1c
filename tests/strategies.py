"""Hypothesis strategies for annolab payloads and label schemas, shared by the test tiers.

``valid_payloads(text=..., labels=..., image_size=...)`` draws payloads that pass
``validate_payload`` with that same context; ``payloads_with_context()`` draws the context too.
``json_values()`` and ``payload_shaped_dicts()`` draw anything a JSON body could hold, for the
"nothing but ValidationError" property.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from annolab.schema import (
    MAX_SAFE_INT,
    PAYLOAD_KINDS,
    Box,
    BoxesPayload,
    ChoicePayload,
    ChoicesPayload,
    CorrectionPayload,
    ErrorSpan,
    ErrorsPayload,
    FormPayload,
    LabelSchema,
    PairwisePayload,
    Payload,
    RankingPayload,
    RatingPayload,
    RubricPayload,
    Span,
    SpansPayload,
    TextPayload,
)

__all__ = [
    "image_sizes",
    "json_values",
    "label_names",
    "label_schemas",
    "payload_shaped_dicts",
    "payloads_with_context",
    "storable_text",
    "valid_payloads",
]

# Everything Postgres text can hold: no NUL, and UTF-8 so no lone surrogates.
_STORABLE_CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
# Emoji with skin tone, CJK, a combining accent and the composed letter, so offsets get tested
# on code points that are two UTF-16 units or two code points for one visible character.
_TRICKY = st.sampled_from(["👋🏽", "東京", "e\u0301", "é", "🇯🇵", "\u200d", " ", "\n"])


def storable_text(*, min_size: int = 0, max_size: int = 60) -> st.SearchStrategy[str]:
    """Text Postgres can store, rich in emoji, CJK and combining marks."""
    pieces = st.lists(_TRICKY | st.text(_STORABLE_CHARS, max_size=8), max_size=max_size // 4)
    return (
        st.one_of(st.text(_STORABLE_CHARS, max_size=max_size), pieces.map("".join))
        .map(lambda text: text[:max_size])
        .filter(lambda text: len(text) >= min_size)
    )


def label_names() -> st.SearchStrategy[str]:
    """Names a LabelSchema accepts: non-empty, no surrounding whitespace, storable."""
    return st.text(_STORABLE_CHARS, min_size=1, max_size=12).filter(
        lambda name: name.strip() == name and name != ""
    )


_SCORES = st.none() | st.floats(min_value=0.0, max_value=1.0)
_VERDICTS = st.sampled_from(["a", "b", "tie", "both_bad"])


@st.composite
def label_schemas(draw: st.DrawFn, *, min_labels: int = 1, max_labels: int = 12) -> LabelSchema:
    """A label schema from distinct names, overlap allowed or not."""
    names = draw(st.lists(label_names(), min_size=min_labels, max_size=max_labels, unique=True))
    return LabelSchema.from_names(names, allow_overlap=draw(st.booleans()))


def image_sizes() -> st.SearchStrategy[tuple[int, int]]:
    """(width, height) of an image in natural pixels."""
    return st.tuples(st.integers(1, 10_000), st.integers(1, 10_000))


def _labels(labels: LabelSchema | None) -> st.SearchStrategy[str]:
    if labels is None:
        return st.text(_STORABLE_CHARS, min_size=1, max_size=12)
    return st.sampled_from(labels.names)


@st.composite
def _spans(draw: st.DrawFn, text: str | None, labels: LabelSchema | None) -> SpansPayload:
    label = _labels(labels)
    if labels is not None and not labels.names:
        return SpansPayload(spans=())
    limit = MAX_SAFE_INT if text is None else len(text)
    if limit == 0:
        return SpansPayload(spans=())
    if labels is not None and not labels.allow_overlap:
        # Distinct cut points taken in pairs give ranges that cannot overlap.
        cuts = draw(st.lists(st.integers(0, limit), unique=True, max_size=16))
        cuts = sorted(cuts)[: len(cuts) // 2 * 2]
        ranges = list(zip(cuts[::2], cuts[1::2], strict=True))
    else:
        starts = draw(st.lists(st.integers(0, limit - 1), max_size=8))
        ranges = [(s, draw(st.integers(s + 1, limit))) for s in starts]
    spans = {
        (start, end, name): Span(start=start, end=end, label=name, score=draw(_SCORES))
        for start, end in ranges
        for name in [draw(label)]
    }
    order = draw(st.permutations(list(spans.values())))
    return SpansPayload(spans=tuple(order))


@st.composite
def _box(draw: st.DrawFn, size: tuple[int, int] | None, label: st.SearchStrategy[str]) -> Box:
    if size is None:
        corner = st.floats(min_value=0.0, allow_infinity=False)
        extent = st.floats(min_value=0.0, exclude_min=True, allow_infinity=False)
        x, y, width, height = draw(corner), draw(corner), draw(extent), draw(extent)
    else:
        x = draw(st.floats(min_value=0.0, max_value=size[0], exclude_max=True))
        y = draw(st.floats(min_value=0.0, max_value=size[1], exclude_max=True))
        width = draw(st.floats(min_value=0.0, max_value=size[0] - x, exclude_min=True))
        height = draw(st.floats(min_value=0.0, max_value=size[1] - y, exclude_min=True))
        assume(x + width <= size[0] and y + height <= size[1])  # rounding can overshoot by an ulp
    return Box(x=x, y=y, width=width, height=height, label=draw(label), score=draw(_SCORES))


@st.composite
def _boxes(
    draw: st.DrawFn, size: tuple[int, int] | None, labels: LabelSchema | None
) -> BoxesPayload:
    if labels is not None and not labels.names:
        return BoxesPayload(boxes=())
    key = "x", "y", "width", "height", "label"
    boxes = draw(
        st.lists(
            _box(size, _labels(labels)),
            max_size=6,
            unique_by=lambda b: tuple(getattr(b, k) for k in key),
        )
    )
    return BoxesPayload(boxes=tuple(boxes))


@st.composite
def _rating(draw: st.DrawFn) -> RatingPayload:
    low = draw(st.integers(-MAX_SAFE_INT, MAX_SAFE_INT - 1) | st.sampled_from([0, 1]))
    high = draw(st.integers(low + 1, MAX_SAFE_INT) | st.just(low + 1))
    return RatingPayload(value=draw(st.integers(low, high)), min=low, max=high)


def valid_payloads(
    *,
    text: str | None = None,
    labels: LabelSchema | None = None,
    image_size: tuple[int, int] | None = None,
    kinds: Iterable[str] | None = None,
) -> st.SearchStrategy[Payload]:
    """Payloads that ``validate_payload(p.to_dict(), text=, labels=, image_size=)`` accepts.

    >>> from hypothesis import given
    >>> @given(valid_payloads(text="Ada met Bob", kinds=["spans"]))
    ... def test(payload): ...
    """
    label = _labels(labels)
    no_labels = labels is not None and not labels.names
    by_kind: dict[str, st.SearchStrategy[Any]] = {
        "spans": _spans(text, labels),
        "choice": st.nothing()
        if no_labels
        else st.builds(ChoicePayload, label=label, score=_SCORES),
        "choices": st.lists(label, unique=True, max_size=6).map(
            lambda names: ChoicesPayload(labels=tuple(names))
        ),
        "boxes": _boxes(image_size, labels),
        "rating": _rating(),
        "text": storable_text(max_size=200).map(lambda t: TextPayload(text=t)),
        "pairwise": st.builds(
            PairwisePayload,
            choice=_VERDICTS,
            rationale=storable_text(max_size=60),
            criteria=st.dictionaries(label_names(), _VERDICTS, max_size=3),
        ),
        "ranking": st.lists(label_names(), min_size=1, max_size=6, unique=True).map(
            lambda order: RankingPayload(order=tuple(order))
        ),
        "rubric": st.builds(
            RubricPayload,
            scores=st.dictionaries(label_names(), st.integers(1, 10), max_size=4),
            comment=storable_text(max_size=60),
        ),
        "errors": _spans(text, labels).map(
            lambda found: ErrorsPayload(spans=tuple(ErrorSpan(**s.to_dict()) for s in found.spans))
        ),
        "correction": storable_text(max_size=200).map(lambda t: CorrectionPayload(text=t)),
    }
    # A form holds one answer per question; labels and text are the layout's to check, so any
    # answer of another kind is a valid member whatever the context.
    answers = st.one_of(list(by_kind.values()))
    by_kind["form"] = st.dictionaries(
        st.sampled_from(["entities", "confidence", "notes"]), answers, max_size=3
    ).map(lambda found: FormPayload(answers=found))
    chosen = list(PAYLOAD_KINDS) if kinds is None else list(kinds)
    return st.one_of([by_kind[kind] for kind in chosen])


@st.composite
def payloads_with_context(draw: st.DrawFn) -> tuple[Payload, dict[str, Any]]:
    """A valid payload and the ``validate_payload`` keyword arguments it was made for."""
    context: dict[str, Any] = {
        "text": draw(st.none() | storable_text(max_size=120)),
        "labels": draw(st.none() | label_schemas()),
        "image_size": draw(st.none() | image_sizes()),
    }
    return draw(valid_payloads(**context)), context


def json_values(*, with_bad_text: bool = True) -> st.SearchStrategy[Any]:
    """Anything JSON could hold (and Python floats JSON cannot: NaN, inf), nested.

    With ``with_bad_text`` the strings include NUL and lone surrogates.
    """
    chars = _STORABLE_CHARS
    if with_bad_text:
        bad = st.sampled_from(["\x00", "\ud800", "\udfff", "\udc80"])
        chars = st.characters(exclude_categories=()) | bad
    strings = st.text(chars, max_size=10) | st.sampled_from(list(PAYLOAD_KINDS))
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers() | st.sampled_from([0, 1, -1, MAX_SAFE_INT, MAX_SAFE_INT + 1, 10**400]),
        st.floats(),
        strings,
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4),
        max_leaves=20,
    )


_FIELDS = sorted(
    {name for model in PAYLOAD_KINDS.values() for name in model.model_fields}
    | {name for model in (Span, Box) for name in model.model_fields}
)


@st.composite
def _item_dicts(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(_FIELDS), max_size=6, unique=True))
    return {name: draw(json_values()) for name in names}


@st.composite
def payload_shaped_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """Dicts that look like payloads: a real kind, real field names, random values.

    Half of them start from a valid payload and break one thing (drop, add or change a field).
    """
    if draw(st.booleans()):
        data: dict[str, Any] = {"kind": draw(st.sampled_from(list(PAYLOAD_KINDS)))}
        data.update(draw(_item_dicts()))
        for name in ("spans", "boxes", "labels"):
            if name in data and draw(st.booleans()):
                data[name] = draw(st.lists(_item_dicts() | json_values(), max_size=4))
        return data
    data = draw(valid_payloads()).to_dict()
    items = [value for value in data.values() if isinstance(value, list) and value]
    target = draw(st.sampled_from([data, *[item for v in items for item in v]]))
    if not isinstance(target, dict):
        return data
    field = draw(st.sampled_from([*target, *_FIELDS]))
    action = draw(st.sampled_from(["drop", "set"]))
    if action == "drop":
        target.pop(field, None)
    else:
        target[field] = draw(json_values())
    return data
