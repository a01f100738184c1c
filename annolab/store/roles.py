"""Postgres roles and row-level security for a team server.

Each JupyterHub user logs in to Postgres as their own role (named like their hub user, which is
also their annolab user name). Those roles belong to ``annolab_annotator``; leads and admins also
to ``annolab_lead``. Row-level security then holds even against a notebook's own raw SQL: an
annotator reads their own annotations, and others' only once the step that made them has
released them (all its annotators have submitted, or the task moved on). Leads read everything.
The owner of the tables (who runs migrations) is not subject to these policies.
"""

from __future__ import annotations

import sqlalchemy as sa
from psycopg import sql

ANNOTATOR = "annolab_annotator"
LEAD = "annolab_lead"

_SETUP = f"""
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ANNOTATOR}') THEN
        CREATE ROLE {ANNOTATOR} NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{LEAD}') THEN
        CREATE ROLE {LEAD} NOLOGIN IN ROLE {ANNOTATOR};
    END IF;
END $$;
GRANT USAGE ON SCHEMA public TO {ANNOTATOR};
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {ANNOTATOR};
REVOKE UPDATE ON events FROM {ANNOTATOR};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {ANNOTATOR};

-- SECURITY DEFINER: these read users, tasks and assignments as the owner, so the policies
-- below can ask them without granting more, and without recursing into the policies.
CREATE OR REPLACE FUNCTION annolab_user_id() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $f$
    SELECT id FROM users WHERE name = session_user
$f$;

CREATE OR REPLACE FUNCTION annolab_step_released(p_task bigint, p_step text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $f$
    SELECT t.step <> p_step
        OR t.status IN ('completed', 'escalated')
        OR (SELECT count(*) FROM assignments a WHERE a.task_id = t.id AND a.step = p_step
            AND a.status = 'submitted') >= t.needed
    FROM tasks t WHERE t.id = p_task
$f$;

CREATE OR REPLACE FUNCTION annolab_is_lead() RETURNS boolean
LANGUAGE sql STABLE AS $f$
    SELECT pg_has_role(session_user, '{LEAD}', 'MEMBER')
$f$;

ALTER TABLE annotations ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS annolab_read ON annotations;
DROP POLICY IF EXISTS annolab_insert ON annotations;
DROP POLICY IF EXISTS annolab_update ON annotations;
CREATE POLICY annolab_read ON annotations FOR SELECT TO {ANNOTATOR} USING (
    user_id = annolab_user_id() OR annolab_is_lead() OR annolab_step_released(task_id, step));
CREATE POLICY annolab_insert ON annotations FOR INSERT TO {ANNOTATOR} WITH CHECK (
    user_id = annolab_user_id() OR annolab_is_lead()
    OR (kind = 'consensus' AND annolab_step_released(task_id, step)));
CREATE POLICY annolab_update ON annotations FOR UPDATE TO {ANNOTATOR} USING (
    user_id = annolab_user_id() OR annolab_is_lead() OR annolab_step_released(task_id, step));
"""


def setup_team_roles(engine: sa.Engine) -> None:
    """Create the group roles, grants and policies (run by the tables' owner; idempotent)."""
    with engine.begin() as conn:
        conn.execute(sa.text(_SETUP))


def create_login(
    engine: sa.Engine, name: str, *, password: str | None = None, lead: bool = False
) -> None:
    """A login role for one hub user, in ``annolab_annotator`` (and ``annolab_lead``)."""
    group = sql.Identifier(LEAD if lead else ANNOTATOR)
    role = sql.Identifier(name)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        exists = conn.execute(
            sa.text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}
        ).scalar()
        # Role statements take no bind parameters: psycopg's sql module quotes them instead.
        with raw.cursor() as cur:
            if not exists:
                cur.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
            if password is not None:
                cur.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, sql.Literal(password))
                )
            cur.execute(sql.SQL("GRANT {} TO {}").format(group, role))
