"""The answer of a scalar agreement metric: a number, what it was computed on, and why not."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["AgreementResult"]


@dataclass(frozen=True, repr=False)
class AgreementResult:
    """One agreement figure and what it stands on.

    ``value`` is NaN when the metric is undefined for the data, and ``reason`` then says why
    (it is None whenever ``value`` is a number). ``n_items`` counts the items that entered the
    computation (for most metrics: items with at least two values), ``n_annotators`` the distinct
    annotators with at least one value. ``ci`` is a bootstrap confidence interval when one was
    asked for. ``float(result)`` gives the value.

    >>> result = AgreementResult(0.8125, n_items=12, n_annotators=3)
    >>> float(result)
    0.8125
    >>> result
    AgreementResult(value=0.8125, n_items=12, n_annotators=3)
    >>> AgreementResult(float("nan"), n_items=0, n_annotators=1, reason="no item has two values")
    AgreementResult(value=nan, n_items=0, n_annotators=1, reason='no item has two values')
    """

    value: float
    n_items: int
    n_annotators: int
    reason: str | None = None
    ci: tuple[float, float] | None = None

    def __float__(self) -> float:
        return self.value

    @property
    def defined(self) -> bool:
        """Whether ``value`` is a number (False when it is NaN and ``reason`` says why)."""
        return not math.isnan(self.value)

    def __repr__(self) -> str:
        parts = [
            f"value={_short(self.value)}",
            f"n_items={self.n_items}",
            f"n_annotators={self.n_annotators}",
        ]
        if self.ci is not None:
            parts.append(f"ci=({_short(self.ci[0])}, {_short(self.ci[1])})")
        if self.reason is not None:
            parts.append(f"reason={self.reason!r}")
        return f"AgreementResult({', '.join(parts)})"


def _short(number: float) -> str:
    """Four decimals are what anyone reads off an agreement figure; ``value`` keeps them all."""
    return "nan" if math.isnan(number) else f"{number:.4f}".rstrip("0").rstrip(".")
