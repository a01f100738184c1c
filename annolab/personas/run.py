"""The async batch behind ``persona.annotate``: bounded concurrency, retries with exponential
backoff, and a failure recorded per item instead of an exception that stops the batch.

Results go to ``sink`` in small batches as they arrive, so a run stopped half way keeps what it
had (and the cache makes the next run skip it).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from annolab.errors import ValidationError
from annolab.personas.llm import client_options, require_ollama
from annolab.personas.prompts import task_prompt
from annolab.personas.schemas import to_payload
from annolab.personas.summary import Outcome
from annolab.schema import LabelSchema

# Worth another try: the server was busy or broke, not "this model does not exist".
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
SINK_BATCH = 32
# Items under way per request place: the extra ones wait out a backoff or get validated without
# holding a place, and memory stays bounded however many items a run has.
ITEMS_PER_PLACE = 4

T = TypeVar("T")


@dataclass(frozen=True)
class Item:
    """One thing to annotate; its prompt is rendered when it is asked (unless given here), so a
    large run never holds every prompt at once."""

    key: str
    task_id: int | None
    text: str
    input_hash: str
    image: bytes | None = None
    image_size: tuple[int, int] | None = None
    prompt: str = ""
    system_prompt: str = ""  # this item's own, when its few-shot examples were chosen for it


@dataclass(frozen=True)
class Call:
    """How to ask: the model, the persona's system prompt and options, and the policy."""

    host: str
    model: str
    system_prompt: str
    options: dict[str, Any]
    schema: dict[str, Any]
    kind: str
    labels: LabelSchema
    guidelines: str = ""
    concurrency: int = 4
    retries: int = 2
    backoff: float = 0.5
    timeout: float = 120.0
    stream: bool = False


def run_coroutine(make: Callable[[], Coroutine[Any, Any, T]], *, stop: threading.Event) -> T:
    """Run a coroutine to the end from ordinary code, in a notebook too.

    A Jupyter kernel already runs an event loop in this thread, where ``asyncio.run`` refuses
    to start; there the coroutine runs on a fresh loop in a worker thread. Interrupting the
    kernel then sets ``stop``: no new item starts, the ones under way finish and are stored.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(1, thread_name_prefix="annolab-persona") as pool:
        future = pool.submit(asyncio.run, make())
        try:
            return future.result()
        except KeyboardInterrupt:
            stop.set()
            future.result()
            raise


async def annotate_items(
    call: Call,
    items: Sequence[Item],
    *,
    sink: Callable[[list[Outcome]], None],
    advance: Callable[[Outcome], None],
    stop: threading.Event | None = None,
) -> list[Outcome]:
    """Ask the model about every item, at most ``call.concurrency`` at a time; once ``stop``
    is set, items not yet started are left out."""
    ollama = require_ollama()
    client = ollama.AsyncClient(host=call.host, **client_options(call.timeout))
    gate = asyncio.Semaphore(max(1, call.concurrency))
    pending: list[Outcome] = []
    outcomes: list[Outcome] = []

    async def flush() -> None:
        batch = pending[:]
        pending.clear()
        if batch:
            await asyncio.to_thread(sink, batch)

    queue = iter(items)  # shared by the workers: each item goes to one of them

    async def worker() -> None:
        for item in queue:
            outcome = await _with_retries(client, call, item, gate, stop)
            if outcome is None:
                return
            outcomes.append(outcome)
            pending.append(outcome)
            advance(outcome)
            if len(pending) >= SINK_BATCH:
                await flush()

    workers = min(len(items), max(1, call.concurrency) * ITEMS_PER_PLACE)
    try:
        await asyncio.gather(*(worker() for _ in range(workers)))
    finally:
        # Also when cancelled (Ctrl+C in a script): what was answered is kept.
        await flush()
        await client._client.aclose()  # the client has no public close on every version
    return outcomes


async def _with_retries(
    client: Any,
    call: Call,
    item: Item,
    gate: asyncio.Semaphore,
    stop: threading.Event | None,
) -> Outcome | None:
    """The item's outcome after up to ``1 + retries`` attempts; None if ``stop`` came first.

    Only the request holds a place in ``gate``: an item waiting out its backoff leaves the
    place to another item.
    """
    ollama = require_ollama()
    import httpx

    started = time.perf_counter()
    errors: list[str] = []
    raw: str | None = None
    prompt_tokens = completion_tokens = 0
    attempt = 0
    while attempt <= call.retries:
        attempt += 1
        try:
            async with gate:
                if attempt == 1 and stop is not None and stop.is_set():
                    return None
                raw, used_in, used_out = await _ask(client, call, item)
            prompt_tokens += used_in
            completion_tokens += used_out
            payload = to_payload(
                raw, call.kind, call.labels, text=item.text, image_size=item.image_size
            )
        except ValidationError as exc:
            errors.append(f"invalid answer: {exc}")
        except ollama.ResponseError as exc:
            errors.append(f"HTTP {exc.status_code}: {exc.error}")
            if exc.status_code not in RETRY_STATUSES:
                break
        except httpx.TimeoutException:
            errors.append(f"no answer within {call.timeout:g} s")
        except (ConnectionError, httpx.HTTPError) as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - an odd reply to one item must not stop the batch
            errors.append(f"unexpected {type(exc).__name__}: {exc}")
        else:
            return Outcome(
                item=item.key,
                task_id=item.task_id,
                input_hash=item.input_hash,
                payload=payload.to_dict(),
                response=raw,
                attempts=attempt,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                seconds=time.perf_counter() - started,
            )
        if attempt <= call.retries:
            await asyncio.sleep(call.backoff * 2 ** (attempt - 1))
    numbered = "; ".join(f"attempt {n}: {e}" for n, e in enumerate(errors, 1))
    return Outcome(
        item=item.key,
        task_id=item.task_id,
        input_hash=item.input_hash,
        response=raw,
        error=numbered,
        attempts=attempt,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        seconds=time.perf_counter() - started,
    )


async def _ask(client: Any, call: Call, item: Item) -> tuple[str, int, int]:
    """One chat request; returns the answer's text and its prompt and answer token counts."""
    prompt = item.prompt or task_prompt(
        call.kind,
        call.labels,
        guidelines=call.guidelines,
        text=item.text,
        image_size=item.image_size,
    )
    message: dict[str, Any] = {"role": "user", "content": prompt}
    if item.image is not None:
        message["images"] = [item.image]  # the client sends bytes as base64
    request: dict[str, Any] = {
        "model": call.model,
        "messages": [
            {"role": "system", "content": item.system_prompt or call.system_prompt},
            message,
        ],
        "format": call.schema,
        "options": call.options or None,
    }
    if not call.stream:
        reply = await client.chat(**request, stream=False)
        return reply.message.content or "", reply.prompt_eval_count or 0, reply.eval_count or 0
    parts: list[str] = []
    last: Any = None
    async for part in await client.chat(**request, stream=True):
        parts.append(part.message.content or "")
        last = part
    counts = (last.prompt_eval_count or 0, last.eval_count or 0) if last is not None else (0, 0)
    return "".join(parts), *counts
