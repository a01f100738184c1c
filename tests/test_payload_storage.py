"""Every valid payload survives a trip through Postgres JSONB unchanged."""

from __future__ import annotations

import json
import uuid
from typing import Any

import polars as pl
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings

import annolab as al
from annolab.schema import Payload, validate_payload
from annolab.schema.enums import AnnotationKind, AnnotationStatus
from annolab.store.annotations import NewAnnotation, upsert_annotations
from tests.strategies import payloads_with_context


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(drawn=payloads_with_context())
def test_valid_payloads_round_trip_through_the_database(
    workspace: al.Workspace, project: al.Project, drawn: tuple[Payload, dict[str, Any]]
) -> None:
    payload, context = drawn
    if project.tasks().height == 0:
        project.add_tasks(pl.DataFrame({"id": ["t"], "text": ["any"]}), id="id")
    task_id = int(project.tasks()["task_id"][0])
    ann_id = uuid.uuid4()
    with workspace.engine.begin() as conn:
        upsert_annotations(
            conn,
            [
                NewAnnotation(
                    id=ann_id,
                    task_id=task_id,
                    user_id=workspace.user_id,
                    kind=AnnotationKind.HUMAN,
                    status=AnnotationStatus.SUBMITTED,
                    payload=payload.to_dict(),
                )
            ],
            actor="tester",
            project_id=project.id,
        )
        stored = conn.execute(
            sa.text("SELECT payload::text FROM annotations WHERE id = :id"), {"id": ann_id}
        ).scalar_one()
    again = validate_payload(json.loads(stored), **context)
    assert again == payload
    assert again.to_dict() == payload.to_dict()
