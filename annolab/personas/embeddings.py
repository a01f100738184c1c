"""Embeddings of tasks and persona examples: made in batches, stored in pgvector, searched by HNSW.

An ``Embedder`` (``annolab.personas.embedders``) turns texts into vectors. Vectors are stored
per (owner, model) with a hash of the text, so embedding a project again only embeds what is
new or changed, and a text that some owner already has a vector for is copied, not sent to the
model again.

    >>> proj.embed(OllamaEmbedder("all-minilm"))  # doctest: +SKIP
    <EmbedReport 1000 embedded, 0 reused, 0 unchanged>
    >>> proj.similar("a storm hit the coast", k=5)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import sqlalchemy as sa

from annolab.errors import ValidationError
from annolab.personas.embedders import (
    DEFAULT_MODEL,
    Embedder,
    OllamaEmbedder,
    SentenceTransformerEmbedder,
    as_embedder,
    checked_vectors,
)
from annolab.store import vectors
from annolab.store.tasks import task_lookup
from annolab.store.vectors import FloatArray, VectorBatch, content_hash

if TYPE_CHECKING:
    from annolab.project import Project

__all__ = [
    "EmbedReport",
    "Embedder",
    "OllamaEmbedder",
    "SentenceTransformerEmbedder",
    "choose_personas",
    "embed_examples",
    "embed_tasks",
    "near_duplicates",
    "similar",
    "similar_examples",
]

BATCH_SIZE = 256  # texts per model call and per transaction: a crash loses at most one batch
DUPLICATE_NEIGHBOURS = 10

SIMILAR_SCHEMA = {
    "task_id": pl.Int64,
    "external_id": pl.String,
    "text": pl.String,
    "similarity": pl.Float64,
}
DUPLICATE_SCHEMA = {
    "external_id_a": pl.String,
    "external_id_b": pl.String,
    "text_a": pl.String,
    "text_b": pl.String,
    "similarity": pl.Float64,
}


@dataclass(frozen=True)
class EmbedReport:
    """What an embedding run did: texts sent to the model, vectors reused, owners skipped."""

    embedded: int
    reused: int
    unchanged: int

    def __repr__(self) -> str:
        return (
            f"<EmbedReport {self.embedded} embedded, {self.reused} reused, "
            f"{self.unchanged} unchanged>"
        )


def _vectors_for(
    engine: sa.Engine, embedder: Embedder, texts: Sequence[str], hashes: Sequence[str]
) -> tuple[FloatArray, int]:
    """Vectors for ``texts``, reusing stored ones of equal hash; returns (vectors, embedded)."""
    with engine.begin() as conn:
        dimension = vectors.model_dimension(conn, embedder.model)
        known = vectors.stored_by_hash(conn, embedder.model, sorted(set(hashes)))
    missing: dict[str, str] = {}
    for text, digest in zip(texts, hashes, strict=True):
        if digest not in known:
            missing.setdefault(digest, text)
    if missing:
        made = checked_vectors(embedder, list(missing.values()), dimension)
        known.update(zip(missing, made, strict=True))
    return np.stack([known[h] for h in hashes]), len(missing)


def _write(engine: sa.Engine, batch: VectorBatch) -> None:
    with engine.begin() as conn:
        vectors.register_model(conn, batch.model, int(batch.vectors.shape[1]))
        vectors.write_embeddings(conn, batch)


def embed_tasks(
    project: Project, embedder: Embedder | str = DEFAULT_MODEL, *, batch_size: int = BATCH_SIZE
) -> EmbedReport:
    """Embed the project's task texts that have no vector of this model yet, or changed.

    Each batch commits on its own, so an interrupted run resumes where it stopped.

    >>> embed_tasks(proj, SentenceTransformerEmbedder())  # doctest: +SKIP
    <EmbedReport 1000 embedded, 0 reused, 0 unchanged>
    """
    embedder = as_embedder(embedder)
    engine = project.workspace.engine
    after, embedded, done = 0, 0, 0
    while True:
        with engine.begin() as conn:
            rows = vectors.tasks_to_embed(
                conn, project_id=project.id, model=embedder.model, after_id=after, limit=batch_size
            )
        if not rows:
            break
        ids, texts, hashes = zip(*rows, strict=True)
        found, made = _vectors_for(engine, embedder, texts, hashes)
        _write(
            engine,
            VectorBatch(
                vectors.TASK, ids, [0] * len(ids), project.id, embedder.model, found, hashes
            ),
        )
        embedded, done, after = embedded + made, done + len(ids), ids[-1]
    with engine.begin() as conn:
        total = vectors.count_task_texts(conn, project.id)
    return EmbedReport(embedded=embedded, reused=done - embedded, unchanged=total - done)


def embed_examples(
    engine: sa.Engine,
    persona_version_id: int,
    texts: Sequence[str],
    embedder: Embedder | str = DEFAULT_MODEL,
) -> EmbedReport:
    """Embed a persona version's example inputs; ``texts[i]`` is stored as part ``i``.

    A new version whose examples are unchanged costs no model call: equal texts are reused.
    """
    embedder = as_embedder(embedder)
    if not texts:
        return EmbedReport(0, 0, 0)
    hashes = [content_hash(t) for t in texts]
    with engine.begin() as conn:
        have = vectors.stored_parts(conn, vectors.EXAMPLE, persona_version_id, embedder.model)
    todo = [i for i, h in enumerate(hashes) if have.get(i) != h]
    if not todo:
        return EmbedReport(0, 0, len(texts))
    found, made = _vectors_for(
        engine, embedder, [texts[i] for i in todo], [hashes[i] for i in todo]
    )
    batch = VectorBatch(
        vectors.EXAMPLE,
        [persona_version_id] * len(todo),
        todo,
        None,
        embedder.model,
        found,
        [hashes[i] for i in todo],
    )
    _write(engine, batch)
    return EmbedReport(embedded=made, reused=len(todo) - made, unchanged=len(texts) - len(todo))


def _query_vector(
    engine: sa.Engine,
    embedder: Embedder,
    *,
    text: str | None,
    vector: Sequence[float] | FloatArray | None,
    task_id: int | None,
) -> FloatArray:
    named = (("text", text), ("vector", vector), ("task", task_id))
    given = [name for name, value in named if value is not None]
    if len(given) != 1:
        raise ValidationError("query", given or None, "give exactly one of text, task or vector")
    if text is not None:
        return np.asarray(checked_vectors(embedder, [text], None)[0], dtype=np.float32)
    if vector is not None:
        return np.asarray(vector, dtype=np.float32)
    assert task_id is not None
    with engine.begin() as conn:
        found = vectors.stored_vector(
            conn, owner_kind=vectors.TASK, owner_id=task_id, model=embedder.model
        )
    if found is None:
        raise ValidationError(
            "task", task_id, f"has no embedding of model {embedder.model!r}: run project.embed()"
        )
    return found


def _dimension(conn: sa.Connection, model: str, where: str) -> int:
    dimension = vectors.model_dimension(conn, model)
    if dimension is None:
        raise ValidationError(
            "model", model, f"has no stored embeddings: embed {where} with it first"
        )
    return dimension


def similar(
    project: Project,
    text: str | None = None,
    *,
    task: str | None = None,
    vector: Sequence[float] | FloatArray | None = None,
    k: int = 10,
    embedder: Embedder | str = DEFAULT_MODEL,
) -> pl.DataFrame:
    """The ``k`` tasks closest by cosine to a text, to a task (by external id) or to a vector.

    Columns ``task_id, external_id, text, similarity``, most similar first; a task is never its
    own neighbour.

    >>> similar(proj, "flooding in the north", k=3)  # doctest: +SKIP
    """
    embedder = as_embedder(embedder)
    engine = project.workspace.engine
    task_id = None
    if task is not None:
        with engine.begin() as conn:
            task_id = _task_id(conn, project, task)
    query = _query_vector(engine, embedder, text=text, vector=vector, task_id=task_id)
    with engine.begin() as conn:
        dimension = _dimension(conn, embedder.model, f"project {project.name!r}")
        found = vectors.nearest(
            conn,
            query,
            model=embedder.model,
            dimension=dimension,
            owner_kind=vectors.TASK,
            k=k,
            project_id=project.id,
            exclude_owner=task_id,
        )
        texts = vectors.task_texts(conn, [n.owner_id for n in found])
    rows = [(n.owner_id, *texts[n.owner_id], n.similarity) for n in found]
    return pl.DataFrame(rows, schema=SIMILAR_SCHEMA, orient="row")


def near_duplicates(
    project: Project,
    *,
    threshold: float = 0.95,
    embedder: Embedder | str = DEFAULT_MODEL,
    neighbours: int = DUPLICATE_NEIGHBOURS,
) -> pl.DataFrame:
    """Pairs of tasks whose texts' cosine similarity is at least ``threshold``.

    Each task's ``neighbours`` nearest are checked through the index, so a group of more than
    ``neighbours + 1`` copies of one text is reported only partly: raise it for such data.

    >>> near_duplicates(proj, threshold=0.98)  # doctest: +SKIP
    """
    if not -1.0 <= threshold <= 1.0:
        raise ValidationError("threshold", threshold, "must be a cosine similarity in [-1, 1]")
    model = as_embedder(embedder).model
    with project.workspace.engine.begin() as conn:
        dimension = _dimension(conn, model, f"project {project.name!r}")
        pairs = vectors.near_duplicate_pairs(
            conn,
            project_id=project.id,
            model=model,
            dimension=dimension,
            threshold=threshold,
            k=neighbours,
        )
        texts = vectors.task_texts(conn, sorted({i for a, b, _ in pairs for i in (a, b)}))
    rows = [(texts[a][0], texts[b][0], texts[a][1], texts[b][1], s) for a, b, s in pairs]
    return pl.DataFrame(rows, schema=DUPLICATE_SCHEMA, orient="row")


def similar_examples(
    engine: sa.Engine,
    text: str | None = None,
    *,
    vector: Sequence[float] | FloatArray | None = None,
    persona_version_ids: Sequence[int] | None = None,
    k: int = 3,
    embedder: Embedder | str = DEFAULT_MODEL,
) -> list[vectors.Neighbour]:
    """The stored examples closest to a text or vector, for few-shot prompts.

    Each ``Neighbour`` names a persona version (``owner_id``) and the example's position
    (``part``); ``persona_version_ids`` limits the search to those versions.
    """
    embedder = as_embedder(embedder)
    query = _query_vector(engine, embedder, text=text, vector=vector, task_id=None)
    with engine.begin() as conn:
        dimension = _dimension(conn, embedder.model, "the persona examples")
        return vectors.nearest(
            conn,
            query,
            model=embedder.model,
            dimension=dimension,
            owner_kind=vectors.EXAMPLE,
            k=k,
            owner_ids=persona_version_ids,
        )


def choose_personas(
    task: str | Sequence[float] | FloatArray,
    candidates: Mapping[str, Sequence[str] | FloatArray],
    *,
    embedder: Embedder | str = DEFAULT_MODEL,
    k: int | None = None,
) -> pl.DataFrame:
    """Rank candidate personas by how close their examples are to a task.

    ``task`` is a text or its vector; each candidate is a list of example texts or an array of
    example vectors (one per row). A persona's ``similarity`` is the mean cosine similarity of
    the task to its examples, ``best`` the highest one, ``best_example`` that example's
    position. Returns the ``k`` best (all by default), best first.

    >>> choose_personas("chest pain, ECG normal", {  # doctest: +SKIP
    ...     "clinician": ["fever and cough"], "lawyer": ["breach of contract"]})
    """
    model = as_embedder(embedder)
    query = _unit(
        model.embed([task])[0] if isinstance(task, str) else np.asarray(task, dtype=np.float32)
    )
    rows = []
    for name, examples in candidates.items():
        if len(examples) == 0:
            raise ValidationError(f"candidates[{name!r}]", [], "needs at least one example")
        if isinstance(examples, np.ndarray):
            matrix = np.atleast_2d(np.asarray(examples, dtype=np.float32))
        else:
            matrix = checked_vectors(model, [str(e) for e in examples], None)
        if matrix.shape[1] != query.shape[0]:
            raise ValidationError(
                f"candidates[{name!r}] dimension",
                matrix.shape[1],
                f"must be {query.shape[0]}, the dimension of the task's vector",
            )
        scores = _unit(matrix) @ query
        best = int(np.argmax(scores))
        rows.append((name, float(scores.mean()), float(scores[best]), best))
    frame = pl.DataFrame(
        rows,
        schema={
            "persona": pl.String,
            "similarity": pl.Float64,
            "best": pl.Float64,
            "best_example": pl.Int64,
        },
        orient="row",
    ).sort(["similarity", "best", "persona"], descending=[True, True, False])
    return frame if k is None else frame.head(k)


def _unit(matrix: FloatArray) -> FloatArray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    if (norms == 0).any():
        raise ValidationError("vector", "all zeros", "has no direction to compare by cosine")
    return np.asarray(matrix / norms, dtype=np.float32)


def _task_id(conn: sa.Connection, project: Project, external_id: str) -> int:
    found = task_lookup(conn, project.id, [str(external_id)])
    if str(external_id) not in found:
        raise ValidationError("task", external_id, f"is not a task of project {project.name!r}")
    return int(found[str(external_id)][0])
