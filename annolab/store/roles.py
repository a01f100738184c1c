"""Postgres roles and row-level security for a team server.

Each JupyterHub user logs in to Postgres as their own role (named like their hub user, which is
also their annolab user name). Those roles belong to ``annolab_annotator``; leads also to
``annolab_lead``. What follows holds against SQL typed in a notebook, not only against the
annolab client (``docs/team-server.md`` has the table of who may do what):

- Every policy keys on ``session_user``, which ``SET ROLE`` and ``set_config`` do not change.
- A step's annotations are released to annotators only from what they can not forge: submitted
  assignments of distinct users, each backed by that user's own submitted annotation, counted
  against ``tasks.step_needs`` (the most people the step ever needed, kept by a trigger that
  folds in every earlier value of ``needed``: lowering ``needed`` lowers nothing). Annotators
  write only rows that carry their own user id, except the few moves the workflow makes on
  others' rows, which triggers limit to ones that can only take a release away (a lease that
  ran out expires; a submitted assignment reopens for a revision; a review approves or
  rejects). Their own submission counts: submitting is what shows a step's other work.
- Annotators see and work on the projects they are members of (``project_members``).
- Events of others' annotations (payload, author) are hidden until the annotation is released;
  annotators append events only under their own name, and only the actions their own work
  records (a claim, a submit, a step decision, a score of their own), or as ``annolab`` what
  the queue and quality rules record inside a claim or submit: never a role change, a lifted
  restriction, a new project.
- Gold (``gold_*`` tables and ``gold.*`` events) is the answer key: only curators read or write
  it, that is leads and members of the project whose annolab roles include reviewer,
  adjudicator, team lead or project admin, under their own name. Triggers (migration 0010)
  keep frozen versions and decided conflicts unchanged for everyone.
- Webhooks (``webhook*`` tables: URLs, secrets, deliveries, attempts) are leads' only: an
  annotator's login can not read, add or change any of it, yet the events it records still
  enqueue deliveries through a SECURITY DEFINER trigger (migration 0011) it can not call.
- ``users.roles``, skills, teams, projects, personas, the LLM cache, embeddings and the
  migration version are written by leads or the owner only; nobody deletes or truncates.
- SECURITY DEFINER functions pin ``search_path = pg_catalog, public, pg_temp`` and qualify every
  name, so a temporary table or function can not stand in for a table they read.

Leads read and write everything (but still delete nothing and never rewrite events), except
that a lead deletes a project's tasks through ``annolab_delete_project_tasks``
(``project.delete``). The owner of the tables (who runs migrations and this set-up) is not
subject to any of it.
"""

from __future__ import annotations

import sqlalchemy as sa
from psycopg import sql

from annolab.errors import StoreError
from annolab.schema.enums import TASK_TRANSITIONS, TaskStatus

ANNOTATOR = "annolab_annotator"
LEAD = "annolab_lead"
CONSENSUS_USER = "annolab:consensus"

# What an annotator's own work records, under their own name.
USER_ACTIONS = (
    "user.created",
    "task.assigned",
    "assignment.skipped",
    "annotation.draft",
    "annotation.submitted",
    "annotation.approved",  # the consensus a step's last submission writes
    "annotation.feedback",
    "step.completed",
    "step.agreement",
    "task.step_completed",
    "task.completed",
    "task.escalated",
    "task.needs_another_annotator",
    "task.rejected",
    "task.revision_requested",
    "task.approved",
    "review.approve",
    "review.reject",
    "review.revise",
    "quality.scored",
)
# What a gold curator (a reviewer, adjudicator, team lead or project admin, by their annolab
# roles) records under their own name while promoting, resolving and freezing gold.
GOLD_ACTIONS = (
    "gold.version_opened",
    "gold.promoted",
    "gold.conflict_queued",
    "gold.conflict_accepted",
    "gold.conflict_rejected",
    "gold.frozen",
)
GOLD_TABLES = ("gold_sets", "gold_versions", "gold_entries", "gold_conflicts")
WEBHOOK_TABLES = ("webhooks", "webhook_deliveries", "webhook_attempts")
# The annolab roles that make an annotator's login a gold curator in their projects. Only leads
# write ``users.roles``, so an annotator can not grant it to themselves.
GOLD_CURATOR_ROLES = ("reviewer", "adjudicator", "team_lead", "project_admin")
# What the queue and the quality rules record as ``annolab`` from inside a submit or a claim.
# Lifting a restriction (``quality.unrestricted``) is not among them: only a lead lifts one.
SYSTEM_ACTIONS = (
    "assignment.expired",
    "quality.alert",
    "quality.review_required",
    "quality.cleared",
    "quality.restricted",
    "quality.auto_approved",
    "quality.sent_to_review",
)

