"""People's feedback on a persona's answers: a rating 1-5 with a comment and the spans of text
it got wrong, or a correction (a human annotation whose parent is the persona's)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pydantic

from annolab.errors import ValidationError
from annolab.personas.checks import converted
from annolab.schema import check_text, validate_payload
from annolab.schema.enums import AnnotationKind, AnnotationStatus
from annolab.store.annotations import NewAnnotation, upsert_annotations
from annolab.store.feedback import add_feedback, latest_persona_annotation
from annolab.store.users import ensure_user

if TYPE_CHECKING:
    from annolab.personas.persona import Persona
    from annolab.project import Project


class ErrorSpan(pydantic.BaseModel):
    """A stretch ``[start, end)`` of the task text the persona got wrong, and what was wrong."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    start: pydantic.StrictInt = pydantic.Field(ge=0)
    end: pydantic.StrictInt = pydantic.Field(gt=0)
    comment: str = ""


def _error_spans(spans: Sequence[Any], text: str) -> list[dict[str, Any]]:
    checked = []
    for index, raw in enumerate(spans):
        try:
            span = ErrorSpan.model_validate(raw)
        except pydantic.ValidationError as exc:
            raise converted(exc, f"error_spans[{index}]") from exc
        if span.end <= span.start:
            rule = f"must be after start={span.start} (spans are [start, end))"
            raise ValidationError(f"error_spans[{index}].end", span.end, rule)
        if span.end > len(text):
            rule = f"is past the end of the task text ({len(text)} characters)"
            raise ValidationError(f"error_spans[{index}].end", span.end, rule)
        checked.append(span.model_dump())
    return checked


def _persona_answer(
    persona: Persona, project: Project, task: str
) -> tuple[uuid.UUID, int, str, dict[str, Any]]:
    with persona.workspace.engine.begin() as conn:
        found = latest_persona_annotation(
            conn,
            project_id=project.id,
            external_id=str(task),
            user_id=persona._row.user_id,
            version=persona.version,
        )
    if found is None:
        rule = (
            f"has no annotation by persona {persona.name!r} v{persona.version} in project "
            f"{project.name!r}; run persona.annotate(project) first"
        )
        raise ValidationError("task", task, rule)
    return found


def rate(
    persona: Persona,
    project: Project,
    task: str,
    rating: int,
    *,
    comment: str = "",
    error_spans: Sequence[Any] = (),
) -> int:
    """Store a 1-5 rating of the persona's answer to ``task``; returns the feedback's id."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError("rating", rating, "must be a whole number from 1 to 5")
    check_text(comment, "comment")
    annotation_id, _, text, _ = _persona_answer(persona, project, task)
    spans = _error_spans(error_spans, text)
    ws = persona.workspace
    with ws.engine.begin() as conn:
        return add_feedback(
            conn,
            actor=ws.user,
            project_id=project.id,
            annotation_id=annotation_id,
            user_id=ws.user_id,
            rating=rating,
            comment=comment,
            error_spans=spans,
        )


def correct(persona: Persona, project: Project, task: str, payload: Any) -> uuid.UUID:
    """Store the right answer to ``task`` as your annotation, linked to the persona's (its
    ``parent_id``); returns the new annotation's id. Correcting again updates it in place."""
    parent, task_id, text, _ = _persona_answer(persona, project, task)
    valid = validate_payload(payload, labels=project.labels, text=text)
    ws = persona.workspace
    # One correction per (person, persona answer): the same cell run twice updates it.
    ann_id = uuid.uuid5(parent, f"correction:{ws.user}")
    with ws.engine.begin() as conn:
        row = NewAnnotation(
            id=ann_id,
            task_id=task_id,
            user_id=ensure_user(conn, ws.user),
            kind=AnnotationKind.HUMAN,
            status=AnnotationStatus.SUBMITTED,
            payload=valid.to_dict(),
            parent_id=parent,
        )
        upsert_annotations(conn, [row], actor=ws.user, project_id=project.id)
    return ann_id
