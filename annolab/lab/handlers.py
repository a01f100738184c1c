"""The HTTP API under ``/annolab/api/``: Jupyter's authentication, JSON in and out.

Every handler is an ``APIHandler`` behind ``@tornado.web.authenticated``: a request without the
server's token or login cookie is refused before annolab sees it. Database work runs in a
thread (``asyncio.to_thread``), never on the server's event loop. Errors come back as JSON
``{"message", "field", "value", "rule"}`` with 400 (bad input), 404 (no such project or desk),
409 (the queue refused: a claim, a lease) or 503 (the database cannot be reached).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado.iostream import StreamClosedError

from annolab.errors import (
    AnnolabError,
    AssignmentError,
    ConnectError,
    StoreError,
    ValidationError,
    WorkflowError,
)
from annolab.lab.desk import static_file
from annolab.lab.live import Broadcast
from annolab.lab.service import NotFound, Service

T = TypeVar("T")

# A comment line keeps proxies from closing an idle event stream.
KEEPALIVE_SECONDS = 15.0


class AnnolabHandler(APIHandler):
    """Runs service calls in a thread and turns annolab's errors into JSON answers."""

    @property
    def service(self) -> Service:
        found: Service = self.settings["annolab_service"]
        return found

    async def call(self, fn: Callable[..., T], *args: Any) -> T | None:
        """``fn(*args)`` in a worker thread; on an annolab error the answer is written and
        None returned, so the handler just stops."""
        try:
            return await asyncio.to_thread(fn, *args)
        except NotFound as exc:
            self._fail(404, exc.error)
        except ValidationError as exc:
            self._fail(400, exc)
        except (AssignmentError, WorkflowError) as exc:
            self._fail(409, exc)
        except ConnectError as exc:
            self._fail(503, exc)
        except (StoreError, AnnolabError) as exc:
            self._fail(400, exc)
        except sa.exc.OperationalError as exc:
            self._fail(503, exc)
        return None

    def body(self) -> dict[str, Any]:
        """The request's JSON object; anything else is a 400 naming what was wrong."""
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError as exc:
            raise tornado.web.HTTPError(400, f"body is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise tornado.web.HTTPError(400, "body must be a JSON object")
        return data

    def answer(self, data: Any) -> None:
        if data is not None:
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(data, default=str))

    def _fail(self, status: int, exc: Exception) -> None:
        message: dict[str, Any] = {"message": str(exc)}
        if isinstance(exc, ValidationError):
            message.update(field=exc.field, value=_jsonable(exc.value), rule=exc.rule)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(message, default=str))


def _jsonable(value: object) -> object:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


