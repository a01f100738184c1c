"""An Ollama-protocol server on loopback for tests: the real ``ollama`` client talks to it over
HTTP. It answers what annolab asks so far (``/api/version`` and ``/api/tags``)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _handler(models: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            routes: dict[str, Any] = {
                "/api/version": {"version": "0.12.0"},
                "/api/tags": {
                    "models": [
                        {
                            "name": m,
                            "model": m,
                            "modified_at": "2026-11-01T00:00:00Z",
                            "size": 1,
                            "digest": f"sha256:{i:064x}",
                            "details": {"format": "gguf"},
                        }
                        for i, m in enumerate(models)
                    ]
                },
            }
            body = routes.get(self.path)
            status = 200 if body is not None else 404
            data = json.dumps(body if body is not None else {"error": "not found"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test output is for the tests."""

    return Handler


@contextmanager
def ollama_server(models: list[str]) -> Iterator[str]:
    """Serve the Ollama protocol on a free loopback port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(models))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
