"""Embeddings of tasks and persona examples in pgvector, with HNSW indexes per dimension.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

One table holds every model's vectors in an unsized ``vector`` column, because an HNSW index
needs one fixed dimension but a project may try several models (all-minilm gives 384
dimensions, nomic-embed-text 768, mxbai-embed-large 1024). Each indexed dimension gets a partial
expression index, ``(embedding::vector(N)) vector_cosine_ops WHERE dimension = N``, which is
pgvector's documented way to index mixed dimensions; a query uses it when it repeats the cast and
the ``dimension = N`` condition. One table per dimension would do the same with N copies of every
query and of this schema. Vectors of any other dimension are still stored and searched, exactly,
by a sequential scan.

``embedding_models`` records each model's dimension once, and a composite foreign key makes
every vector of a model have that dimension: a model that changes size is refused by Postgres,
not discovered later as a cast error in a search.

An owner is a task (``owner_id`` = tasks.id, ``part`` 0) or a persona version's example
(``owner_id`` = persona_versions.id, ``part`` = its position in the version's examples). No
foreign key can point at both: task vectors go with their project (``project_id`` cascades), and
persona versions are never deleted on their own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Frozen copies of the values in annolab.store.tables, as a migration must not change later.
HNSW_DIMENSIONS = (384, 768, 1024)
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 128


def upgrade() -> None:
    op.create_table(
        "embedding_models",
        sa.Column("model", sa.Text, primary_key=True),
        sa.Column("dimension", sa.Integer, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("model", "dimension", name="uq_embedding_models_model_dimension"),
        sa.CheckConstraint(
            "dimension BETWEEN 1 AND 16000", name="ck_embedding_models_dimension_range"
        ),
        sa.PrimaryKeyConstraint("model", name="pk_embedding_models"),
    )
    op.create_table(
        "embeddings",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("owner_kind", sa.Text, nullable=False),
        sa.Column("owner_id", sa.BigInteger, nullable=False),
        sa.Column("part", sa.Integer, nullable=False, server_default="0"),
        sa.Column("project_id", sa.BigInteger, nullable=True),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("dimension", sa.Integer, nullable=False),
        sa.Column("embedding", Vector(), nullable=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_embeddings"),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_embeddings_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model", "dimension"],
            ["embedding_models.model", "embedding_models.dimension"],
            name="fk_embeddings_model_embedding_models",
        ),
        sa.UniqueConstraint(
            "owner_kind",
            "owner_id",
            "part",
            "model",
            name="uq_embeddings_owner_kind_owner_id_part_model",
        ),
        sa.CheckConstraint(
            "owner_kind IN ('task', 'example')", name="ck_embeddings_owner_kind_known"
        ),
        sa.CheckConstraint(
            "vector_dims(embedding) = dimension", name="ck_embeddings_dimension_matches"
        ),
    )
    op.create_index("ix_embeddings_project_id_model", "embeddings", ["project_id", "model"])
    op.create_index("ix_embeddings_model_content_hash", "embeddings", ["model", "content_hash"])
    for dim in HNSW_DIMENSIONS:
        op.execute(
            f"CREATE INDEX ix_embeddings_hnsw_{dim} ON embeddings USING hnsw "
            f"((embedding::vector({dim})) vector_cosine_ops) "
            f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}) "
            f"WHERE dimension = {dim}"
        )


def downgrade() -> None:
    op.drop_table("embeddings")
    op.drop_table("embedding_models")
