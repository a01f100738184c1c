"""An Ollama-protocol server on loopback, a stand-in for ``ollama serve`` that answers from
rules: the real ``ollama`` client talks to it over HTTP, so tests, benchmarks and notebooks run
the code path users run against a real Ollama, anywhere and without a model.

It serves ``/api/version``, ``/api/tags``, ``/api/show``, ``/api/chat``, ``/api/generate`` (each
streaming as NDJSON or not) and ``/api/embed``. What the model "says" comes from, in order: a
queue of scripted replies (``server.script(...)``), then ``responder(request)``. A reply can be
malformed text, an HTTP error, or a delay longer than the client's timeout.

``latency`` is added to every generation and ``slots`` bounds how many run at once (later
requests wait), like ``OLLAMA_NUM_PARALLEL``.

    with serve_ollama(["llama3.2"], responder=lambda r: '{"label": "pos"}') as server:
        ollama.Client(host=server.url).chat(model="llama3.2", messages=[...])
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CREATED_AT = "2026-11-01T00:00:00Z"
DEFAULT_CAPABILITIES = ["completion", "vision", "embedding"]


@dataclass(frozen=True)
class Reply:
    """What the model answers to one request: ``content`` with HTTP ``status`` 200, or an HTTP
    error (``status`` >= 400 with ``error``), after ``delay`` seconds. ``body`` replaces the
    whole HTTP body, to send what no Ollama would (a broken protocol reply)."""

    content: str = ""
    status: int = 200
    error: str = ""
    delay: float = 0.0
    body: str | None = None


@dataclass(frozen=True)
class Request:
    """One request the server received: ``path`` and the decoded JSON ``body``."""

    path: str
    body: dict[str, Any]

    @property
    def prompt(self) -> str:
        """The last user message (chat) or the prompt (generate)."""
        messages = self.body.get("messages") or []
        users = [m.get("content", "") for m in messages if m.get("role") == "user"]
        return str(users[-1] if users else self.body.get("prompt", ""))

    @property
    def images(self) -> list[str]:
        """The base64 images sent with the last message (chat) or the prompt (generate)."""
        messages = self.body.get("messages") or []
        if messages:
            return list(messages[-1].get("images") or [])
        return list(self.body.get("images") or [])


Responder = Callable[[Request], "Reply | str"]


def digest_of(model: str) -> str:
    """The digest the server reports for ``model``: fixed per name, like a real model file."""
    return "sha256:" + hashlib.sha256(model.encode()).hexdigest()


def full_name(model: str) -> str:
    """``llama3.2`` and ``llama3.2:latest`` name the same model, as in Ollama."""
    return model if ":" in model else f"{model}:latest"


def embedding(text: str, dimensions: int) -> list[float]:
    """A unit vector made from a hash of ``text``: the same text always embeds the same."""
    rng = random.Random(hashlib.sha256(text.encode()).digest())  # noqa: S311 - not a secret
    vector = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def tokens(text: str) -> int:
    """A stand-in token count: words, so tests can predict it."""
    return len(text.split())


@dataclass
class OllamaServer:
    """The state of a running server: its URL, scripted replies and what it received."""

    models: list[str]
    responder: Responder = lambda request: "{}"
    latency: float = 0.0
    slots: int = 4
    dimensions: int = 384
    capabilities: dict[str, list[str]] = field(default_factory=dict)  # model -> what /api/show says
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    peak: int = 0  # the most generations that ran at once
    _replies: deque[Reply | str] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _running: int = 0
    _slots: threading.Semaphore = field(init=False)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._slots = threading.Semaphore(self.slots)

    def script(self, *replies: Reply | str) -> None:
        """Queue replies for the next chat/generate requests, in order, before ``responder``."""
        with self._lock:
            self._replies.extend(replies)

    def calls(self, path: str) -> int:
        """How many requests ``path`` (e.g. "/api/chat") received."""
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def capabilities_of(self, model: str) -> list[str]:
        for name, capabilities in self.capabilities.items():
            if full_name(name) == full_name(model):
                return capabilities
        return DEFAULT_CAPABILITIES

    def knows(self, model: str) -> bool:
        return full_name(model) in {full_name(m) for m in self.models}

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self, request: Request) -> Reply:
        with self._lock:
            scripted = self._replies.popleft() if self._replies else None
        reply = scripted if scripted is not None else self.responder(request)
        return Reply(content=reply) if isinstance(reply, str) else reply

    def generate(self, request: Request) -> Reply:
        """Wait for a slot, take the latency, and return the reply (a delay is slept too)."""
        with self._slots:
            with self._lock:
                self._running += 1
                self.peak = max(self.peak, self._running)
            try:
                reply = self._next_reply(request)
                self._stopping.wait(self.latency + reply.delay)
            finally:
                with self._lock:
                    self._running -= 1
        return reply


def _handler(server: OllamaServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as Ollama does: a new connection per request would be measured instead
        # of the client in benchmarks.
        protocol_version = "HTTP/1.1"
        # Headers and body leave in one packet: small separate writes on a kept-alive
        # connection otherwise wait ~40 ms for a delayed ACK.
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            if self.path == "/api/version":
                self._json({"version": "0.12.0"})
            elif self.path == "/api/tags":
                self._json({"models": [_tag(m) for m in server.models]})
            else:
                self._json({"error": "not found"}, 404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            request = Request(self.path, body)
            server._record(request)
            model = str(body.get("model", ""))
            routes = {"/api/chat", "/api/generate", "/api/show", "/api/embed"}
            if self.path not in routes:
                self._json({"error": "not found"}, 404)
            elif not server.knows(model):
                error = f'model "{model}" not found, try pulling it first'
                self._json({"error": error}, 404)
            elif self.path == "/api/show":
                self._json(_show(model, server.capabilities_of(model)))
            elif self.path == "/api/embed":
                self._embed(model, body)
            else:
                self._generate(request, model)

        def _embed(self, model: str, body: dict[str, Any]) -> None:
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            size = int(body.get("dimensions") or server.dimensions)
            self._json(
                {
                    "model": model,
                    "embeddings": [embedding(str(t), size) for t in texts],
                    "prompt_eval_count": sum(tokens(str(t)) for t in texts),
                }
            )

        def _generate(self, request: Request, model: str) -> None:
            started = time.perf_counter_ns()
            reply = server.generate(request)
            if reply.status >= 400:
                self._json({"error": reply.error or "internal error"}, reply.status)
                return
            if reply.body is not None:
                self._raw(reply.body.encode())
                return
            chat = request.path == "/api/chat"
            counts = {
                "prompt_eval_count": sum(
                    tokens(str(m.get("content", ""))) for m in request.body.get("messages") or []
                )
                + tokens(str(request.body.get("prompt", "")))
                + tokens(str(request.body.get("system", ""))),
                "eval_count": tokens(reply.content),
                "total_duration": time.perf_counter_ns() - started,
            }

            def part(text: str, *, done: bool) -> dict[str, Any]:
                said: dict[str, Any] = (
                    {"message": {"role": "assistant", "content": text}}
                    if chat
                    else {"response": text}
                )
                end = {"done_reason": "stop", **counts} if done else {}
                return {"model": model, "created_at": CREATED_AT, **said, "done": done, **end}

            if request.body.get("stream", True) is False:
                self._json(part(reply.content, done=True))
                return
            # NDJSON, one object per chunk of a few characters, then a closing one with counts.
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Connection", "close")  # the end of the body is the end of the stream
            self.close_connection = True
            self.end_headers()
            for start in range(0, len(reply.content), 8):
                chunk = part(reply.content[start : start + 8], done=False)
                self._write(json.dumps(chunk).encode() + b"\n")
            self._write(json.dumps(part("", done=True)).encode() + b"\n")

        def _json(self, body: dict[str, Any], status: int = 200) -> None:
            self._raw(json.dumps(body).encode(), status)

        def _raw(self, data: bytes, status: int = 200) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self._write(data)

        def _write(self, data: bytes) -> None:
            # A client that timed out has gone away; that is what the test wanted.
            try:
                self.wfile.write(data)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test output is for the tests."""

    return Handler


