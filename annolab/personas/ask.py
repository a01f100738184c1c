"""One structured question to a model, outside an annotation run: a refinement proposal or a
twin's profile. The answer is the raw text; the caller validates it."""

from __future__ import annotations

from typing import Any

from annolab.errors import PersonaError
from annolab.personas.llm import (
    client_options,
    not_pulled_message,
    ollama_host,
    require_ollama,
    unreachable_message,
)


def ask_json(
    *,
    model: str,
    prompt: str,
    schema: dict[str, Any],
    options: dict[str, Any] | None = None,
    host: str | None = None,
    timeout: float = 300.0,
) -> str:
    """Send ``prompt`` to ``model`` with ``schema`` as Ollama's ``format=``; the answer's text.

    Raises ``PersonaError`` saying what to run when Ollama is unreachable or the model missing.
    """
    ollama = require_ollama()
    where = ollama_host(host)
    client: Any = ollama.Client(host=where, **client_options(timeout))
    try:
        reply = client.chat(
            model=model,
            messages=[{"role": "user", "content": prompt}],
            format=schema,
            options=options or None,
            stream=False,
        )
    except ollama.ResponseError as exc:
        if exc.status_code == 404:
            raise PersonaError(not_pulled_message(model)) from exc
        msg = f"the model {model!r} answered HTTP {exc.status_code}: {exc.error}"
        raise PersonaError(msg) from exc
    except (ConnectionError, OSError) as exc:
        raise PersonaError(unreachable_message(where)) from exc
    except Exception as exc:  # httpx timeouts and protocol errors mean the same to a user
        raise PersonaError(f"{unreachable_message(where)} ({type(exc).__name__})") from exc
    finally:
        client._client.close()  # the client has no public close on every version
    return str(reply.message.content or "")
