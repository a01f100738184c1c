"""``annolab.connect()`` and the workspace it returns: the entry point to everything stored."""

from __future__ import annotations

import functools
import getpass
import os
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from annolab.errors import ValidationError
from annolab.personas import Personas
from annolab.project import Project
from annolab.resources import layout_exists, load_layout
from annolab.schema import LabelSchema, validate_labels
from annolab.schema.enums import Proficiency, Role
from annolab.schema.fields import check_int, check_member, check_members, check_name
from annolab.schema.layout import Layout
from annolab.schema.project_input import check_new_project
from annolab.store import migrate, projects
from annolab.store.embedded import restart_on_connect, start_embedded
from annolab.store.engine import create_engine, redact, server_versions
from annolab.store.frames import read_frame
from annolab.store.guard import guard_refused_values
from annolab.store.layouts import (
    deprecate_layout,
    get_layout,
    latest_layout,
    layout_versions,
    publish_layout,
)
from annolab.store.users import add_to_team, ensure_user, set_roles, set_skill
from annolab.webhooks import Webhooks
from annolab.workflow.spec import Workflow, single

_PROJECT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "project_id": pl.Int64,
    "name": pl.String,
    "status": pl.String,
    "tasks": pl.Int64,
    "annotations": pl.Int64,
    "created_at": pl.Datetime("us", "UTC"),
}


def _layout(layout: str | dict[str, Any]) -> dict[str, Any]:
    """A named layout from ``layouts/``, or one given inline, checked as a ``Layout``.

    An inline dict with ``extends`` is laid over its base by name; one that names a shipped or
    saved layout is laid over it key by key, as before layouts were typed; any other dict with
    ``questions`` is a layout of its own.
    """
    if isinstance(layout, str):
        return Layout.load(layout).to_dict()
    if "extends" in layout:
        return Layout.from_dict(layout).to_dict()
    base = str(layout.get("name", "ner"))
    if "questions" in layout and not layout_exists(base):
        return Layout.from_stored(layout).to_dict()
    return Layout.from_stored({**load_layout(base), **layout, "name": base}).to_dict()


def _pin(conn: sa.Connection, ws: Workspace, body: dict[str, Any]) -> dict[str, Any]:
    """Publish ``body`` if the newest stored version differs, and pin the project to it: the
    project keeps ``version`` beside its own copy of the body, so every reader of the layout
    finds the same keys as before versions existed."""
    row = publish_layout(conn, name=body["name"], body=body, actor=ws.user, actor_id=ws.user_id)
    _warn_if_deprecated(conn, {**body, "version": row.version})
    return {**row.body, "version": row.version}


def _warn_if_deprecated(conn: sa.Connection, stored: dict[str, Any]) -> None:
    version = stored.get("version")
    if not isinstance(version, int):
        return  # a project made before layouts had versions: read as version 1, never stored
    name = str(stored.get("name"))
    row = get_layout(conn, name, version)
    if row.status != "deprecated":
        return
    newest = latest_layout(conn, name)
    newer = (
        f"; version {newest.version} is the newest"
        if newest is not None and newest.version > version
        else "; publish a new version"
    )
    warnings.warn(
        f"layout {name!r} version {version} is deprecated{newer}", DeprecationWarning, stacklevel=3
    )


