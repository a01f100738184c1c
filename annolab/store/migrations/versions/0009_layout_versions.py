"""Layout versions: a published layout's body never changes; a project pins one version.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

``ws.layouts.publish`` adds the next version of a name; editing a layout means publishing again.
A trigger refuses any UPDATE of ``name``, ``version`` or ``body`` (for every role, the owner
included), so the copy a project pinned and the stored version always say the same thing; only
``status`` moves (published -> deprecated). Nobody deletes a version a project may name.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_PATH = "SET search_path = pg_catalog, public, pg_temp"


def upgrade() -> None:
    op.create_table(
        "layouts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("body", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("status", sa.Text, nullable=False, server_default="published"),
        sa.Column("created_by", sa.BigInteger, nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_layouts"),
        sa.UniqueConstraint("name", "version", name="uq_layouts_name_version"),
        sa.CheckConstraint("version >= 1", name="ck_layouts_version_positive"),
        sa.CheckConstraint("status IN ('published', 'deprecated')", name="ck_layouts_status_known"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_layouts_created_by_users"),
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION public.annolab_layout_immutable() RETURNS trigger
        LANGUAGE plpgsql {_PATH} AS $f$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'layout % version % is published; versions are never deleted',
                    OLD.name, OLD.version;
            END IF;
            IF NEW.name IS DISTINCT FROM OLD.name OR NEW.version IS DISTINCT FROM OLD.version
               OR NEW.body IS DISTINCT FROM OLD.body THEN
                RAISE EXCEPTION 'layout % version % is published and can not change; '
                    'publish a new version instead', OLD.name, OLD.version;
            END IF;
            IF OLD.status = 'deprecated' AND NEW.status <> 'deprecated' THEN
                RAISE EXCEPTION 'layout % version % is deprecated; publish a new version',
                    OLD.name, OLD.version;
            END IF;
            RETURN NEW;
        END
        $f$;
        CREATE TRIGGER layouts_immutable BEFORE UPDATE OR DELETE ON public.layouts
            FOR EACH ROW EXECUTE FUNCTION public.annolab_layout_immutable();
        """
    )


def downgrade() -> None:
    op.drop_table("layouts")
    op.execute("DROP FUNCTION IF EXISTS public.annolab_layout_immutable()")
