"""What one ``persona.annotate`` run did, per item and in total."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

RESULT_SCHEMA: dict[str, Any] = {
    "item": pl.String,
    "payload": pl.String,  # JSON, as in project.annotations()
    "cached": pl.Boolean,
    "attempts": pl.Int32,
    "error": pl.String,
    "prompt_tokens": pl.Int64,
    "completion_tokens": pl.Int64,
}


@dataclass(frozen=True)
class Outcome:
    """One item's result: a payload, or an error with the last raw answer."""

    item: str
    task_id: int | None
    input_hash: str
    payload: dict[str, Any] | None = None
    response: str | None = None  # the raw answer (the last one, for a failure)
    error: str | None = None
    cached: bool = False
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.payload is not None


@dataclass(frozen=True)
class RunSummary:
    """The closing summary of a run: ``done`` (answered now), ``cached``, ``failed``, tokens
    spent and seconds taken; ``results`` has one row per item."""

    persona: str
    version: int
    model: str
    done: int
    cached: int
    failed: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    results: pl.DataFrame

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @classmethod
    def of(
        cls, outcomes: Sequence[Outcome], *, persona: str, version: int, model: str, seconds: float
    ) -> RunSummary:
        import json

        rows = [
            {
                "item": o.item,
                # Sorted keys: an answer read back from JSONB (the cache) has its keys reordered.
                "payload": None if o.payload is None else json.dumps(o.payload, sort_keys=True),
                "cached": o.cached,
                "attempts": o.attempts,
                "error": o.error,
                "prompt_tokens": o.prompt_tokens,
                "completion_tokens": o.completion_tokens,
            }
            for o in outcomes
        ]
        live = [o for o in outcomes if not o.cached]
        return cls(
            persona=persona,
            version=version,
            model=model,
            done=sum(1 for o in live if o.ok),
            cached=sum(1 for o in outcomes if o.cached),
            failed=sum(1 for o in outcomes if not o.ok),
            prompt_tokens=sum(o.prompt_tokens for o in live),
            completion_tokens=sum(o.completion_tokens for o in live),
            seconds=seconds,
            results=pl.DataFrame(rows, schema=RESULT_SCHEMA),
        )

    def __repr__(self) -> str:
        total = self.done + self.cached + self.failed
        return (
            f"<RunSummary {self.persona!r} v{self.version} ({self.model}): {total} items, "
            f"{self.done} done, {self.cached} cached, {self.failed} failed; "
            f"{self.tokens:,} tokens; {self.seconds:.1f} s>"
        )
