"""One ``persona.annotate`` run from start to end: gather the items (a project's tasks or a
frame's rows), answer what the cache already knows, ask the model about the rest, and store
answers, failures and annotations as they arrive.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import polars as pl
import sqlalchemy as sa

import annolab.kinds
from annolab.errors import DataError, PersonaError, ValidationError
from annolab.personas.images import image_bytes, image_size
from annolab.personas.llm import ModelInfo, model_info, ollama_host
from annolab.personas.prompts import input_hash, prompt_hash, sha256
from annolab.personas.run import Call, Item, annotate_items, run_coroutine
from annolab.personas.schemas import KINDS, output_schema, task_kind
from annolab.personas.shots import Shots
from annolab.personas.summary import Outcome, RunSummary
from annolab.schema import LabelSchema, validate_labels
from annolab.schema.enums import AnnotationKind, AnnotationStatus
from annolab.store import personas as store
from annolab.store.annotations import NewAnnotation, upsert_annotations
from annolab.store.events import record_event
from annolab.store.projects import get_project

# Names the annotation ids of a persona's answers: the same version, task, model and prompt
# always give the same id, so storing an answer again (a re-run) changes nothing.
_ANNOTATION_NAMESPACE = uuid.UUID("6f1f3c9e-4a7b-5d2e-9c1a-8b0e2f4d6a10")


@dataclass(frozen=True)
class Target:
    """What is annotated: a project's tasks (``project_id`` set) or the rows of a frame."""

    kind: str
    labels: LabelSchema
    guidelines: str
    items: list[tuple[str, int | None, dict[str, Any]]]  # (key, task id, data)
    project_id: int | None = None
    guidelines_version: int | None = None


def project_target(conn: sa.Connection, project_name: str, limit: int | None) -> Target:
    row = get_project(conn, project_name)
    items: list[tuple[str, int | None, dict[str, Any]]] = [*store.task_items(conn, row.id, limit)]
    return Target(
        kind=task_kind(row.layout),
        labels=validate_labels(row.label_schema),
        guidelines=row.guidelines,
        items=items,
        project_id=row.id,
        guidelines_version=row.guidelines_version,
    )


def frame_target(
    frame: pl.DataFrame,
    *,
    labels: object,
    task: str | None,
    guidelines: str,
    limit: int | None,
) -> Target:
    if labels is None:
        rule = "is required when annotating a frame (a project brings its own labels)"
        raise ValidationError("labels", None, rule)
    kind = task or ("boxes" if "image" in frame.columns else "spans")
    if kind not in KINDS:
        raise ValidationError("task", kind, f"is not a task kind; kinds are {', '.join(KINDS)}")
    wanted = annolab.kinds.get(kind).media
    if wanted not in frame.columns:
        msg = f"the frame has no {wanted!r} column (columns: {', '.join(frame.columns)})"
        raise DataError(msg)
    if limit is not None:
        frame = frame.head(limit)
    keys = frame["id"].cast(pl.String) if "id" in frame.columns else None
    items: list[tuple[str, int | None, dict[str, Any]]] = [
        (str(keys[i]) if keys is not None else str(i), None, row)
        for i, row in enumerate(frame.iter_rows(named=True))
    ]
    return Target(kind=kind, labels=validate_labels(labels), guidelines=guidelines, items=items)


@dataclass(frozen=True)
class Persona:
    """What a run needs of the persona version it runs as."""

    version_id: int
    user_id: int
    name: str
    version: int
    model: str
    options: dict[str, Any]
    system_prompt: str


def run(
    engine: sa.Engine,
    persona: Persona,
    target: Target,
    *,
    actor: str,
    host: str | None,
    concurrency: int,
    retries: int,
    backoff: float,
    timeout: float,
    stream: bool,
    progress: bool,
    shots: Shots | None = None,
) -> RunSummary:
    """Annotate ``target`` as ``persona``; returns the closing summary. With ``shots``, each
    item asked about gets the system prompt holding its most similar examples."""
    started = time.perf_counter()
    where = ollama_host(host)
    info = model_info(persona.model, where)
    image = annolab.kinds.get(target.kind).media == "image"
    if image and info.capabilities and "vision" not in info.capabilities:
        msg = (
            f"the model {persona.model!r} cannot read images (it can: "
            f"{', '.join(info.capabilities)}); {target.kind} need a vision model: run "
            "`ollama pull llama3.2-vision` and edit the persona with model='llama3.2-vision'"
        )
        raise PersonaError(msg)
    schema = output_schema(target.kind, target.labels)
    call = Call(
        host=where,
        model=persona.model,
        system_prompt=persona.system_prompt,
        options=persona.options,
        schema=schema,
        kind=target.kind,
        labels=target.labels,
        guidelines=target.guidelines,
        concurrency=concurrency,
        retries=retries,
        backoff=backoff,
        timeout=timeout,
        stream=stream,
    )
    hashes = {
        "model_digest": info.digest,
        "prompt_hash": prompt_hash(
            persona.system_prompt + (f"\n[{shots.tag}]" if shots else ""),
            target.kind,
            target.labels,
            target.guidelines,
            persona.options,
        ),
        "schema_hash": sha256(schema),
    }
    items, bad = _items(target)
    with engine.begin() as conn:
        known = store.cached_answers(conn, **hashes, inputs=[i.input_hash for i in items])
    cached = [
        Outcome(
            item=i.key,
            task_id=i.task_id,
            input_hash=i.input_hash,
            payload=known[i.input_hash].payload,
            response=known[i.input_hash].response,
            cached=True,
        )
        for i in items
        if i.input_hash in known
    ]
    todo = [i for i in items if i.input_hash not in known]
    if shots is not None:
        prompts = shots.prompts_for([i.text for i in todo])
        todo = [replace(i, system_prompt=p) for i, p in zip(todo, prompts, strict=True)]
    sink = _sink(engine, persona, target, info, hashes, actor)
    sink(cached + bad)
    bar = _bar(len(items) + len(bad), persona, progress)
    bar.update(len(cached) + len(bad))
    try:
        stop = threading.Event()
        asked = (
            run_coroutine(
                lambda: annotate_items(
                    call, todo, sink=sink, advance=lambda _: bar.update(1), stop=stop
                ),
                stop=stop,
            )
            if todo
            else []
        )
    finally:
        bar.close()
    # Report in the order the items came, not the order the answers did.
    position = {key: index for index, (key, _, _) in reversed(list(enumerate(target.items)))}
    outcomes = sorted([*cached, *bad, *asked], key=lambda o: position.get(o.item, 0))
    summary = RunSummary.of(
        outcomes,
        persona=persona.name,
        version=persona.version,
        model=persona.model,
        seconds=time.perf_counter() - started,
    )
    with engine.begin() as conn:
        record_event(
            conn,
            actor=actor,
            action="persona.annotated",
            entity="user",
            entity_id=persona.user_id,
            project_id=target.project_id,
            after={
                "version": persona.version,
                "model": persona.model,
                "model_digest": info.digest,
                "prompt_hash": hashes["prompt_hash"],
                "done": summary.done,
                "cached": summary.cached,
                "failed": summary.failed,
                "tokens": summary.tokens,
                "seconds": round(summary.seconds, 3),
            },
        )
    return summary


