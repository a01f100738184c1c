"""Users: humans known by their login name, personas by theirs."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from annolab.schema.enums import UserKind
from annolab.store.events import record_event
from annolab.store.tables import users


def ensure_user(conn: sa.Connection, name: str, *, kind: UserKind = UserKind.HUMAN) -> int:
    """The id of user ``name``, creating the user (and its event) the first time."""
    created = conn.execute(
        insert(users)
        .values(name=name, kind=kind)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(users.c.id)
    ).scalar()
    if created is not None:
        record_event(
            conn,
            actor=name,
            action="user.created",
            entity="user",
            entity_id=created,
            after={"name": name, "kind": kind.value},
        )
        return int(created)
    return int(conn.execute(sa.select(users.c.id).where(users.c.name == name)).scalar_one())
