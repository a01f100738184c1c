"""What the server extension does, without tornado: the store calls behind each handler.

Each method is blocking (it talks to Postgres); the handlers run them off the event loop. The
server acts as one user, the workspace's: ``JUPYTERHUB_USER`` on a hub, else the OS user, on
the embedded database or ``ANNOLAB_DATABASE_URL`` (``annolab.connect()``).
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

from annolab.errors import AnnolabError, ValidationError
from annolab.lab.desk import Desk
from annolab.project import Project
from annolab.resources import search_path
from annolab.schema.fields import check_name, check_str
from annolab.session import Session
from annolab.store.projects import find_project, list_projects
from annolab.workspace import Workspace, connect

# The sidebar shows this many recent alerts.
ALERTS_SHOWN = 20
# Open desks kept at most: a tab closed without saying so (a crashed browser) leaves its desk
# behind; the oldest go first. Its task stays claimed until the lease ends, as in a notebook.
DESKS_KEPT = 64


class NotFound(AnnolabError):
    """A project or desk that does not exist (HTTP 404)."""

    def __init__(self, field: str, value: object, rule: str) -> None:
        self.error = ValidationError(field, value, rule)
        super().__init__(str(self.error))


class Service:
    """The server's workspace, its open desks (one per tab), and the calls the API makes."""

    def __init__(self, root_dir: Path, workspace: Workspace | None = None) -> None:
        self.root_dir = root_dir.resolve()
        self._workspace = workspace
        self._lock = threading.Lock()
        self.desks: dict[str, Desk] = {}

    @property
    def workspace(self) -> Workspace:
        """Connected on first use: starting the embedded database takes a moment, and a
        server that never opens the sidebar should not pay for it."""
        with self._lock:
            if self._workspace is None:
                self._workspace = connect()
            return self._workspace

    def close(self) -> None:
        if self._workspace is not None:
            self._workspace.close()

    # -- projects --------------------------------------------------------------------------

    def project(self, name: object) -> Project:
        checked = check_name(name, "project")
        ws = self.workspace
        with ws.engine.begin() as conn:
            if find_project(conn, checked) is None:
                known = [row.name for row in list_projects(conn)]
                raise NotFound("project", checked, f"is not a project; projects: {known}")
        return ws.project(checked)

    def projects(self) -> dict[str, Any]:
        """Every active project with its progress, goals and the user's queue counts."""
        ws = self.workspace
        with ws.engine.begin() as conn:
            rows = list_projects(conn)
        shown = []
        for row in rows:
            project = Project(ws, row)
            progress = project.progress()
            done, open_ = Session(project).queue_counts()
            shown.append(
                {
                    "id": project.id,
                    "name": project.name,
                    "status": str(project.status.value),
                    "layout": project.layout_name,
                    "total": progress.total,
                    "completed": progress.completed,
                    "fraction": progress.fraction,
                    "queue": {"done": done, "open": open_},
                    "goals": [
                        {
                            "name": g.name,
                            "kind": g.kind,
                            "met": g.met,
                            "state": g.state,
                            "detail": g.detail,
                        }
                        for g in progress.goals
                    ],
                }
            )
        return {"user": ws.user, "projects": shown}

    def alerts(self) -> dict[str, Any]:
        """The latest ``quality.alert`` events the user may read, newest first."""
        ws = self.workspace
        with ws.engine.begin() as conn:
            rows = list_projects(conn)
        found: list[dict[str, Any]] = []
        for row in rows:
            events = Project(ws, row).events(actions="quality.alert")
            for event in events.tail(ALERTS_SHOWN).iter_rows(named=True):
                at = event["at"]
                found.append(
                    {
                        "project": row.name,
                        "id": event["id"],
                        "at": at.isoformat() if isinstance(at, dt.datetime) else str(at),
                        "actor": event["actor"],
                        "entity": event["entity"],
                        "entity_id": event["entity_id"],
                        "after": event["after"],
                    }
                )
        found.sort(key=lambda e: (e["at"], e["id"]), reverse=True)
        return {"alerts": found[:ALERTS_SHOWN]}

    def layouts(self) -> dict[str, Any]:
        """Layout names on the search path (the user's folder first, then annolab's)."""
        names = sorted({p.stem for folder in search_path("layouts") for p in folder.glob("*.yaml")})
        return {"layouts": names}

    def create_project(self, body: dict[str, Any]) -> dict[str, Any]:
        """A new project from a layout: ``{"name", "layout", "labels", "guidelines"?}``."""
        name = check_name(body.get("name"), "name")
        layout = check_name(body.get("layout", "ner"), "layout")
        guidelines = check_str(body.get("guidelines", ""), "guidelines")
        if "labels" not in body:
            raise ValidationError("labels", None, "is required: a list of label names")
        project = self.workspace.create_project(
            name, labels=body["labels"], layout=layout, guidelines=guidelines
        )
        return {"name": project.name, "id": project.id, "layout": project.layout_name}

    def export(self, name: object, body: dict[str, Any]) -> dict[str, Any]:
        """Export to ``path`` (under the server's root folder) in ``format``."""
        project = self.project(name)
        given = check_str(body.get("path"), "path")
        path = (self.root_dir / given).resolve()
        if self.root_dir not in path.parents:
            rule = f"must be a file path inside the server's folder {self.root_dir}"
            raise ValidationError("path", given, rule)
        fmt = body.get("format")
        if fmt is not None:
            fmt = check_str(fmt, "format")
        path.parent.mkdir(parents=True, exist_ok=True)
        report = project.export(path, format=fmt, progress=False)
        return {
            "path": str(path.relative_to(self.root_dir)),
            "format": report.format,
            "written": report.written,
            "tasks": report.tasks,
            "unanswered": report.unanswered,
            "notes": len(report.notes),
        }

    def dashboard(self, name: object) -> dict[str, Any]:
        """The project dashboard as a Vega-Lite spec (``al.dashboards.project``), or why not."""
        from annolab import dashboards

        project = self.project(name)
        annotations = project.annotations()
        if annotations.height == 0:
            return {"spec": None, "message": f"No annotations in {project.name!r} yet."}
        chart = dashboards.project(annotations, project.tasks(), project.events())
        return {"spec": chart.to_dict(), "message": ""}

    # -- desks -----------------------------------------------------------------------------

    def open_desk(self, name: object) -> dict[str, Any]:
        desk = Desk(self.project(name))
        with self._lock:
            self.desks[desk.id] = desk
            while len(self.desks) > DESKS_KEPT:
                del self.desks[next(iter(self.desks))]
        return desk.view()

    def desk(self, desk_id: str) -> Desk:
        with self._lock:
            found = self.desks.get(desk_id)
        if found is None:
            raise NotFound("desk", desk_id, "is not an open desk; open the queue again")
        return found

    def close_desk(self, desk_id: str) -> None:
        with self._lock:
            self.desks.pop(desk_id, None)