def _items(target: Target) -> tuple[list[Item], list[Outcome]]:
    """The items to ask about, and those that failed before asking (an unreadable image)."""
    items: list[Item] = []
    bad: list[Outcome] = []
    on_image = annolab.kinds.get(target.kind).media == "image"
    for key, task_id, data in target.items:
        text = str(data.get("text") or "")
        image = size = None
        if on_image:
            try:
                image = image_bytes(data.get("image") or data.get("text"))
            except ValidationError as exc:
                bad.append(Outcome(key, task_id, input_hash(text, None), error=str(exc)))
                continue
            size = image_size(image) or _declared_size(data)
        items.append(Item(key, task_id, text, input_hash(text, image), image, size))
    return items, bad


def _declared_size(data: dict[str, Any]) -> tuple[int, int] | None:
    width, height = data.get("width"), data.get("height")
    if isinstance(width, int) and isinstance(height, int):
        return width, height
    return None


def _sink(  # noqa: PLR0917 - a private factory; each argument is a different part of the run
    engine: sa.Engine,
    persona: Persona,
    target: Target,
    info: ModelInfo,
    hashes: dict[str, str],
    actor: str,
) -> Callable[[list[Outcome]], None]:
    def store_outcomes(batch: list[Outcome]) -> None:
        answers = [
            {
                **hashes,
                "input_hash": o.input_hash,
                "model": persona.model,
                "response": o.response or "",
                "payload": o.payload,
                "prompt_tokens": o.prompt_tokens,
                "completion_tokens": o.completion_tokens,
                "seconds": o.seconds,
            }
            for o in batch
            if o.ok and not o.cached
        ]
        failures = [
            {
                "persona_version_id": persona.version_id,
                "task_id": o.task_id,
                "item": o.item,
                "model": persona.model,
                "model_digest": info.digest,
                "prompt_hash": hashes["prompt_hash"],
                "input_hash": o.input_hash,
                "attempts": o.attempts,
                "error": o.error or "",
                "raw_response": o.response,
            }
            for o in batch
            if not o.ok
        ]
        with engine.begin() as conn:
            store.store_answers(conn, answers)
            store.store_failures(conn, failures)
            if target.project_id is not None:
                made = [(o, _annotation(o, persona, target, info, hashes)) for o in batch if o.ok]
                # A cached answer's annotation is usually stored already (its id is derived
                # from the same inputs): one lookup instead of an upsert per row.
                stored = store.existing_annotations(conn, [row.id for o, row in made if o.cached])
                rows = [row for o, row in made if not (o.cached and row.id in stored)]
                upsert_annotations(conn, rows, actor=actor, project_id=target.project_id)

    return store_outcomes


def _annotation(
    outcome: Outcome, persona: Persona, target: Target, info: ModelInfo, hashes: dict[str, str]
) -> NewAnnotation:
    assert outcome.task_id is not None
    assert outcome.payload is not None
    seed = f"{persona.version_id}:{outcome.task_id}:{info.digest}:{hashes['prompt_hash']}"
    return NewAnnotation(
        id=uuid.uuid5(_ANNOTATION_NAMESPACE, seed),
        task_id=outcome.task_id,
        user_id=persona.user_id,
        kind=AnnotationKind.PERSONA,
        status=AnnotationStatus.SUBMITTED,
        payload=outcome.payload,
        guidelines_version=target.guidelines_version,
        model=persona.model,
        model_digest=info.digest,
        prompt_hash=hashes["prompt_hash"],
        persona_version=persona.version,
    )


def _bar(total: int, persona: Persona, progress: bool) -> Any:
    from tqdm.auto import tqdm  # picks the notebook widget in Jupyter, text elsewhere

    return tqdm(total=total, desc=f"{persona.name} v{persona.version}", disable=not progress)
