"""Users: humans known by their login name, personas by theirs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from annolab.errors import StoreError
from annolab.schema.enums import Proficiency, Role, UserKind
from annolab.store.events import record_event
from annolab.store.tables import team_members, teams, user_skills, users

# On a team server: the login role, and whether it is an annotator who is not a lead (a
# superuser is a member of every role, so counts as a lead). Elsewhere the roles do not exist.
_LOGIN = """
SELECT session_user AS login,
       EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = 'annolab_annotator'
               AND pg_has_role(session_user, r.oid, 'MEMBER'))
       AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = 'annolab_lead'
                       AND pg_has_role(session_user, r.oid, 'MEMBER')) AS restricted
"""


def check_acting_user(conn: sa.Connection, name: str) -> None:
    """Refuse to act as ``name`` from another annotator's login role on a team server.

    Leads (and the tables' owner) may act for anyone: they may read and write everything
    anyway. The database refuses an annotator's writes as someone else regardless; this says
    so at ``annolab.connect()`` instead of at the first write.
    """
    row = conn.execute(sa.text(_LOGIN)).one()
    if row.restricted and name != row.login:
        msg = (
            f"user={name!r} is not you: the login role {row.login!r} is an annotator on this "
            f"team server and acts only as {row.login!r}; connect without user= (or with "
            f"user={row.login!r}), or ask a lead to act for {name!r}"
        )
        raise StoreError(msg)


def ensure_user(conn: sa.Connection, name: str, *, kind: UserKind = UserKind.HUMAN) -> int:
    """The id of user ``name``, creating the user (and its event) the first time.

    A person (not a persona) is checked with ``check_acting_user`` first.
    """
    if kind is UserKind.HUMAN:
        check_acting_user(conn, name)
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


@dataclass(frozen=True)
class UserProfile:
    id: int
    name: str
    kind: UserKind
    roles: frozenset[Role]
    skills: dict[str, Proficiency]
    teams: frozenset[str]


# Who a user is, with roles, skills and teams: columns of ``users u`` that ``profile_of`` reads.
PROFILE_COLUMNS = """
    u.id, u.name, u.kind::text AS kind, u.roles::text[] AS roles,
    ARRAY(SELECT s.skill || ':' || s.proficiency::text FROM user_skills s
          WHERE s.user_id = u.id) AS skills,
    ARRAY(SELECT t.name FROM teams t JOIN team_members m ON m.team_id = t.id
          WHERE m.user_id = u.id) AS teams
"""


def profile_of(row: Any) -> UserProfile:
    """The ``UserProfile`` of a row selected with ``PROFILE_COLUMNS``."""
    skills = (s.rpartition(":") for s in row.skills)  # a skill name may itself hold a colon
    return UserProfile(
        id=row.id,
        name=row.name,
        kind=UserKind(row.kind),
        roles=frozenset(Role(r) for r in row.roles),
        skills={skill: Proficiency(level) for skill, _, level in skills},
        teams=frozenset(row.teams),
    )


def user_profile(conn: sa.Connection, user_id: int) -> UserProfile:
    """Who ``user_id`` is, in one round trip."""
    row = conn.execute(
        sa.text(f"SELECT {PROFILE_COLUMNS} FROM users u WHERE u.id = :u"), {"u": user_id}
    ).one()
    return profile_of(row)


def set_roles(conn: sa.Connection, *, actor: str, user_id: int, roles: list[Role]) -> None:
    before = conn.execute(
        sa.text("SELECT roles::text[] FROM users WHERE id = :u"), {"u": user_id}
    ).scalar_one()
    conn.execute(users.update().where(users.c.id == user_id).values(roles=roles))
    record_event(
        conn,
        actor=actor,
        action="user.roles_changed",
        entity="user",
        entity_id=user_id,
        before={"roles": list(before)},
        after={"roles": [r.value for r in roles]},
    )


def set_skill(
    conn: sa.Connection, *, actor: str, user_id: int, skill: str, proficiency: Proficiency
) -> None:
    conn.execute(
        insert(user_skills)
        .values(user_id=user_id, skill=skill, proficiency=proficiency)
        .on_conflict_do_update(
            index_elements=["user_id", "skill"], set_={"proficiency": proficiency}
        )
    )
    record_event(
        conn,
        actor=actor,
        action="user.skill_set",
        entity="user",
        entity_id=user_id,
        after={"skill": skill, "proficiency": proficiency.value},
    )


def add_to_team(conn: sa.Connection, *, actor: str, user_id: int, team: str) -> None:
    team_id = conn.execute(
        insert(teams)
        .values(name=team)
        .on_conflict_do_update(index_elements=["name"], set_={"name": team})
        .returning(teams.c.id)
    ).scalar_one()
    conn.execute(
        insert(team_members).values(team_id=team_id, user_id=user_id).on_conflict_do_nothing()
    )
    record_event(
        conn,
        actor=actor,
        action="team.member_added",
        entity="team",
        entity_id=team_id,
        after={"team": team, "user_id": user_id},
    )
