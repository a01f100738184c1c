"""The tables, as SQLAlchemy Core: what the code queries and what migrations must produce.

A test compares this metadata with a database migrated to head, so the two can not drift.
Enum types come from ``annolab.schema.enums``: one definition, used by Python and Postgres.

No ``from __future__ import annotations`` here: it would bind the name ``annotations``, which is
also the name of a table.
"""

from enum import Enum

import sqlalchemy as sa
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql as pg

from annolab.schema import enums

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def pg_enum(enum_cls: type[Enum], name: str) -> sa.Enum:
    """A Postgres enum type holding the *values* of ``enum_cls`` (not its member names)."""
    return sa.Enum(
        enum_cls,
        name=name,
        values_callable=lambda members: [str(m.value) for m in members],
        metadata=metadata,
        create_type=False,  # migrations create types; the metadata only describes them
    )


user_kind = pg_enum(enums.UserKind, "user_kind")
user_status = pg_enum(enums.UserStatus, "user_status")
user_role = pg_enum(enums.Role, "user_role")
proficiency = pg_enum(enums.Proficiency, "proficiency")
team_role = pg_enum(enums.TeamRole, "team_role")
project_status = pg_enum(enums.ProjectStatus, "project_status")
task_status = pg_enum(enums.TaskStatus, "task_status")
assignment_status = pg_enum(enums.AssignmentStatus, "assignment_status")
annotation_kind = pg_enum(enums.AnnotationKind, "annotation_kind")
annotation_status = pg_enum(enums.AnnotationStatus, "annotation_status")
review_decision = pg_enum(enums.ReviewDecision, "review_decision")
gold_category = pg_enum(enums.GoldCategory, "gold_category")
gold_conflict_status = pg_enum(enums.GoldConflictStatus, "gold_conflict_status")

ENUM_TYPES = (
    user_kind,
    user_status,
    user_role,
    proficiency,
    team_role,
    project_status,
    task_status,
    assignment_status,
    annotation_kind,
    annotation_status,
    review_decision,
    gold_category,
    gold_conflict_status,
)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True)


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def _jsonb(name: str, default: str) -> sa.Column[object]:
    return sa.Column(name, pg.JSONB, nullable=False, server_default=sa.text(f"'{default}'::jsonb"))


users = sa.Table(
    "users",
    metadata,
    _id(),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("display_name", sa.Text, nullable=False, server_default=""),
    sa.Column("kind", user_kind, nullable=False, server_default=enums.UserKind.HUMAN.value),
    sa.Column(
        "roles",
        pg.ARRAY(user_role),
        nullable=False,
        server_default=sa.text("'{annotator}'::user_role[]"),
    ),
    sa.Column("status", user_status, nullable=False, server_default=enums.UserStatus.ACTIVE.value),
    _created_at(),
)

