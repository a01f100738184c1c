"""Embeddings in pgvector: writing them with binary COPY and searching them through HNSW.

Vectors of every model share the ``embeddings`` table in an unsized ``vector`` column; the
dimensions in ``tables.HNSW_DIMENSIONS`` have a partial expression index each. A search names
its dimension in the SQL text (``embedding::vector(384)`` and ``dimension = 384``), because
that is what lets Postgres match the query to the index: a bound parameter could not.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from pgvector.sqlalchemy import Vector

from annolab.errors import ValidationError
from annolab.store.frames import driver_connection

TASK = "task"
EXAMPLE = "example"
OWNER_KINDS = (TASK, EXAMPLE)

# Candidates the HNSW search keeps per query. On 1,000,000 clustered 384-dimension vectors
# (benchmarks/personas.py) with the migration's m=16, ef_construction=128, recall@10 was 0.99
# at 100 and 1.0 at 200, p95 under 10 ms either way; 200 keeps a margin for harder data. (With
# ef_construction=64 two builds gave only 0.91-0.94 at 100 and 0.93-0.96 at 200.)
EF_SEARCH = 200
MAX_K = 1000  # pgvector's largest hnsw.ef_search: more neighbours than that can not be found

_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)
_STAGE_COLUMNS = "owner_kind, owner_id, part, project_id, model, dimension, embedding, content_hash"

FloatArray = npt.NDArray[np.float32]


def content_hash(text: str) -> str:
    """The hash stored beside a vector; Postgres computes the same for task texts.

    >>> content_hash("Ada")[:12]
    '99a563ab2f6e'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VectorBatch:
    """Vectors of one model for one kind of owner, ready to be written."""

    owner_kind: str
    owner_ids: Sequence[int]
    parts: Sequence[int]
    project_id: int | None
    model: str
    vectors: FloatArray  # (rows, dimension)
    hashes: Sequence[str]


@dataclass(frozen=True)
class Neighbour:
    owner_id: int
    part: int
    similarity: float  # cosine similarity, 1 for the same direction


def model_dimension(conn: sa.Connection, model: str) -> int | None:
    """The dimension of ``model``'s stored vectors, or None before its first one."""
    found = conn.execute(
        sa.text("SELECT dimension FROM embedding_models WHERE model = :m"), {"m": model}
    ).scalar()
    return None if found is None else int(found)


def register_model(conn: sa.Connection, model: str, dimension: int) -> None:
    """Record ``model``'s dimension on first use; refuse a vector size it does not have."""
    conn.execute(
        sa.text(
            "INSERT INTO embedding_models (model, dimension) VALUES (:m, :d) "
            "ON CONFLICT (model) DO NOTHING"
        ),
        {"m": model, "d": dimension},
    )
    stored = model_dimension(conn, model)
    if stored != dimension:
        raise ValidationError(
            "embedding dimension",
            dimension,
            f"must be {stored}, the dimension of the vectors already stored for model "
            f"{model!r}; a model that changed size needs a new name",
        )


def check_dimension(vector: FloatArray, *, model: str, dimension: int) -> None:
    if vector.shape != (dimension,):
        raise ValidationError(
            "query vector dimension",
            vector.shape[-1] if vector.ndim else 0,
            f"must be {dimension}, the dimension of model {model!r}",
        )


def tasks_to_embed(
    conn: sa.Connection, *, project_id: int, model: str, after_id: int, limit: int
) -> list[tuple[int, str, str]]:
    """``(task id, text, hash)`` of tasks with no vector of ``model`` or a changed text.

    Hashing in Postgres means unchanged texts never travel to Python; tasks come in id order
    after ``after_id``, so the caller can commit batch by batch and resume.
    """
    rows = conn.execute(
        sa.text(
            "SELECT t.id, t.text, t.hash FROM ("
            "  SELECT id, data->>'text' AS text,"
            "         encode(sha256(convert_to(data->>'text', 'UTF8')), 'hex') AS hash"
            "  FROM tasks WHERE project_id = :p AND id > :after AND data ? 'text'"
            ") t LEFT JOIN embeddings e ON e.owner_kind = 'task' AND e.owner_id = t.id"
            "  AND e.part = 0 AND e.model = :m "
            "WHERE e.content_hash IS DISTINCT FROM t.hash ORDER BY t.id LIMIT :n"
        ),
        {"p": project_id, "after": after_id, "m": model, "n": limit},
    ).all()
    return [(int(r.id), str(r.text), str(r.hash)) for r in rows]


def stored_by_hash(conn: sa.Connection, model: str, hashes: Sequence[str]) -> dict[str, FloatArray]:
    """Vectors ``model`` already made for these texts, under any owner: reused, not recomputed."""
    rows = conn.execute(
        sa.text(
            "SELECT DISTINCT ON (content_hash) content_hash, embedding FROM embeddings "
            "WHERE model = :m AND content_hash = ANY(:h)"
        ).columns(sa.column("content_hash", sa.Text), sa.column("embedding", Vector())),
        {"m": model, "h": list(hashes)},
    ).all()
    return {r.content_hash: np.asarray(r.embedding, dtype=np.float32) for r in rows}