_PATH = "SET search_path = pg_catalog, public, pg_temp"


def _texts(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# The workflow's moves, but none out of a finished task: reopening one is a lead's reset.
_TASK_MOVES = ", ".join(
    f"('{a.value}', '{b.value}')"
    for a, targets in TASK_TRANSITIONS.items()
    if a not in {TaskStatus.COMPLETED, TaskStatus.ESCALATED}
    for b in targets
)

# Tables annotators read; what else they may do is granted table by table below.
_READABLE = (
    "users",
    "user_skills",
    "teams",
    "team_members",
    "projects",
    "tasks",
    "assignments",
    "annotations",
    "reviews",
    "feedback",
    "events",
    "persona_versions",
    # Published layout versions: annotators read them; leads publish and deprecate (their
    # grant on every table), and a trigger keeps a published body as it was, for everyone.
    "layouts",
    "embedding_models",
    "embeddings",
    # Every connect checks the schema is current; reading the revision tells nothing.
    "alembic_version",
)
_RLS_TABLES = (
    "users",
    "projects",
    "tasks",
    "assignments",
    "annotations",
    "reviews",
    "feedback",
    "events",
    # Gold is the answer key: only curators read or write it (annolab_gold_curator).
    *GOLD_TABLES,
    # How each annotator works (keys, idle time): their own rows only; leads read all.
    "telemetry",
    # Webhooks hold secrets: leads only. Annotators have no grant on them at all (their events
    # still enqueue, through a SECURITY DEFINER trigger); RLS with no annotator policy is a
    # second wall should a grant ever be widened.
    *WEBHOOK_TABLES,
)

_SETUP = f"""
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ANNOTATOR}') THEN
        CREATE ROLE {ANNOTATOR} NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{LEAD}') THEN
        CREATE ROLE {LEAD} NOLOGIN IN ROLE {ANNOTATOR};
    END IF;
END $$;

-- From scratch on every run, so a server set up by an earlier annolab loses its broad grants.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ANNOTATOR}, {LEAD};
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ANNOTATOR}, {LEAD};
-- Nobody but the owner creates objects in public: a function or view made there by an
-- annotator could wait for a lead to call it.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM {ANNOTATOR}, {LEAD};
GRANT USAGE ON SCHEMA public TO {ANNOTATOR};

GRANT SELECT ON {", ".join(_READABLE)} TO {ANNOTATOR};
GRANT INSERT (name, kind, display_name) ON users TO {ANNOTATOR};
GRANT UPDATE (status, step, assigned, needed) ON tasks TO {ANNOTATOR};
GRANT INSERT (task_id, step, user_id, status, lease_expires_at, created_at),
      UPDATE (status, lease_expires_at, created_at, completed_at) ON assignments TO {ANNOTATOR};
GRANT INSERT, UPDATE (payload, status, time_spent, version, updated_at)
      ON annotations TO {ANNOTATOR};
GRANT INSERT (annotation_id, reviewer_id, decision, comment) ON reviews TO {ANNOTATOR};
GRANT INSERT (annotation_id, user_id, rating, comment, error_spans) ON feedback TO {ANNOTATOR};
GRANT INSERT (actor, action, entity, entity_id, project_id, before, after) ON events
      TO {ANNOTATOR};
-- Gold: the policies let only curators see or write a row; nobody deletes (triggers keep frozen
-- versions and decided conflicts as they are, for everyone).
GRANT SELECT, INSERT ON {", ".join(GOLD_TABLES)} TO {ANNOTATOR};
GRANT UPDATE (frozen, note) ON gold_versions TO {ANNOTATOR};
GRANT UPDATE (payload, category, source, source_annotation_id, reviewer, agreement, created_at)
      ON gold_entries TO {ANNOTATOR};
GRANT UPDATE (status, resolved_by, resolved_at, reason) ON gold_conflicts TO {ANNOTATOR};
-- Telemetry: appended and read back, never changed (the policies keep it to one's own rows).
GRANT SELECT, INSERT ON telemetry TO {ANNOTATOR};

-- Leads: everything an admin operation writes. Still no DELETE (but of memberships), no
-- TRUNCATE, no rewriting of events, no migrations.
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {LEAD};
REVOKE INSERT, UPDATE ON events, alembic_version FROM {LEAD};
REVOKE UPDATE ON telemetry FROM {LEAD};
GRANT INSERT (actor, action, entity, entity_id, project_id, before, after) ON events TO {LEAD};
GRANT DELETE ON project_members TO {LEAD};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {LEAD};

CREATE OR REPLACE FUNCTION public.annolab_is_lead() RETURNS boolean
LANGUAGE sql STABLE {_PATH} AS $f$
    SELECT pg_catalog.pg_has_role(session_user, '{LEAD}', 'MEMBER')
$f$;

-- Subject to the guards: an annotator who is not a lead (a superuser counts as a lead).
CREATE OR REPLACE FUNCTION public.annolab_restricted() RETURNS boolean
LANGUAGE sql STABLE {_PATH} AS $f$
    SELECT pg_catalog.pg_has_role(session_user, '{ANNOTATOR}', 'MEMBER')
       AND NOT pg_catalog.pg_has_role(session_user, '{LEAD}', 'MEMBER')
$f$;

-- SECURITY DEFINER: these read tables as their owner, so policies can ask them without
-- granting more, and without recursing into the policies.
CREATE OR REPLACE FUNCTION public.annolab_user_id() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER {_PATH} AS $f$
    SELECT u.id FROM public.users u WHERE u.name = session_user
$f$;

CREATE OR REPLACE FUNCTION public.annolab_project_visible(p_project bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER {_PATH} AS $f$
    SELECT public.annolab_is_lead() OR EXISTS (
        SELECT 1 FROM public.project_members m JOIN public.users u ON u.id = m.user_id
        WHERE m.project_id = p_project AND u.name = session_user)
$f$;

CREATE OR REPLACE FUNCTION public.annolab_task_visible(p_task bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER {_PATH} AS $f$
    SELECT COALESCE((SELECT public.annolab_project_visible(t.project_id)
                     FROM public.tasks t WHERE t.id = p_task), false)
$f$;

-- Released: as many people as the step ever needed submitted it, each with their own
-- submitted annotation (a review's approval or rejection leaves it an answer given). Nothing
-- here is a row an annotator can write for someone else, and step_needs only grows.
CREATE OR REPLACE FUNCTION public.annolab_step_released(p_task bigint, p_step text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER {_PATH} AS $f$
    SELECT COALESCE((
        SELECT public.annolab_project_visible(t.project_id)
           AND (SELECT count(DISTINCT a.user_id) FROM public.assignments a
                WHERE a.task_id = t.id AND a.step = p_step AND a.status = 'submitted'
                  AND EXISTS (SELECT 1 FROM public.annotations an
                              WHERE an.task_id = a.task_id AND an.step = a.step
                                AND an.user_id = a.user_id AND an.kind <> 'consensus'
                                AND an.status IN ('submitted', 'approved', 'rejected')))
               >= GREATEST(1, COALESCE((t.step_needs ->> p_step)::integer, 0),
                           CASE WHEN t.step = p_step THEN t.needed ELSE 0 END)
        FROM public.tasks t WHERE t.id = p_task), false)
$f$;

CREATE OR REPLACE FUNCTION public.annolab_annotation_visible(p_id text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER {_PATH} AS $f$
    SELECT COALESCE((
        SELECT an.user_id = public.annolab_user_id() OR public.annolab_is_lead()
            OR public.annolab_step_released(an.task_id, an.step)
        FROM public.annotations an
        WHERE an.id = CASE WHEN p_id ~ '^[0-9a-fA-F-]{{36}}$' THEN p_id::uuid END), false)
$f$;

CREATE OR REPLACE FUNCTION public.annolab_annotation_mine(p_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER {_PATH} AS $f$
    SELECT EXISTS (SELECT 1 FROM public.annotations an
                   WHERE an.id = p_id AND an.user_id = public.annolab_user_id())
$f$;

-- A gold curator of the project: a lead, or a member whose annolab roles (which only leads
-- write) include reviewer, adjudicator, team lead or project admin.
CREATE OR REPLACE FUNCTION public.annolab_gold_curator(p_project bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER {_PATH} AS $f$
    SELECT public.annolab_is_lead() OR (
        public.annolab_project_visible(p_project) AND EXISTS (
            SELECT 1 FROM public.users u WHERE u.name = session_user AND u.status = 'active'
              AND u.roles OPERATOR(pg_catalog.&&)
                  ARRAY[{_texts(GOLD_CURATOR_ROLES)}]::public.user_role[]))
$f$;

CREATE OR REPLACE FUNCTION public.annolab_gold_set_curator(p_set bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER {_PATH} AS $f$
    SELECT COALESCE((SELECT public.annolab_gold_curator(s.project_id)
                     FROM public.gold_sets s WHERE s.id = p_set), false)
$f$;

CREATE OR REPLACE FUNCTION public.annolab_gold_version_curator(p_version bigint)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER {_PATH} AS $f$
    SELECT COALESCE((SELECT public.annolab_gold_set_curator(v.gold_set_id)
                     FROM public.gold_versions v WHERE v.id = p_version), false)
$f$;

-- Triggers: the moves the workflow makes, and nothing else, for restricted sessions.
CREATE OR REPLACE FUNCTION public.annolab_guard_assignment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER {_PATH} AS $f$
DECLARE
    me bigint;
    p_name text;
    p_status text;
BEGIN
    IF NOT public.annolab_restricted() THEN
        RETURN NEW;
    END IF;
    me := public.annolab_user_id();
    IF TG_OP = 'INSERT' OR (NEW.status = 'active' AND OLD.status <> 'active') THEN
        SELECT p.name, p.status::text INTO p_name, p_status
        FROM public.tasks t JOIN public.projects p ON p.id = t.project_id
        WHERE t.id = NEW.task_id;
        IF p_status <> 'active' AND NEW.user_id = me THEN
            RAISE EXCEPTION 'project % is %: no task can be claimed in it', p_name, p_status
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.user_id IS DISTINCT FROM me OR NEW.status <> 'active' THEN
            RAISE EXCEPTION 'an assignment starts active and belongs to its claimer (%)',
                session_user USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.task_id, NEW.step, NEW.user_id) IS DISTINCT FROM (OLD.task_id, OLD.step, OLD.user_id)
    THEN
        RAISE EXCEPTION 'assignment %: task, step and user never change', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.user_id = me THEN
        IF NEW.status = 'released' AND OLD.status <> 'released' THEN
            RAISE EXCEPTION 'assignment %: only a lead releases an assignment', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        -- A skip is "not now": its owner may take it up again (session.reopen), as a lease
        -- that ran out. A lead's release is final.
        IF OLD.status = 'released' AND NEW.status <> OLD.status THEN
            RAISE EXCEPTION 'assignment % is %: it is not taken up again', OLD.id, OLD.status
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    -- Someone else's: only the moves that take a release away.
    IF OLD.status = 'active' AND NEW.status = 'expired'
       AND NEW.lease_expires_at IS NOT DISTINCT FROM OLD.lease_expires_at THEN
        IF OLD.lease_expires_at >= pg_catalog.now() THEN
            RETURN NULL;  -- not run out by the server's clock: left as it is
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.status = 'submitted' AND NEW.status = 'active' THEN
        RETURN NEW;  -- a revision or a new round hands it back to its annotator
    END IF;
    RAISE EXCEPTION 'assignment % belongs to another user: only a lead changes it', OLD.id
        USING ERRCODE = 'insufficient_privilege';
END $f$;

CREATE OR REPLACE FUNCTION public.annolab_guard_annotation() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER {_PATH} AS $f$
BEGIN
    IF NOT public.annolab_restricted() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.kind NOT IN ('human', 'consensus') THEN
            RAISE EXCEPTION 'kind=% : annotators write human annotations; gold, persona and '
                'model annotations are a lead''s', NEW.kind
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.user_id = public.annolab_user_id() OR OLD.kind = 'consensus' THEN
        RETURN NEW;
    END IF;
    IF NEW.payload IS DISTINCT FROM OLD.payload OR NEW.version <> OLD.version
       OR NEW.time_spent IS DISTINCT FROM OLD.time_spent
       OR NOT ((OLD.status = 'submitted' AND NEW.status IN ('approved', 'rejected'))
               OR (OLD.status = 'approved' AND NEW.status IN ('approved', 'rejected'))
               OR NEW.status = OLD.status)
    THEN
        RAISE EXCEPTION 'annotation % is another user''s: a review may only approve or '
            'reject it', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $f$;

CREATE OR REPLACE FUNCTION public.annolab_guard_task() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER {_PATH} AS $f$
BEGIN
    IF public.annolab_restricted()
       AND (OLD.status::text, NEW.status::text) NOT IN ({_TASK_MOVES}) THEN
        RAISE EXCEPTION 'task %: status % can not follow % (a lead''s reset does that)',
            OLD.id, NEW.status, OLD.status USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $f$;

DROP TRIGGER IF EXISTS annolab_guard ON assignments;
CREATE TRIGGER annolab_guard BEFORE INSERT OR UPDATE ON assignments
    FOR EACH ROW EXECUTE FUNCTION public.annolab_guard_assignment();
DROP TRIGGER IF EXISTS annolab_guard ON annotations;
CREATE TRIGGER annolab_guard BEFORE INSERT OR UPDATE ON annotations
    FOR EACH ROW EXECUTE FUNCTION public.annolab_guard_annotation();
DROP TRIGGER IF EXISTS annolab_guard ON tasks;
CREATE TRIGGER annolab_guard BEFORE UPDATE ON tasks
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION public.annolab_guard_task();

-- project.delete(): nobody holds DELETE on tasks; a lead (or the owner) deletes a project's tasks
-- (and, by cascade, what hangs off them) through this function only. Its events stay.
CREATE OR REPLACE FUNCTION public.annolab_delete_project_tasks(p_project bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER {_PATH} AS $f$
BEGIN
    IF public.annolab_restricted() THEN
        RAISE EXCEPTION 'only a lead deletes a project''s tasks'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM public.embeddings WHERE owner_kind = 'task' AND project_id = p_project;
    DELETE FROM public.tasks WHERE project_id = p_project;
END $f$;
REVOKE ALL ON FUNCTION public.annolab_delete_project_tasks(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.annolab_delete_project_tasks(bigint) TO {LEAD};
"""


def _policies() -> str:
    """Drop and create every policy: one for leads (all rows) and the annotators' own."""
    me = "public.annolab_user_id()"
    rules: dict[str, list[tuple[str, str]]] = {
        "users": [
            ("FOR SELECT", "USING (true)"),
            (
                "FOR INSERT",
                f"WITH CHECK (name = session_user OR (name = '{CONSENSUS_USER}' "
                "AND kind = 'persona'))",
            ),
        ],
        "projects": [("FOR SELECT", "USING (public.annolab_project_visible(id))")],
        "tasks": [
            ("FOR SELECT", "USING (public.annolab_project_visible(project_id))"),
            ("FOR UPDATE", "USING (public.annolab_project_visible(project_id))"),
        ],
        "assignments": [
            ("FOR SELECT", "USING (public.annolab_task_visible(task_id))"),
            (
                "FOR INSERT",
                f"WITH CHECK (user_id = {me} AND public.annolab_task_visible(task_id))",
            ),
            ("FOR UPDATE", "USING (public.annolab_task_visible(task_id))"),
        ],
        "annotations": [
            (
                "FOR SELECT",
                f"USING (user_id = {me} OR public.annolab_step_released(task_id, step))",
            ),
            (
                "FOR INSERT",
                "WITH CHECK (public.annolab_task_visible(task_id) AND ("
                f"user_id = {me} OR (kind = 'consensus' AND user_id = (SELECT u.id FROM "
                f"public.users u WHERE u.name = '{CONSENSUS_USER}') "
                "AND public.annolab_step_released(task_id, step))))",
            ),
            (
                "FOR UPDATE",
                f"USING (user_id = {me} OR public.annolab_step_released(task_id, step)) "
                # A rejection may leave the step unreleased; the guard trigger limits what
                # changes on another's row to a review's decision.
                f"WITH CHECK (user_id = {me} OR public.annolab_task_visible(task_id))",
            ),
        ],
        "reviews": [
            (
                "FOR SELECT",
                f"USING (reviewer_id = {me} "
                "OR public.annolab_annotation_visible(annotation_id::text))",
            ),
            (
                "FOR INSERT",
                f"WITH CHECK (reviewer_id = {me} "
                "AND public.annolab_annotation_visible(annotation_id::text))",
            ),
        ],
        "feedback": [
            (
                "FOR SELECT",
                f"USING (user_id = {me} OR public.annolab_annotation_mine(annotation_id))",
            ),
            (
                "FOR INSERT",
                f"WITH CHECK (user_id = {me} "
                "AND public.annolab_annotation_visible(annotation_id::text))",
            ),
        ],
        "events": [
            (
                "FOR SELECT",
                "USING ((project_id IS NULL OR public.annolab_project_visible(project_id)) "
                "AND (action NOT LIKE 'annotation.%' OR actor = session_user "
                "OR public.annolab_annotation_visible(entity_id)) "
                # Gold events carry the answers: the answer key stays with curators.
                "AND (action NOT LIKE 'gold.%' OR public.annolab_gold_curator(project_id)))",
            ),
            (
                "FOR INSERT",
                "WITH CHECK ((project_id IS NULL OR public.annolab_project_visible(project_id)) "
                # A score is about the scorer's own submission: never a weapon against another.
                "AND (action <> 'quality.scored' OR after ->> 'user' = session_user) "
                f"AND ((actor = session_user AND action IN ({_texts(USER_ACTIONS)})) "
                f"OR (actor = 'annolab' AND action IN ({_texts(SYSTEM_ACTIONS)})) "
                f"OR (actor = '{CONSENSUS_USER}' AND action = 'user.created' "
                f"AND after ->> 'name' = '{CONSENSUS_USER}') "
                f"OR (actor = session_user AND action IN ({_texts(GOLD_ACTIONS)}) "
                "AND public.annolab_gold_curator(project_id))))",
            ),
        ],
        "telemetry": [
            ("FOR SELECT", f"USING (user_id = {me})"),
            (
                "FOR INSERT",
                f"WITH CHECK (user_id = {me} AND public.annolab_task_visible(task_id) "
                "AND public.annolab_project_visible(project_id))",
            ),
        ],
        "gold_sets": [
            ("FOR SELECT", "USING (public.annolab_gold_curator(project_id))"),
            (
                "FOR INSERT",
                f"WITH CHECK (created_by = {me} AND public.annolab_gold_curator(project_id))",
            ),
        ],
        "gold_versions": [
            ("FOR SELECT", "USING (public.annolab_gold_set_curator(gold_set_id))"),
            (
                "FOR INSERT",
                f"WITH CHECK (created_by = {me} AND public.annolab_gold_set_curator(gold_set_id))",
            ),
            (
                "FOR UPDATE",
                "USING (public.annolab_gold_set_curator(gold_set_id)) "
                "WITH CHECK (public.annolab_gold_set_curator(gold_set_id))",
            ),
        ],
        "gold_entries": [
            ("FOR SELECT", "USING (public.annolab_gold_version_curator(gold_version_id))"),
            ("FOR INSERT", "WITH CHECK (public.annolab_gold_version_curator(gold_version_id))"),
            (
                "FOR UPDATE",
                "USING (public.annolab_gold_version_curator(gold_version_id)) "
                "WITH CHECK (public.annolab_gold_version_curator(gold_version_id))",
            ),
        ],
        "gold_conflicts": [
            ("FOR SELECT", "USING (public.annolab_gold_set_curator(gold_set_id))"),
            (
                "FOR INSERT",
                f"WITH CHECK (proposed_by = {me} AND public.annolab_gold_set_curator(gold_set_id))",
            ),
            (
                "FOR UPDATE",
                "USING (public.annolab_gold_set_curator(gold_set_id)) "
                f"WITH CHECK (resolved_by = {me} AND public.annolab_gold_set_curator(gold_set_id))",
            ),
        ],
        # Leads only (their policy below); annotators get no policy and no grant.
        **{table: [] for table in WEBHOOK_TABLES},
    }
    parts = []
    for table in _RLS_TABLES:
        parts.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;")
        existing = ("annolab_read", "annolab_insert", "annolab_update", "annolab_lead")
        parts.extend(f"DROP POLICY IF EXISTS {name} ON {table};" for name in existing)
        parts.append(
            f"CREATE POLICY annolab_lead ON {table} TO {LEAD} USING (true) WITH CHECK (true);"
        )
        for command, clause in rules[table]:
            name = {"FOR SELECT": "read", "FOR INSERT": "insert", "FOR UPDATE": "update"}[command]
            parts.append(
                f"CREATE POLICY annolab_{name} ON {table} {command} TO {ANNOTATOR} {clause};"
            )
    return "\n".join(parts)


def setup_team_roles(engine: sa.Engine) -> None:
    """Create the group roles, grants, guards and policies (run by the tables' owner;
    idempotent: running it again brings an older set-up to this one)."""
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        # Straight to the driver without parameters: the SQL holds colons and percent signs
        # that a bind-parameter parser would take for placeholders.
        with raw.cursor() as cur:
            cur.execute(_SETUP)
            cur.execute(_policies())


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


def add_member(conn: sa.Connection, *, project: str, user: str) -> None:
    """Let annotator ``user`` see and work on ``project`` (the user is made if new)."""
    from annolab.store.users import ensure_user

    project_id = conn.execute(
        sa.text("SELECT id FROM projects WHERE name = :p"), {"p": project}
    ).scalar()
    if project_id is None:
        msg = f"project={project!r} does not exist; create it before adding members"
        raise StoreError(msg)
    user_id = ensure_user(conn, user)
    conn.execute(
        sa.text(
            "INSERT INTO project_members (project_id, user_id) VALUES (:p, :u) "
            "ON CONFLICT DO NOTHING"
        ),
        {"p": project_id, "u": user_id},
    )