user_skills = sa.Table(
    "user_skills",
    metadata,
    sa.Column(
        "user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("skill", sa.Text, primary_key=True),
    sa.Column("proficiency", proficiency, nullable=False),
)

teams = sa.Table(
    "teams",
    metadata,
    _id(),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    _created_at(),
)

team_members = sa.Table(
    "team_members",
    metadata,
    sa.Column(
        "team_id", sa.BigInteger, sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("role", team_role, nullable=False, server_default=enums.TeamRole.MEMBER.value),
)

projects = sa.Table(
    "projects",
    metadata,
    _id(),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column(
        "status", project_status, nullable=False, server_default=enums.ProjectStatus.ACTIVE.value
    ),
    _jsonb("label_schema", "{}"),
    _jsonb("layout", "{}"),
    _jsonb("workflow", "{}"),
    sa.Column("guidelines", sa.Text, nullable=False, server_default=""),
    sa.Column("guidelines_version", sa.Integer, nullable=False, server_default="1"),
    _jsonb("settings", "{}"),
    sa.Column("created_by", sa.BigInteger, sa.ForeignKey("users.id"), nullable=True),
    _created_at(),
)

# Who may see a project on a team server (migration 0008): annotators read and work only on
# projects they are members of; leads and the tables' owner see every project.
project_members = sa.Table(
    "project_members",
    metadata,
    sa.Column(
        "project_id",
        sa.BigInteger,
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    _created_at(),
)

tasks = sa.Table(
    "tasks",
    metadata,
    _id(),
    sa.Column(
        "project_id",
        sa.BigInteger,
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("external_id", sa.Text, nullable=False),
    sa.Column("data", pg.JSONB, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", task_status, nullable=False, server_default=enums.TaskStatus.PENDING.value),
    sa.Column("step", sa.Text, nullable=False, server_default="annotate"),  # the current step
    # People holding or done with the current step: kept on the task row, so claims that lock
    # the row also see the count change (a count of assignments would be a stale snapshot).
    sa.Column("assigned", sa.Integer, nullable=False, server_default="0"),
    sa.Column("needed", sa.Integer, nullable=False, server_default="1"),  # people the step needs
    _created_at(),
    # {step: the most people that step ever needed}, kept by a trigger from each value ``needed``
    # held before it changed (migration 0008). A team server releases a step's annotations from
    # this, never from ``needed`` alone, which the annotators' own sessions write.
    _jsonb("step_needs", "{}"),
    sa.UniqueConstraint("project_id", "external_id"),
    sa.Index("ix_tasks_queue", "project_id", "status", sa.text("priority DESC"), "id"),
    # The claim query's order over the tasks it may take (migration 0004).
    sa.Index(
        "ix_tasks_open",
        "project_id",
        sa.text("priority DESC"),
        "id",
        postgresql_where=sa.text("status IN ('pending', 'in_progress')"),
    ),
)

assignments = sa.Table(
    "assignments",
    metadata,
    _id(),
    sa.Column(
        "task_id", sa.BigInteger, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("step", sa.Text, nullable=False, server_default="annotate"),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id"), nullable=False),
    sa.Column(
        "status",
        assignment_status,
        nullable=False,
        server_default=enums.AssignmentStatus.ACTIVE.value,
    ),
    sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
    _created_at(),
    sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("task_id", "step", "user_id"),
    sa.Index(
        "ix_assignments_active", "lease_expires_at", postgresql_where=sa.text("status = 'active'")
    ),
    # The task a user holds, read by every claim (migration 0014).
    sa.Index(
        "ix_assignments_user_active", "user_id", postgresql_where=sa.text("status = 'active'")
    ),
)

annotations = sa.Table(
    "annotations",
    metadata,
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),  # made by the client: idempotent
    sa.Column(
        "task_id", sa.BigInteger, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("kind", annotation_kind, nullable=False),
    sa.Column("status", annotation_status, nullable=False),
    sa.Column("payload", pg.JSONB, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("parent_id", pg.UUID(as_uuid=True), sa.ForeignKey("annotations.id"), nullable=True),
    sa.Column("step", sa.Text, nullable=False, server_default="annotate"),
    sa.Column("time_spent", sa.Float, nullable=True),  # seconds the annotator spent
    sa.Column("guidelines_version", sa.Integer, nullable=True),
    sa.Column("model", sa.Text, nullable=True),
    sa.Column("model_digest", sa.Text, nullable=True),
    sa.Column("prompt_hash", sa.Text, nullable=True),
    sa.Column("persona_version", sa.Integer, nullable=True),
    _created_at(),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.CheckConstraint("version >= 1", name="version_positive"),
    sa.CheckConstraint("time_spent IS NULL OR time_spent >= 0", name="time_spent_positive"),
    sa.Index("ix_annotations_task", "task_id", "status"),
    sa.Index("ix_annotations_user", "user_id", "created_at"),
)

reviews = sa.Table(
    "reviews",
    metadata,
    _id(),
    sa.Column(
        "annotation_id",
        pg.UUID(as_uuid=True),
        sa.ForeignKey("annotations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("reviewer_id", sa.BigInteger, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("decision", review_decision, nullable=False),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    _created_at(),
    sa.Index("ix_reviews_annotation", "annotation_id"),
)

feedback = sa.Table(
    "feedback",
    metadata,
    _id(),
    sa.Column(
        "annotation_id",
        pg.UUID(as_uuid=True),
        sa.ForeignKey("annotations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("rating", sa.SmallInteger, nullable=True),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    _jsonb("error_spans", "[]"),
    _created_at(),
    sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_1_to_5"),
    sa.Index("ix_feedback_annotation", "annotation_id"),
)

events = sa.Table(
    "events",
    metadata,
    _id(),
    sa.Column(
        "at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.clock_timestamp()
    ),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("entity", sa.Text, nullable=False),
    sa.Column("entity_id", sa.Text, nullable=False),
    sa.Column("project_id", sa.BigInteger, nullable=True),  # no FK: history outlives projects
    sa.Column("before", pg.JSONB, nullable=True),
    sa.Column("after", pg.JSONB, nullable=True),
    sa.Column("txid", sa.BigInteger, nullable=False, server_default=sa.func.txid_current()),
    sa.Index("ix_events_entity", "entity", "entity_id", "id"),
    sa.Index("ix_events_project", "project_id", "id"),
    sa.Index("ix_events_txid", "txid"),  # live updates read new events by transaction
    sa.Index(
        "ix_events_restrictions",
        "project_id",
        sa.text("(after ->> 'user')"),
        "id",
        postgresql_where=sa.text("action IN ('quality.restricted', 'quality.unrestricted')"),
    ),
)

# Personas (migration 0005): a persona is a users row of kind 'persona'; each edit is a new row.
persona_versions = sa.Table(
    "persona_versions",
    metadata,
    _id(),
    sa.Column(
        "user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    _jsonb("traits", "[]"),  # [{name, value 0-1, description}]
    _jsonb("examples", "[]"),  # [{input, output, explanation}]
    sa.Column("model", sa.Text, nullable=False),
    _jsonb("options", "{}"),  # Ollama options: temperature, seed, num_ctx, ...
    sa.Column("template", sa.Text, nullable=False),  # the prompts/ template it was rendered from
    sa.Column("system_prompt", sa.Text, nullable=False),
    _created_at(),
    sa.Column("created_by", sa.BigInteger, sa.ForeignKey("users.id"), nullable=True),
    sa.UniqueConstraint("user_id", "version"),
    sa.CheckConstraint("version >= 1", name="version_positive"),
)

# Layout versions (migration 0009): a published body never changes (a trigger refuses it); a
# project pins {name, version} and keeps a copy of the body in projects.layout.
layouts = sa.Table(
    "layouts",
    metadata,
    _id(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    _jsonb("body", "{}"),
    sa.Column("status", sa.Text, nullable=False, server_default="published"),
    sa.Column("created_by", sa.BigInteger, sa.ForeignKey("users.id"), nullable=True),
    _created_at(),
    sa.UniqueConstraint("name", "version"),
    sa.CheckConstraint("version >= 1", name="version_positive"),
    sa.CheckConstraint("status IN ('published', 'deprecated')", name="status_known"),
)

# One validated LLM answer per (model digest, prompt, input, output schema): a re-run of the
# same persona on the same items costs no model call.
llm_cache = sa.Table(
    "llm_cache",
    metadata,
    sa.Column("model_digest", sa.Text, primary_key=True),
    sa.Column("prompt_hash", sa.Text, primary_key=True),
    sa.Column("input_hash", sa.Text, primary_key=True),
    sa.Column("schema_hash", sa.Text, primary_key=True),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("response", sa.Text, nullable=False),  # the model's raw text
    sa.Column("payload", pg.JSONB, nullable=False),  # that text as a validated payload
    sa.Column("prompt_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("completion_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("seconds", sa.Float, nullable=False, server_default="0"),
    _created_at(),
)

# Items an LLM could not annotate after every retry, with the last raw answer to inspect. A
# table, not events: raw answers can be large and events can never be pruned.
llm_failures = sa.Table(
    "llm_failures",
    metadata,
    _id(),
    sa.Column(
        "persona_version_id",
        sa.BigInteger,
        sa.ForeignKey("persona_versions.id", ondelete="CASCADE"),
        nullable=True,
    ),
    sa.Column(
        "task_id", sa.BigInteger, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True
    ),
    sa.Column("item", sa.Text, nullable=False),  # the task's external id, or a frame row's id
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("model_digest", sa.Text, nullable=True),
    sa.Column("prompt_hash", sa.Text, nullable=True),
    sa.Column("input_hash", sa.Text, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("raw_response", sa.Text, nullable=True),  # None when no answer came (HTTP error)
    _created_at(),
    sa.Index("ix_llm_failures_persona_version", "persona_version_id", "created_at"),
)

# Embeddings (migration 0006). The vector column has no fixed size so that models of several
# dimensions share one table; each dimension in HNSW_DIMENSIONS gets a partial expression index
# that a query uses when it repeats ``embedding::vector(N)`` and ``dimension = N``. Other
# dimensions are searched exactly. The migration's docstring gives the reasons.
HNSW_DIMENSIONS = (384, 768, 1024)
HNSW_M = 16
# 128, not pgvector's 64: on a million clustered vectors it lifted recall@10 from 0.93-0.96 to
# 1.0 at the same search cost (benchmarks/personas.py); the build took about as long.
HNSW_EF_CONSTRUCTION = 128

embedding_models = sa.Table(
    "embedding_models",
    metadata,
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("dimension", sa.Integer, nullable=False),  # fixed once the first vector is stored
    _created_at(),
    sa.UniqueConstraint("model", "dimension"),  # the target of embeddings' composite key
    sa.CheckConstraint("dimension BETWEEN 1 AND 16000", name="dimension_range"),
)

embeddings = sa.Table(
    "embeddings",
    metadata,
    _id(),
    sa.Column("owner_kind", sa.Text, nullable=False),  # 'task' or 'example'
    sa.Column("owner_id", sa.BigInteger, nullable=False),  # tasks.id or persona_versions.id
    sa.Column("part", sa.Integer, nullable=False, server_default="0"),  # an example's position
    sa.Column(
        "project_id",
        sa.BigInteger,
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        nullable=True,
    ),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("dimension", sa.Integer, nullable=False),
    sa.Column("embedding", Vector(), nullable=False),
    sa.Column("content_hash", sa.Text, nullable=False),  # sha256 of the text, hex
    _created_at(),
    sa.UniqueConstraint("owner_kind", "owner_id", "part", "model"),
    sa.ForeignKeyConstraint(
        ["model", "dimension"],
        ["embedding_models.model", "embedding_models.dimension"],
        name="fk_embeddings_model_embedding_models",
    ),
    sa.CheckConstraint("owner_kind IN ('task', 'example')", name="owner_kind_known"),
    sa.CheckConstraint("vector_dims(embedding) = dimension", name="dimension_matches"),
    sa.Index("ix_embeddings_project_id_model", "project_id", "model"),
    # Finds a stored vector of the same text, so a repeated text is never embedded twice.
    sa.Index("ix_embeddings_model_content_hash", "model", "content_hash"),
)

for _dim in HNSW_DIMENSIONS:
    sa.Index(
        f"ix_embeddings_hnsw_{_dim}",
        sa.cast(embeddings.c.embedding, Vector(_dim)).label(f"embedding_{_dim}"),
        postgresql_using="hnsw",
        postgresql_ops={f"embedding_{_dim}": "vector_cosine_ops"},
        postgresql_where=sa.text(f"dimension = {_dim}"),
        postgresql_with={"m": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION},
    )

# The golden dataset (migration 0010). A set has numbered versions; at most one of them is open
# (not frozen) and takes changes; a frozen version never changes again (a trigger refuses it,
# for every role). An answer that disagrees with the open version's waits in gold_conflicts
# until a curator accepts or rejects it.
gold_sets = sa.Table(
    "gold_sets",
    metadata,
    _id(),
    sa.Column(
        "project_id",
        sa.BigInteger,
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.Text, nullable=False),
    _created_at(),
    sa.Column("created_by", sa.BigInteger, sa.ForeignKey("users.id"), nullable=True),
    sa.UniqueConstraint("project_id", "name"),
)

gold_versions = sa.Table(
    "gold_versions",
    metadata,
    _id(),
    sa.Column(
        "gold_set_id",
        sa.BigInteger,
        sa.ForeignKey("gold_sets.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("version", sa.Integer, nullable=False),
    _created_at(),
    sa.Column("created_by", sa.BigInteger, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("frozen", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("gold_set_id", "version"),
    sa.CheckConstraint("version >= 1", name="version_positive"),
    # One working version per set: two processes can not both open one.
    sa.Index(
        "ix_gold_versions_open",
        "gold_set_id",
        unique=True,
        postgresql_where=sa.text("NOT frozen"),
    ),
)

gold_entries = sa.Table(
    "gold_entries",
    metadata,
    _id(),
    sa.Column(
        "gold_version_id",
        sa.BigInteger,
        sa.ForeignKey("gold_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "task_id", sa.BigInteger, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("payload", pg.JSONB, nullable=False),
    sa.Column("category", gold_category, nullable=False),
    sa.Column("source", sa.Text, nullable=False),  # consensus, reviewed or annotation
    sa.Column("source_annotation_id", pg.UUID(as_uuid=True), nullable=True),
    sa.Column("reviewer", sa.Text, nullable=True),
    sa.Column("agreement", sa.Float, nullable=True),
    _created_at(),
    sa.UniqueConstraint("gold_version_id", "task_id"),
    sa.CheckConstraint("agreement IS NULL OR agreement BETWEEN 0 AND 1", name="agreement_0_to_1"),
)

gold_conflicts = sa.Table(
    "gold_conflicts",
    metadata,
    _id(),
    sa.Column(
        "gold_set_id",
        sa.BigInteger,
        sa.ForeignKey("gold_sets.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "task_id", sa.BigInteger, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("proposed", pg.JSONB, nullable=False),
    sa.Column(
        "existing_entry_id",
        sa.BigInteger,
        sa.ForeignKey("gold_entries.id", ondelete="SET NULL"),
        nullable=True,
    ),
    sa.Column("proposed_by", sa.BigInteger, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("source_annotation_id", pg.UUID(as_uuid=True), nullable=True),
    sa.Column("category", gold_category, nullable=False),
    sa.Column("reviewer", sa.Text, nullable=True),
    sa.Column("agreement", sa.Float, nullable=True),
    sa.Column(
        "status",
        gold_conflict_status,
        nullable=False,
        server_default=enums.GoldConflictStatus.OPEN.value,
    ),
    _created_at(),
    sa.Column("resolved_by", sa.BigInteger, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Index("ix_gold_conflicts_gold_set_id_status", "gold_set_id", "status"),
    sa.CheckConstraint("agreement IS NULL OR agreement BETWEEN 0 AND 1", name="agreement_0_to_1"),
)

# Webhooks (migration 0011). A trigger on events adds one delivery per matching active webhook
# in the event's own transaction; workers claim due deliveries with SKIP LOCKED and a lease
# (``claim``), and log every try in webhook_attempts. Only leads see any of it on a team server.
webhooks = sa.Table(
    "webhooks",
    metadata,
    _id(),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column(
        "project_id",
        sa.BigInteger,
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        nullable=True,  # every project
    ),
    sa.Column("actions", pg.ARRAY(sa.Text), nullable=False),  # 'quality.alert', 'task.*', '*'
    sa.Column("max_attempts", sa.Integer, nullable=False, server_default="5"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_by", sa.BigInteger, sa.ForeignKey("users.id"), nullable=True),
    _created_at(),
    sa.CheckConstraint("max_attempts >= 1", name="max_attempts_positive"),
    sa.CheckConstraint("secret <> ''", name="secret_not_empty"),
    sa.CheckConstraint("url ~ '^https?://'", name="url_http"),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    _id(),
    # What receivers dedupe on: the same for every try of this delivery, redeliveries included.
    sa.Column(
        "uuid",
        pg.UUID(as_uuid=True),
        nullable=False,
        unique=True,
        server_default=sa.text("gen_random_uuid()"),
    ),
    sa.Column(
        "webhook_id",
        sa.BigInteger,
        sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("event_id", sa.BigInteger, nullable=False),  # no FK: events are append-only
    sa.Column("status", sa.Text, nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # When a pending delivery is next due; while a worker holds it, when its lease runs out.
    sa.Column(
        "next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("claim", pg.UUID(as_uuid=True), nullable=True),  # the holding worker's lease
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    _created_at(),
    sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("webhook_id", "event_id"),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status_known"),
    sa.Index(
        "ix_webhook_deliveries_due",
        "next_attempt_at",
        "id",
        postgresql_where=sa.text("status = 'pending'"),
    ),
)

webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    _id(),
    sa.Column(
        "delivery_id",
        sa.BigInteger,
        sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column(
        "started_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("http_status", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("duration", sa.Float, nullable=True),  # seconds
    sa.Index("ix_webhook_attempts_delivery_id", "delivery_id", "attempt"),
)

# What the widgets measured while a task was on screen: one summary per row (migration 0012).
TELEMETRY_COUNTS = ("active_ms", "idle_ms", "keys", "pointer", "edits", "undos", "redos")

telemetry = sa.Table(
    "telemetry",
    metadata,
    # Made by the widget: a retried batch writes nothing twice.
    sa.Column("batch_id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id"), nullable=False),
    sa.Column(
        "project_id",
        sa.BigInteger,
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "task_id", sa.BigInteger, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "assignment_id",
        sa.BigInteger,
        sa.ForeignKey("assignments.id", ondelete="SET NULL"),
        nullable=True,
    ),
    sa.Column("step", sa.Text, nullable=False),
    sa.Column("widget", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    *(sa.Column(name, sa.BigInteger, nullable=False) for name in TELEMETRY_COUNTS),
    _created_at(),
    sa.CheckConstraint("reason IN ('submit', 'draft', 'skip', 'interval')", name="reason_known"),
    sa.CheckConstraint(
        " AND ".join(f"{name} >= 0" for name in TELEMETRY_COUNTS), name="counts_not_negative"
    ),
    sa.Index("ix_telemetry_project_id_user_id", "project_id", "user_id"),
    sa.Index("ix_telemetry_task_id", "task_id"),
)