def write_embeddings(conn: sa.Connection, batch: VectorBatch) -> int:
    """Insert or replace the batch's vectors; returns the rows that changed.

    Rows go in by binary COPY into a temporary table (numpy lays out the whole batch, so no
    Python loop per row or per float), then one upsert keyed by owner and model. An owner whose
    stored hash equals the new one is left alone.
    """
    if batch.owner_kind not in OWNER_KINDS:
        raise ValidationError("owner_kind", batch.owner_kind, f"must be one of {OWNER_KINDS}")
    if len(batch.owner_ids) == 0:
        return 0
    conn.execute(
        sa.text(
            "CREATE TEMP TABLE IF NOT EXISTS annolab_embedding_stage (owner_kind text, "
            "owner_id bigint, part integer, project_id bigint, model text, dimension integer, "
            "embedding vector, content_hash text) ON COMMIT DROP"
        )
    )
    conn.execute(sa.text("TRUNCATE annolab_embedding_stage"))
    raw = driver_connection(conn)
    with (
        raw.cursor() as cur,
        cur.copy(
            f"COPY annolab_embedding_stage ({_STAGE_COLUMNS}) FROM STDIN (FORMAT binary)"
        ) as copy,
    ):
        copy.write(binary_copy_rows(batch))
    result = conn.execute(
        sa.text(
            f"INSERT INTO embeddings ({_STAGE_COLUMNS}) "
            f"SELECT {_STAGE_COLUMNS} FROM annolab_embedding_stage "
            "ON CONFLICT (owner_kind, owner_id, part, model) DO UPDATE SET "
            "embedding = EXCLUDED.embedding, dimension = EXCLUDED.dimension, "
            "content_hash = EXCLUDED.content_hash, project_id = EXCLUDED.project_id, "
            "created_at = now() "
            "WHERE embeddings.content_hash IS DISTINCT FROM EXCLUDED.content_hash"
        )
    )
    return int(result.rowcount)


def binary_copy_rows(batch: VectorBatch) -> bytes:
    """The batch in Postgres' binary COPY format, signature and trailer included.

    Every field but the vector has one width across the batch (one owner kind, one model, a
    64-character hash, a project id or NULL), so a numpy record type with big-endian fields
    describes a whole row, and the batch is one ``tobytes()``.
    """
    rows, dimension = batch.vectors.shape
    kind, model = batch.owner_kind.encode(), batch.model.encode()
    fields: list[tuple[Any, ...]] = [
        ("count", ">i2"),
        ("kind_len", ">i4"),
        ("kind", f"S{len(kind)}"),
        ("owner_len", ">i4"),
        ("owner", ">i8"),
        ("part_len", ">i4"),
        ("part", ">i4"),
        ("project_len", ">i4"),
    ]
    if batch.project_id is not None:
        fields.append(("project", ">i8"))
    fields += [
        ("model_len", ">i4"),
        ("model", f"S{len(model)}"),
        ("dim_len", ">i4"),
        ("dim", ">i4"),
        ("vec_len", ">i4"),
        ("vec_dim", ">i2"),  # pgvector's binary form: dimension, an unused int16, the floats
        ("vec_unused", ">i2"),
        ("vec", ">f4", (dimension,)),
        ("hash_len", ">i4"),
        ("hash", "S64"),
    ]
    out = np.zeros(rows, dtype=np.dtype(fields))
    out["count"] = 8
    out["kind_len"], out["kind"] = len(kind), kind
    out["owner_len"], out["owner"] = 8, np.asarray(batch.owner_ids, dtype=np.int64)
    out["part_len"], out["part"] = 4, np.asarray(batch.parts, dtype=np.int32)
    if batch.project_id is None:
        out["project_len"] = -1  # NULL: a length of -1 and no bytes
    else:
        out["project_len"], out["project"] = 8, batch.project_id
    out["model_len"], out["model"] = len(model), model
    out["dim_len"], out["dim"] = 4, dimension
    out["vec_len"], out["vec_dim"] = 4 + 4 * dimension, dimension
    out["vec"] = batch.vectors
    out["hash_len"], out["hash"] = 64, np.asarray(batch.hashes, dtype="S64")
    return _COPY_SIGNATURE + out.tobytes() + _COPY_TRAILER


def _search_settings(conn: sa.Connection, k: int, ef_search: int | None) -> None:
    # strict_order: with a filter (one project, one model) the index keeps scanning until k rows
    # pass it, instead of returning fewer than k (pgvector 0.8 iterative scans).
    ef = max(ef_search or EF_SEARCH, k)
    conn.execute(
        sa.text(
            "SELECT set_config('hnsw.ef_search', :ef, true), "
            "set_config('hnsw.iterative_scan', 'strict_order', true)"
        ),
        {"ef": str(ef)},
    )


