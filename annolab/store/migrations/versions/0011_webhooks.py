"""Webhooks: endpoints, their subscriptions and the delivery log.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

A statement-level trigger on ``events`` adds one delivery for each active webhook whose
project and action patterns match each new event, in the transaction that writes the event: a
rolled-back change enqueues nothing, and a committed one enqueues exactly once (a unique
``(webhook_id, event_id)``). No cursor over event ids: ids are not in commit order when
transactions overlap, so a reader that remembers the last id it saw can skip one.

The trigger function is SECURITY DEFINER with a pinned search_path: an annotator's submit on a
team server enqueues without that login being able to read a webhook or its secret.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_PATH = "SET search_path = pg_catalog, public, pg_temp"


def _now(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=None if nullable else sa.func.now(),
    )


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("project_id", sa.BigInteger, nullable=True),
        sa.Column("actions", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False, server_default="5"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_by", sa.BigInteger, nullable=True),
        _now("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_webhooks"),
        sa.CheckConstraint("max_attempts >= 1", name="ck_webhooks_max_attempts_positive"),
        sa.CheckConstraint("secret <> ''", name="ck_webhooks_secret_not_empty"),
        sa.CheckConstraint("url ~ '^https?://'", name="ck_webhooks_url_http"),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_webhooks_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_webhooks_created_by_users"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column(
            "uuid",
            pg.UUID(as_uuid=True),
            nullable=False,
            server_default=sa.text("gen_random_uuid()"),
        ),
        sa.Column("webhook_id", sa.BigInteger, nullable=False),
        # No foreign key: events are append-only, and one would stand in the way of the
        # trigger that refuses TRUNCATE on them with the reason.
        sa.Column("event_id", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        _now("next_attempt_at"),
        sa.Column("claim", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        _now("created_at"),
        _now("delivered_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.UniqueConstraint("uuid", name="uq_webhook_deliveries_uuid"),
        sa.UniqueConstraint(
            "webhook_id", "event_id", name="uq_webhook_deliveries_webhook_id_event_id"
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'dead')",
            name="ck_webhook_deliveries_status_known",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name="fk_webhook_deliveries_webhook_id_webhooks",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at", "id"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("delivery_id", sa.BigInteger, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        _now("started_at"),
        _now("finished_at", nullable=True),
        sa.Column("http_status", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("duration", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_attempts"),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name="fk_webhook_attempts_delivery_id_webhook_deliveries",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_webhook_attempts_delivery_id", "webhook_attempts", ["delivery_id", "attempt"]
    )
    # A pattern is an exact action, a family like 'quality.*', or '*' for every action.
    op.execute(
        f"""
        CREATE FUNCTION public.annolab_webhooks_enqueue() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER {_PATH} AS $f$
        BEGIN
            INSERT INTO public.webhook_deliveries (webhook_id, event_id)
            SELECT w.id, e.id
            FROM annolab_new_events e JOIN public.webhooks w
              ON w.active AND (w.project_id IS NULL OR w.project_id = e.project_id)
            WHERE EXISTS (
                SELECT 1 FROM pg_catalog.unnest(w.actions) AS p(pattern)
                WHERE p.pattern = '*' OR p.pattern = e.action
                   OR (p.pattern LIKE '%.*' AND pg_catalog.starts_with(
                       e.action, pg_catalog.rtrim(p.pattern, '*'))))
            ON CONFLICT DO NOTHING;
            RETURN NULL;
        END $f$;
        REVOKE ALL ON FUNCTION public.annolab_webhooks_enqueue() FROM PUBLIC;
        CREATE TRIGGER events_webhooks AFTER INSERT ON public.events
            REFERENCING NEW TABLE AS annolab_new_events
            FOR EACH STATEMENT EXECUTE FUNCTION public.annolab_webhooks_enqueue();
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS events_webhooks ON public.events")
    op.execute("DROP FUNCTION IF EXISTS public.annolab_webhooks_enqueue()")
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
