"""Persona versions, the LLM response cache, and failed LLM attempts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

A persona is a ``users`` row of kind 'persona'; each edit adds a row to ``persona_versions``
(never updates one), so an annotation's ``persona_version`` always names what produced it.

Failed attempts get their own table rather than rows in ``events``: a raw model response can be
large, failures are operational data a batch reads back (``persona.failures()``), and ``events``
is append-only by trigger, so raw responses stored there could never be pruned.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _now() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def _jsonb(name: str, default: str) -> sa.Column[object]:
    return sa.Column(name, pg.JSONB, nullable=False, server_default=sa.text(f"'{default}'::jsonb"))


def upgrade() -> None:
    op.create_table(
        "persona_versions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        _jsonb("traits", "[]"),
        _jsonb("examples", "[]"),
        sa.Column("model", sa.Text, nullable=False),
        _jsonb("options", "{}"),
        sa.Column("template", sa.Text, nullable=False),
        sa.Column("system_prompt", sa.Text, nullable=False),
        _now(),
        sa.Column("created_by", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_persona_versions"),
        sa.UniqueConstraint("user_id", "version", name="uq_persona_versions_user_id_version"),
        sa.CheckConstraint("version >= 1", name="ck_persona_versions_version_positive"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_persona_versions_user_id_users",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_persona_versions_created_by_users"
        ),
    )
    op.create_table(
        "llm_cache",
        sa.Column("model_digest", sa.Text, nullable=False),
        sa.Column("prompt_hash", sa.Text, nullable=False),
        sa.Column("input_hash", sa.Text, nullable=False),
        sa.Column("schema_hash", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("payload", pg.JSONB, nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("completion_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("seconds", sa.Float, nullable=False, server_default="0"),
        _now(),
        sa.PrimaryKeyConstraint(
            "model_digest", "prompt_hash", "input_hash", "schema_hash", name="pk_llm_cache"
        ),
    )
    op.create_table(
        "llm_failures",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("persona_version_id", sa.BigInteger, nullable=True),
        sa.Column("task_id", sa.BigInteger, nullable=True),
        sa.Column("item", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("model_digest", sa.Text, nullable=True),
        sa.Column("prompt_hash", sa.Text, nullable=True),
        sa.Column("input_hash", sa.Text, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("raw_response", sa.Text, nullable=True),
        _now(),
        sa.PrimaryKeyConstraint("id", name="pk_llm_failures"),
        sa.ForeignKeyConstraint(
            ["persona_version_id"],
            ["persona_versions.id"],
            name="fk_llm_failures_persona_version_id_persona_versions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name="fk_llm_failures_task_id_tasks", ondelete="CASCADE"
        ),
    )
    op.create_index(
        "ix_llm_failures_persona_version", "llm_failures", ["persona_version_id", "created_at"]
    )


def downgrade() -> None:
    op.execute("DROP TABLE llm_failures, llm_cache, persona_versions")