def nearest(
    conn: sa.Connection,
    vector: FloatArray,
    *,
    model: str,
    dimension: int,
    owner_kind: str,
    k: int,
    project_id: int | None = None,
    owner_ids: Sequence[int] | None = None,
    exclude_owner: int | None = None,
    ef_search: int | None = None,
) -> list[Neighbour]:
    """The ``k`` stored vectors closest to ``vector`` by cosine, best first."""
    check_dimension(vector, model=model, dimension=dimension)
    if not 1 <= k <= MAX_K:
        raise ValidationError("k", k, f"must be between 1 and {MAX_K}")
    _search_settings(conn, k, ef_search)
    where = ["owner_kind = :kind", "model = :model", f"dimension = {int(dimension)}"]
    params: dict[str, Any] = {"kind": owner_kind, "model": model, "q": vector, "k": k}
    if project_id is not None:
        where.append("project_id = :project")
        params["project"] = project_id
    if owner_ids is not None:
        where.append("owner_id = ANY(:owners)")
        params["owners"] = list(owner_ids)
    if exclude_owner is not None:
        where.append("owner_id <> :exclude")
        params["exclude"] = exclude_owner
    distance = f"embedding::vector({int(dimension)}) <=> CAST(:q AS vector({int(dimension)}))"
    query = sa.text(
        f"SELECT owner_id, part, 1 - ({distance}) AS similarity FROM embeddings "
        f"WHERE {' AND '.join(where)} ORDER BY {distance} LIMIT :k"
    ).bindparams(sa.bindparam("q", type_=Vector()))
    rows = conn.execute(query, params).all()
    return [Neighbour(int(r.owner_id), int(r.part), float(r.similarity)) for r in rows]


def stored_vector(
    conn: sa.Connection, *, owner_kind: str, owner_id: int, model: str, part: int = 0
) -> FloatArray | None:
    found = conn.execute(
        sa.text(
            "SELECT embedding FROM embeddings WHERE owner_kind = :kind AND owner_id = :o "
            "AND part = :part AND model = :m"
        ).columns(sa.column("embedding", Vector())),
        {"kind": owner_kind, "o": owner_id, "part": part, "m": model},
    ).scalar()
    return None if found is None else np.asarray(found, dtype=np.float32)


def near_duplicate_pairs(
    conn: sa.Connection,
    *,
    project_id: int,
    model: str,
    dimension: int,
    threshold: float,
    k: int,
    ef_search: int | None = None,
) -> list[tuple[int, int, float]]:
    """``(task a, task b, similarity)`` with a < b for tasks among each other's ``k`` nearest.

    One index search per task (a LATERAL join), so the cost grows with n log n, not n squared;
    a pair counts if either task finds the other.
    """
    _search_settings(conn, k + 1, ef_search)
    d = int(dimension)
    inner = f"owner_kind = 'task' AND project_id = :p AND model = :m AND dimension = {d}"
    outer = f"a.owner_kind = 'task' AND a.project_id = :p AND a.model = :m AND a.dimension = {d}"
    rows = conn.execute(
        sa.text(
            "SELECT LEAST(a.owner_id, n.owner_id) AS a, GREATEST(a.owner_id, n.owner_id) AS b, "
            "max(n.similarity) AS similarity "
            "FROM embeddings a CROSS JOIN LATERAL ("
            f"  SELECT owner_id, 1 - (embedding::vector({d}) <=> a.embedding::vector({d}))"
            f"    AS similarity FROM embeddings WHERE {inner} AND owner_id <> a.owner_id"
            f"  ORDER BY embedding::vector({d}) <=> a.embedding::vector({d}) LIMIT :k"
            f") n WHERE {outer} AND n.similarity >= :t "
            "GROUP BY 1, 2 ORDER BY similarity DESC, a, b"
        ),
        {"p": project_id, "m": model, "k": k, "t": threshold},
    ).all()
    return [(int(r.a), int(r.b), float(r.similarity)) for r in rows]


def stored_parts(conn: sa.Connection, owner_kind: str, owner_id: int, model: str) -> dict[int, str]:
    """``part -> content hash`` of an owner's stored vectors of ``model``."""
    rows = conn.execute(
        sa.text(
            "SELECT part, content_hash FROM embeddings WHERE owner_kind = :kind "
            "AND owner_id = :o AND model = :m"
        ),
        {"kind": owner_kind, "o": owner_id, "m": model},
    ).all()
    return {int(r.part): str(r.content_hash) for r in rows}


def count_task_texts(conn: sa.Connection, project_id: int) -> int:
    """Tasks of the project that have a text to embed."""
    return int(
        conn.execute(
            sa.text("SELECT count(*) FROM tasks WHERE project_id = :p AND data ? 'text'"),
            {"p": project_id},
        ).scalar_one()
    )


def task_texts(conn: sa.Connection, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """``task id -> (external id, text)``."""
    rows = conn.execute(
        sa.text("SELECT id, external_id, data->>'text' AS text FROM tasks WHERE id = ANY(:ids)"),
        {"ids": list(ids)},
    ).all()
    return {int(r.id): (str(r.external_id), str(r.text)) for r in rows}
