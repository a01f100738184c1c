"""Reaching Ollama through the official client, with failures that say what to run.

``ollama`` is an optional extra: it is imported here, when a persona first needs it, so
``import annolab`` works without it.
"""

from __future__ import annotations

import functools
import os
import ssl
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from annolab.errors import PersonaError

DEFAULT_HOST = "http://127.0.0.1:11434"


def ollama_host(host: str | None = None) -> str:
    """``host``, else ``OLLAMA_HOST``, else Ollama's default address."""
    return host or os.environ.get("OLLAMA_HOST") or DEFAULT_HOST


def require_ollama() -> ModuleType:
    """The ``ollama`` module, or a ``PersonaError`` saying how to install it."""
    try:
        import ollama
    except ImportError as exc:
        msg = 'personas talk to Ollama through the ollama client: pip install "annolab[llm]"'
        raise PersonaError(msg) from exc
    return ollama


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verified TLS context for every client: httpx builds a new one per client, which
    costs ~0.1 s (reading the CA bundle) on every run, even for plain-HTTP hosts."""
    import httpx

    return httpx.create_ssl_context()


def client_options(timeout: float) -> dict[str, Any]:
    """Keyword arguments for ``ollama.Client`` and ``ollama.AsyncClient``."""
    return {"timeout": timeout, "verify": tls_context()}


def unreachable_message(host: str) -> str:
    """The one wording for "no Ollama there", shared with ``annolab doctor``."""
    return (
        f"Ollama is not reachable at {host}: start it with `ollama serve`, or set "
        "OLLAMA_HOST to where it runs"
    )


def not_pulled_message(model: str) -> str:
    """The one wording for "that model is missing", shared with ``annolab doctor``."""
    return f"the Ollama model {model!r} is not pulled: run `ollama pull {model}`"


def same_model(a: str, b: str) -> bool:
    """``llama3.2`` and ``llama3.2:latest`` are one model, as Ollama reads them."""

    def full(name: str) -> str:
        return name if ":" in name else f"{name}:latest"

    return full(a) == full(b)


@dataclass(frozen=True)
class ModelInfo:
    """A pulled model: its name as asked, its digest (what the cache keys on), what it can do."""

    name: str
    digest: str
    capabilities: tuple[str, ...]


def model_info(model: str, host: str | None = None, *, timeout: float = 10.0) -> ModelInfo:
    """Check Ollama is up and ``model`` is pulled; raises ``PersonaError`` with the fix.

    The digest comes from ``/api/tags`` (where Ollama lists it); capabilities from
    ``/api/show`` (empty when the server does not say).
    """
    ollama = require_ollama()
    where = ollama_host(host)
    client: Any = ollama.Client(host=where, **client_options(timeout))
    try:
        try:
            listed = client.list()
        except (ConnectionError, ollama.ResponseError, OSError) as exc:
            raise PersonaError(unreachable_message(where)) from exc
        except Exception as exc:  # httpx timeouts and protocol errors mean the same to a user
            raise PersonaError(f"{unreachable_message(where)} ({type(exc).__name__})") from exc
        for entry in listed.models:
            if entry.model and same_model(entry.model, model):
                return ModelInfo(model, entry.digest or "", _capabilities(client, model))
        raise PersonaError(not_pulled_message(model))
    finally:
        client._client.close()  # the client has no public close on every version


def _capabilities(client: Any, model: str) -> tuple[str, ...]:
    """What ``/api/show`` says the model can do; nothing when the server does not say."""
    ollama = require_ollama()
    try:
        return tuple(client.show(model).capabilities or ())
    except ollama.ResponseError:
        return ()
