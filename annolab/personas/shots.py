"""Few-shot examples chosen by similarity: a persona with many worked examples shows each item
only the few closest to it.

The persona version's example inputs are embedded once into pgvector (``embed_examples``; an
unchanged example is never embedded again); each item's text is embedded with the same model
and its ``k`` nearest examples, closest first, go into that item's system prompt. The choice is
a function of the version, the embedding model, ``k`` and the text, so the answer cache stays
sound: ``tag`` goes into the run's prompt hash, the text is in the input hash.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import sqlalchemy as sa

from annolab.errors import ValidationError
from annolab.personas.embedders import Embedder, as_embedder, checked_vectors
from annolab.personas.embeddings import embed_examples, similar_examples
from annolab.personas.spec import Example


def example_text(example: Example) -> str:
    """What an example is searched by: its input, as the item's text would be."""
    return example.input if isinstance(example.input, str) else json.dumps(example.input)


@dataclass(frozen=True)
class Shots:
    """Builds each item's system prompt from its ``k`` most similar examples."""

    k: int
    tag: str
    prompts_for: Callable[[Sequence[str]], list[str]]


def few_shots(
    engine: sa.Engine,
    *,
    version_id: int,
    examples: Sequence[Example],
    k: int,
    embedder: Embedder | str,
    prompt_with: Callable[[list[Example]], str],
) -> Shots:
    """``Shots`` for a persona version; ``prompt_with(examples)`` renders its system prompt."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValidationError("shots", k, "must be a whole number, 1 or more, or None for all")
    if not examples:
        raise ValidationError("shots", k, "needs a persona with examples to choose from")
    model = as_embedder(embedder)
    embed_examples(engine, version_id, [example_text(e) for e in examples], model)

    def prompts_for(texts: Sequence[str]) -> list[str]:
        if not texts:
            return []
        vectors = checked_vectors(model, list(texts), None)
        prompts = []
        for vector in vectors:
            nearest = similar_examples(
                engine,
                vector=np.asarray(vector),
                persona_version_ids=[version_id],
                k=k,
                embedder=model,
            )
            prompts.append(prompt_with([examples[n.part] for n in nearest]))
        return prompts

    return Shots(k=k, tag=f"shots={k};embedder={model.model}", prompts_for=prompts_for)


def rank_personas(
    engine: sa.Engine,
    task: str,
    personas: Sequence[tuple[str, int, Sequence[Example]]],
    *,
    embedder: Embedder | str,
) -> pl.DataFrame:
    """Rank ``(name, version id, examples)`` by how close their examples are to ``task``.

    Every example is embedded into pgvector (once: unchanged ones are not asked again), then
    one similarity search over all their examples scores each persona by the mean similarity
    of its examples to the task (``best``: its closest example's).
    """
    model = as_embedder(embedder)
    named = [(name, vid, examples) for name, vid, examples in personas if examples]
    for _, vid, examples in named:
        embed_examples(engine, vid, [example_text(e) for e in examples], model)
    total = sum(len(examples) for _, _, examples in named)
    found = (
        similar_examples(
            engine, task, persona_version_ids=[vid for _, vid, _ in named], k=total, embedder=model
        )
        if named
        else []
    )
    scores: dict[int, list[float]] = {}
    for n in found:
        scores.setdefault(n.owner_id, []).append(n.similarity)
    rows = [
        (name, float(np.mean(scores[vid])), max(scores[vid]), len(examples))
        for name, vid, examples in named
        if vid in scores
    ]
    schema = {
        "persona": pl.String,
        "similarity": pl.Float64,
        "best": pl.Float64,
        "examples": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row").sort(
        ["similarity", "best", "persona"], descending=[True, True, False]
    )
