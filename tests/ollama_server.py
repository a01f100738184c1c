"""The Ollama-protocol test server, which lives in ``annolab.testing.ollama`` so notebooks and
benchmarks can start it too; tests import it from here as before."""

from __future__ import annotations

from annolab.testing.ollama import (
    CREATED_AT,
    DEFAULT_CAPABILITIES,
    OllamaServer,
    Reply,
    Request,
    Responder,
    digest_of,
    embedding,
    full_name,
    ollama_server,
    serve_ollama,
    tokens,
)

__all__ = [
    "CREATED_AT",
    "DEFAULT_CAPABILITIES",
    "OllamaServer",
    "Reply",
    "Request",
    "Responder",
    "digest_of",
    "embedding",
    "full_name",
    "ollama_server",
    "serve_ollama",
    "tokens",
]