class Layouts:
    """The workspace's published layouts. A published version never changes; publishing an
    edited layout makes the next version.

    >>> ws.layouts.publish(al.Layout.load("clinical-ner-v1"))  # doctest: +SKIP
    1
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def publish(self, layout: Layout | str) -> int:
        """Store ``layout`` (a Layout, or the name of a file in ``layouts/``) as the next
        version of its name and return the version; the same body as the newest returns it."""
        found = Layout.load(layout) if isinstance(layout, str) else layout
        ws = self.workspace
        with ws.engine.begin() as conn:
            row = publish_layout(
                conn, name=found.name, body=found.to_dict(), actor=ws.user, actor_id=ws.user_id
            )
        return row.version

    def get(self, name: str, version: int | None = None) -> Layout:
        """Version ``version`` of ``name`` (the newest when None); a deprecated one warns."""
        check_name(name, "name")
        if version is not None:
            version = check_int(version, "version", low=1, high=2**31 - 1)
        with self.workspace.engine.begin() as conn:
            row = get_layout(conn, name, version)
            _warn_if_deprecated(conn, {"name": name, "version": row.version})
        return Layout.from_stored(row.body, name=name)

    def versions(self, name: str) -> pl.DataFrame:
        """Every version of ``name``: version, status, created_by, created_at."""
        check_name(name, "name")
        with self.workspace.engine.begin() as conn:
            return layout_versions(conn, name)

    def deprecate(self, name: str, version: int) -> None:
        """Mark a version deprecated: projects pinned to it keep working and warn on opening."""
        check_name(name, "name")
        version = check_int(version, "version", low=1, high=2**31 - 1)
        with self.workspace.engine.begin() as conn:
            deprecate_layout(conn, name=name, version=version, actor=self.workspace.user)


def _workflow(spec: Workflow | dict[str, Any] | None) -> Workflow:
    if spec is None:
        return single()
    return spec if isinstance(spec, Workflow) else Workflow.from_dict(spec)


def current_user() -> str:
    """Who is annotating: ``JUPYTERHUB_USER`` on a hub, else the operating-system user."""
    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


def connect(
    url: str | None = None, *, home: str | Path | None = None, user: str | None = None
) -> Workspace:
    """Open annolab's database and return a workspace.

    With no ``url`` and no ``ANNOLAB_DATABASE_URL``, a private Postgres with pgvector is started
    (or reused) under ``home`` (default ``$ANNOLAB_HOME`` or ``~/.annolab``). Migrations are
    applied either way.

    >>> import annolab as al
    >>> ws = al.connect()  # doctest: +SKIP
    >>> ws.user  # doctest: +SKIP
    'alice'
    """
    url = url or os.environ.get("ANNOLAB_DATABASE_URL") or None
    embedded = url is None
    home_path = Path(home).expanduser() if home is not None else None
    if url is None:
        url = start_embedded(home_path)
    engine = create_engine(url)
    if embedded:
        restart_on_connect(engine, home_path)
    migrate.upgrade(engine)
    return Workspace(engine, user=user or current_user(), where=redact(url), embedded=embedded)


class Workspace:
    """A connection to annolab's database, acting as one user."""

    def __init__(self, engine: sa.Engine, *, user: str, where: str, embedded: bool) -> None:
        self.engine = engine
        guard_refused_values(engine)  # anything validation missed comes out as a StoreError
        self.user = user
        self.embedded = embedded
        self._where = where
        with engine.begin() as conn:
            self.user_id = ensure_user(conn, user)
            self.server_version, self.pgvector_version = server_versions(conn)

    def create_project(
        self,
        name: str,
        *,
        labels: Any,
        layout: str | dict[str, Any] | Layout = "ner",
        workflow: Workflow | dict[str, Any] | None = None,
        guidelines: str = "",
        settings: dict[str, Any] | None = None,
        exist_ok: bool = False,
    ) -> Project:
        """Create a project; ``labels`` is a list of names or a full label schema.

        With ``exist_ok=True`` an existing project of that name with the same labels is opened
        instead, so a notebook can be run again from the top.

        >>> proj = ws.create_project("tweets", labels=["person", "location"])  # doctest: +SKIP
        """
        # A Layout built in Python is pinned as given; a name or dict is read as before.
        built: dict[str, Any] | None = None
        given: str | dict[str, Any]
        if isinstance(layout, Layout):
            built = given = layout.to_dict()
        else:
            given = layout
        check_new_project(name=name, guidelines=guidelines, settings=settings, layout=given)
        schema: LabelSchema = validate_labels(labels)
        with self.engine.begin() as conn:
            if exist_ok and (found := projects.find_project(conn, name)) is not None:
                if found.label_schema != schema.to_dict():
                    existing = list(LabelSchema.from_dict(found.label_schema).names)
                    rule = (
                        f"differ from the labels of the existing project {name!r} "
                        f"({existing!r}); use another name, or open it with "
                        f"workspace.project({name!r})"
                    )
                    raise ValidationError("labels", list(schema.names), rule)
                return Project(self, found)
            row = projects.create_project(
                conn,
                actor=self.user,
                actor_id=self.user_id,
                name=name,
                label_schema=schema.to_dict(),
                layout=_pin(conn, self, built if built is not None else _layout(given)),
                workflow=_workflow(workflow).to_dict(),
                guidelines=guidelines,
                settings=settings or {},
            )
        return Project(self, row)

    def project(self, name: str) -> Project:
        """Open an existing project by name."""
        check_name(name, "name")
        with self.engine.begin() as conn:
            row = projects.get_project(conn, name)
            _warn_if_deprecated(conn, row.layout)
            return Project(self, row)

    def projects(self, *, archived: bool = False) -> pl.DataFrame:
        """Every project with its status and counts; archived ones (``proj.archive()``) only
        with ``archived=True``."""
        with self.engine.begin() as conn:
            return read_frame(
                conn,
                "SELECT p.id, p.name, p.status::text, "
                "(SELECT count(*) FROM tasks t WHERE t.project_id = p.id), "
                "(SELECT count(*) FROM annotations a JOIN tasks t ON t.id = a.task_id "
                " WHERE t.project_id = p.id), p.created_at FROM projects p "
                "WHERE %(archived)s OR p.status <> 'archived' ORDER BY p.id",
                {"archived": archived},
                _PROJECT_SCHEMA,
            )

    @property
    def layouts(self) -> Layouts:
        """Published layout versions: ``publish``, ``get``, ``versions``, ``deprecate``."""
        return Layouts(self)

    @property
    def personas(self) -> Personas:
        """LLM personas: ``create``, ``get``, ``list`` (see ``annolab.personas``)."""
        return Personas(self)

    @functools.cached_property
    def webhooks(self) -> Webhooks:
        """Signed, retried webhooks: ``add``, ``list``, ``remove``, ``deliver``, ``start``,
        ``deliveries``, ``attempts``, ``dead``, ``redeliver`` (see ``annolab.webhooks``). One
        object per workspace, so a runner started on it can be stopped on it."""
        return Webhooks(self)

    def set_roles(self, user: str, roles: list[str]) -> None:
        """Give ``user`` exactly these roles (annotator, reviewer, adjudicator, team_lead,
        project_admin)."""
        chosen = check_members(Role, roles, "roles")
        with self.engine.begin() as conn:
            user_id = ensure_user(conn, check_name(user, "user"))
            set_roles(conn, actor=self.user, user_id=user_id, roles=chosen)

    def set_skill(self, user: str, skill: str, proficiency: str) -> None:
        """Record ``user``'s ``skill`` at ``proficiency`` (novice, intermediate, expert)."""
        level = check_member(Proficiency, proficiency, "proficiency")
        with self.engine.begin() as conn:
            user_id = ensure_user(conn, check_name(user, "user"))
            set_skill(
                conn,
                actor=self.user,
                user_id=user_id,
                skill=check_name(skill, "skill"),
                proficiency=level,
            )

    def add_to_team(self, user: str, team: str) -> None:
        """Put ``user`` in ``team`` (made if new)."""
        with self.engine.begin() as conn:
            user_id = ensure_user(conn, check_name(user, "user"))
            add_to_team(conn, actor=self.user, user_id=user_id, team=check_name(team, "team"))

    def close(self) -> None:
        """Release the connections (the embedded server stays up for other notebooks)."""
        if "webhooks" in self.__dict__:  # a runner started here would use a closed engine
            self.webhooks.stop()
        self.engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "embedded" if self.embedded else self._where
        return (
            f"<Workspace {where}: Postgres {self.server_version}, "
            f"pgvector {self.pgvector_version}, as {self.user!r}>"
        )
