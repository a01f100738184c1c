"""annolab in JupyterLab: the server extension behind the sidebar and the queue tab.

Loaded by jupyter_server (``jupyter-config/server-config/annolab.json`` enables it; the entry
points are in ``annolab/__init__.py`` so that ``import annolab`` stays light). It adds the API
under ``/annolab/api/`` (see ``annolab.lab.handlers``) and the live-update thread. The front
end is the prebuilt extension in ``annolab/labextension`` (built from ``widgets/lab/``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annolab.lab.handlers import routes
from annolab.lab.live import Broadcast
from annolab.lab.service import Service

__all__ = ["load_extension", "unload_extension"]


def load_extension(serverapp: Any) -> None:
    """Adds annolab's handlers to ``serverapp`` (a ``jupyter_server.serverapp.ServerApp``)."""
    web_app = serverapp.web_app
    service = Service(Path(serverapp.root_dir))
    broadcast = Broadcast(lambda: service.workspace.engine)
    web_app.settings["annolab_service"] = service
    web_app.settings["annolab_broadcast"] = broadcast
    web_app.add_handlers(".*$", routes(web_app.settings["base_url"]))
    serverapp.log.info("annolab: API at %sannolab/api/", web_app.settings["base_url"])


def unload_extension(serverapp: Any) -> None:
    """Stops the live-update thread and releases the database connections at shutdown."""
    settings = serverapp.web_app.settings
    broadcast: Broadcast | None = settings.get("annolab_broadcast")
    service: Service | None = settings.get("annolab_service")
    if broadcast is not None:
        broadcast.stop()
    if service is not None:
        service.close()


_load_jupyter_server_extension = load_extension
_unload_jupyter_server_extension = unload_extension