def _tag(model: str) -> dict[str, Any]:
    return {
        "name": model,
        "model": model,
        "modified_at": CREATED_AT,
        "size": 1,
        "digest": digest_of(full_name(model)),
        "details": {"format": "gguf", "family": "test"},
    }


def _show(model: str, capabilities: list[str]) -> dict[str, Any]:
    return {
        "modified_at": CREATED_AT,
        "template": "{{ .Prompt }}",
        "modelfile": f"FROM {model}",
        "parameters": "",
        "details": {"format": "gguf", "family": "test"},
        "model_info": {"general.architecture": "test"},
        "capabilities": capabilities,
        "digest": digest_of(full_name(model)),  # not in Ollama's reply; handy for tests
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a request still sleeping out its delay never blocks shutdown
    request_queue_size = 128  # many clients connect at once in benchmarks


@contextmanager
def serve_ollama(
    models: list[str],
    *,
    responder: Responder | None = None,
    latency: float = 0.0,
    slots: int = 4,
    dimensions: int = 384,
    capabilities: dict[str, list[str]] | None = None,
) -> Iterator[OllamaServer]:
    """Serve the Ollama protocol on a free loopback port; yields the server's state."""
    state = OllamaServer(
        models,
        latency=latency,
        slots=slots,
        dimensions=dimensions,
        capabilities=capabilities or {},
    )
    if responder is not None:
        state.responder = responder
    httpd = _Server(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state._stopping.set()  # wakes requests sleeping out a scripted delay
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def ollama_server(models: list[str]) -> Iterator[str]:
    """Serve the Ollama protocol on a free loopback port; yields its base URL."""
    with serve_ollama(models) as state:
        yield state.url
