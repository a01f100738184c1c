"""A character diff of two texts, for showing a person's correction against a model's answer.

>>> char_diff("capital of Spain.", "capital of France.")
[('=', 'capital of '), ('-', 'Spain'), ('+', 'France'), ('=', '.')]
"""

from __future__ import annotations

import difflib
from typing import Literal

__all__ = ["DiffOp", "char_diff", "diff_counts"]

DiffOp = Literal["=", "+", "-"]


def char_diff(a: str, b: str) -> list[tuple[DiffOp, str]]:
    """The edits that turn ``a`` into ``b`` as runs ``(op, text)``: ``=`` kept, ``-`` deleted,
    ``+`` inserted. Joining the ``=`` and ``+`` runs gives ``b``; the ``=`` and ``-`` runs give
    ``a``. Each replacement is its deletion then its insertion; neighbouring runs never share
    an op. As in the widget's diff, a kept run of one or two characters (not spaces) between
    two changes joins them, so "Spain" -> "France" reads as one word replaced rather than the
    "a" and "n" kept.
    """
    # autojunk would treat characters frequent in a long text (spaces, "e") as junk and
    # leave them unmatched: a worse diff for prose.
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    runs: list[tuple[DiffOp, str]] = []

    def push(op: DiffOp, text: str) -> None:
        if not text:
            return
        if runs and runs[-1][0] == op:
            runs[-1] = (op, runs[-1][1] + text)
        else:
            runs.append((op, text))

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            push("=", a[i1:i2])
        else:
            push("-", a[i1:i2])
            push("+", b[j1:j2])
    return _absorb_short_equalities(runs)


def _absorb_short_equalities(runs: list[tuple[DiffOp, str]]) -> list[tuple[DiffOp, str]]:
    out: list[tuple[DiffOp, str]] = []
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        for op, parts in (("-", removed), ("+", added)):
            if parts:
                out.append((op, "".join(parts)))  # type: ignore[arg-type]
        removed.clear()
        added.clear()

    for i, (op, text) in enumerate(runs):
        if op == "-":
            removed.append(text)
        elif op == "+":
            added.append(text)
        elif 0 < i < len(runs) - 1 and len(text) <= 2 and not any(c.isspace() for c in text):
            removed.append(text)
            added.append(text)
        else:
            flush()
            out.append(("=", text))
    flush()
    return out


def diff_counts(a: str, b: str) -> tuple[int, int]:
    """How many characters ``b`` inserts into ``a`` and deletes from it.

    >>> diff_counts("capital of Spain.", "capital of France.")
    (6, 5)
    """
    runs = char_diff(a, b)
    return (
        sum(len(t) for op, t in runs if op == "+"),
        sum(len(t) for op, t in runs if op == "-"),
    )
