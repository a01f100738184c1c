"""Users, teams, projects, tasks and the append-only event log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Migrations are frozen: they spell out their tables rather than importing ``tables.py``, so a
later change to the metadata never rewrites history. Enum *values* do come from
``annolab.schema.enums`` (one definition); a value added there later gets its own migration with
``ALTER TYPE ... ADD VALUE IF NOT EXISTS``, and a test fails until it exists.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from annolab.schema import enums

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ENUMS: dict[str, type[enums.StrEnum]] = {
    "user_kind": enums.UserKind,
    "user_status": enums.UserStatus,
    "user_role": enums.Role,
    "proficiency": enums.Proficiency,
    "team_role": enums.TeamRole,
    "project_status": enums.ProjectStatus,
    "task_status": enums.TaskStatus,
}


def _values(enum_cls: type[enums.StrEnum]) -> list[str]:
    return [member.value for member in enum_cls]


def _enum(name: str) -> pg.ENUM:
    return pg.ENUM(*_values(ENUMS[name]), name=name, create_type=False)


def _now() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    for name, enum_cls in ENUMS.items():
        pg.ENUM(*_values(enum_cls), name=name).create(op.get_bind())

    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("display_name", sa.Text, nullable=False, server_default=""),
        sa.Column("kind", _enum("user_kind"), nullable=False, server_default="human"),
        sa.Column(
            "roles",
            pg.ARRAY(_enum("user_role")),
            nullable=False,
            server_default=sa.text("'{annotator}'::user_role[]"),
        ),
        sa.Column("status", _enum("user_status"), nullable=False, server_default="active"),
        _now(),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "user_skills",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("skill", sa.Text, nullable=False),
        sa.Column("proficiency", _enum("proficiency"), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "skill", name="pk_user_skills"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE", name="fk_user_skills_user_id_users"
        ),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        _now(),
        sa.PrimaryKeyConstraint("id", name="pk_teams"),
        sa.UniqueConstraint("name", name="uq_teams_name"),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("role", _enum("team_role"), nullable=False, server_default="member"),
        sa.PrimaryKeyConstraint("team_id", "user_id", name="pk_team_members"),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], ondelete="CASCADE", name="fk_team_members_team_id_teams"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE", name="fk_team_members_user_id_users"
        ),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", _enum("project_status"), nullable=False, server_default="active"),
        sa.Column("label_schema", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("layout", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("workflow", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("guidelines", sa.Text, nullable=False, server_default=""),
        sa.Column("guidelines_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("settings", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_by", sa.BigInteger, nullable=True),
        _now(),
        sa.PrimaryKeyConstraint("id", name="pk_projects"),
        sa.UniqueConstraint("name", name="uq_projects_name"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_projects_created_by_users"),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("external_id", sa.Text, nullable=False),
        sa.Column("data", pg.JSONB, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status", _enum("task_status"), nullable=False, server_default="pending"),
        _now(),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        sa.UniqueConstraint("project_id", "external_id", name="uq_tasks_project_id_external_id"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], ondelete="CASCADE", name="fk_tasks_project_id_projects"
        ),
    )
    op.create_index(
        "ix_tasks_queue", "tasks", ["project_id", "status", sa.text("priority DESC"), "id"]
    )
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.clock_timestamp(),
        ),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("project_id", sa.BigInteger, nullable=True),
        sa.Column("before", pg.JSONB, nullable=True),
        sa.Column("after", pg.JSONB, nullable=True),
        sa.Column("txid", sa.BigInteger, nullable=False, server_default=sa.func.txid_current()),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_entity", "events", ["entity", "entity_id", "id"])
    op.create_index("ix_events_project", "events", ["project_id", "id"])
    # The audit trail is append-only for everyone, owner included: a trigger, not a grant.
    op.execute(
        """
        CREATE FUNCTION annolab_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
            FOR EACH ROW EXECUTE FUNCTION annolab_events_append_only();
        CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
            FOR EACH STATEMENT EXECUTE FUNCTION annolab_events_append_only();
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE events, tasks, projects, team_members, teams, user_skills, users")
    op.execute("DROP FUNCTION annolab_events_append_only()")
    for name in reversed(ENUMS):
        op.execute(f"DROP TYPE {name}")