class ProjectsHandler(AnnolabHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        self.answer(await self.call(self.service.projects))

    @tornado.web.authenticated
    async def post(self) -> None:
        self.answer(await self.call(self.service.create_project, self.body()))


class AlertsHandler(AnnolabHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        self.answer(await self.call(self.service.alerts))


class LayoutsHandler(AnnolabHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        self.answer(await self.call(self.service.layouts))


class ExportHandler(AnnolabHandler):
    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        self.answer(await self.call(self.service.export, name, self.body()))


class DashboardHandler(AnnolabHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        self.answer(await self.call(self.service.dashboard, name))


class QueueHandler(AnnolabHandler):
    """POST opens a desk on the project's queue: the next task claimed, its widget built."""

    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        self.answer(await self.call(self.service.open_desk, name))


class DeskHandler(AnnolabHandler):
    """GET the desk's view in full (a restored tab draws it afresh); DELETE closes it (the task
    stays claimed until its lease ends)."""

    @tornado.web.authenticated
    async def get(self, desk_id: str) -> None:
        desk = await self.call(self.service.desk, desk_id)
        if desk is not None:
            self.answer(await self.call(desk.full_view))

    @tornado.web.authenticated
    async def delete(self, desk_id: str) -> None:
        self.service.close_desk(desk_id)
        self.set_status(204)
        self.finish()


class DeskChangeHandler(AnnolabHandler):
    """``{"widget", "part", "state"}``: traits a widget saved (``model.save_changes``)."""

    @tornado.web.authenticated
    async def post(self, desk_id: str) -> None:
        body = self.body()
        desk = await self.call(self.service.desk, desk_id)
        if desk is not None:
            args = (body.get("widget"), body.get("part"), body.get("state"))
            self.answer(await self.call(desk.change, *args))


class DeskMessageHandler(AnnolabHandler):
    """``{"widget", "part", "content"}``: a custom message (``model.send``), e.g. a patch."""

    @tornado.web.authenticated
    async def post(self, desk_id: str) -> None:
        body = self.body()
        desk = await self.call(self.service.desk, desk_id)
        if desk is not None:
            args = (body.get("widget"), body.get("part"), body.get("content"))
            self.answer(await self.call(desk.message, *args))


class DeskActionHandler(AnnolabHandler):
    """POST ``/submit``, ``/skip`` or ``/draft``: what the widget's buttons do."""

    @tornado.web.authenticated
    async def post(self, desk_id: str, action: str) -> None:
        desk = await self.call(self.service.desk, desk_id)
        if desk is not None:
            self.answer(await self.call(desk.act, action))


class DeskDecideHandler(AnnolabHandler):
    """``{"task", "decision", "reason"?, "answer"?}`` at a review or adjudication step: approve,
    reject (a reason required), revise; pick (``answer``: the index of the answer shown), merge,
    own. ``task`` is the task id on screen, so a retried request never decides the next one."""

    @tornado.web.authenticated
    async def post(self, desk_id: str) -> None:
        body = self.body()
        desk = await self.call(self.service.desk, desk_id)
        if desk is not None:
            args = (
                body.get("task"),
                body.get("decision"),
                body.get("reason", ""),
                body.get("answer"),
            )
            self.answer(await self.call(desk.decide, *args))


class EventsHandler(AnnolabHandler):
    """Server-Sent Events: ``data: {"project_id", "action", "entity"}`` per committed event."""

    @tornado.web.authenticated
    async def get(self) -> None:
        broadcast: Broadcast = self.settings["annolab_broadcast"]
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        key, queue = broadcast.subscribe()
        try:
            # The first line tells the client the stream is open (and tests when to act).
            self.write(": listening\n\n")
            await self.flush()
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except asyncio.TimeoutError:
                    self.write(": keepalive\n\n")
                else:
                    self.write(f"data: {json.dumps(message)}\n\n")
                await self.flush()
        except StreamClosedError:
            pass  # the tab went away
        finally:
            broadcast.unsubscribe(key)


class StaticHandler(APIHandler):
    """The widget front ends (``annolab/static/<name>.js`` and ``.css``) for the tabs; an API
    handler, so a request without credentials gets a 403, not a login page."""

    @tornado.web.authenticated
    def get(self, name: str) -> None:
        path = static_file(name)
        if path is None:
            raise tornado.web.HTTPError(404, f"{name!r} is not a built annolab front-end file")
        kind = "text/javascript" if path.suffix == ".js" else "text/css"
        self.set_header("Cache-Control", "no-cache")
        self.finish(path.read_bytes(), set_content_type=f"{kind}; charset=utf-8")


def routes(base_url: str) -> list[tuple[str, type[tornado.web.RequestHandler]]]:
    """The URL patterns of the API, under the server's ``base_url``."""
    api = url_path_join(base_url, "annolab", "api")
    name = r"(?P<name>[^/]+)"
    desk = r"(?P<desk_id>[0-9a-f]{32})"
    return [
        (url_path_join(api, "projects"), ProjectsHandler),
        (url_path_join(api, "projects", name, "queue"), QueueHandler),
        (url_path_join(api, "projects", name, "export"), ExportHandler),
        (url_path_join(api, "projects", name, "dashboard"), DashboardHandler),
        (url_path_join(api, "alerts"), AlertsHandler),
        (url_path_join(api, "layouts"), LayoutsHandler),
        (url_path_join(api, "events"), EventsHandler),
        (url_path_join(api, "desks", desk), DeskHandler),
        (url_path_join(api, "desks", desk, "change"), DeskChangeHandler),
        (url_path_join(api, "desks", desk, "message"), DeskMessageHandler),
        (url_path_join(api, "desks", desk, r"(?P<action>submit|skip|draft)"), DeskActionHandler),
        (url_path_join(api, "desks", desk, "decide"), DeskDecideHandler),
        (url_path_join(base_url, "annolab", "static", r"(?P<name>[^/]+)"), StaticHandler),
    ]
