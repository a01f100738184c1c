"""Alembic environment: annolab runs migrations itself, on a connection it already holds."""

from __future__ import annotations

from alembic import context

from annolab.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    msg = (
        "annolab migrations run through annolab.store.migrate.upgrade(), which passes a connection"
    )
    raise RuntimeError(msg)

context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
