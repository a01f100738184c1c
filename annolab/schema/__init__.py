"""Payload types, label schemas and the one validator: pure, no database, no UI.

>>> from annolab.schema import LabelSchema, validate_payload
>>> validate_payload({"kind": "choice", "label": "PER"}, labels=LabelSchema.from_names(["PER"]))
ChoicePayload(kind='choice', label='PER', score=None)
"""

from __future__ import annotations

from annolab.schema.enums import (
    PROJECT_TRANSITIONS,
    AnnotationKind,
    AnnotationStatus,
    AssignmentStatus,
    Proficiency,
    ProjectStatus,
    ReviewDecision,
    Role,
    StrEnum,
    TaskStatus,
    TeamRole,
    UserKind,
    UserStatus,
)
from annolab.schema.labels import PALETTE, Label, LabelSchema
from annolab.schema.payloads import (
    MAX_SAFE_INT,
    PAYLOAD_KINDS,
    PAYLOAD_TYPES,
    Box,
    BoxesPayload,
    ChoicePayload,
    ChoicesPayload,
    CorrectionPayload,
    ErrorSpan,
    ErrorsPayload,
    FormPayload,
    PairwisePayload,
    Payload,
    RankingPayload,
    RatingPayload,
    RubricPayload,
    Span,
    SpansPayload,
    TextPayload,
)
from annolab.schema.validate import (
    MISSING,
    check_text,
    not_a_label,
    payload_from_dict,
    validate_labels,
    validate_payload,
)

__all__ = [
    "MAX_SAFE_INT",
    "MISSING",
    "PALETTE",
    "PAYLOAD_KINDS",
    "PAYLOAD_TYPES",
    "PROJECT_TRANSITIONS",
    "AnnotationKind",
    "AnnotationStatus",
    "AssignmentStatus",
    "Box",
    "BoxesPayload",
    "ChoicePayload",
    "ChoicesPayload",
    "CorrectionPayload",
    "ErrorSpan",
    "ErrorsPayload",
    "FormPayload",
    "Label",
    "LabelSchema",
    "PairwisePayload",
    "Payload",
    "Proficiency",
    "ProjectStatus",
    "RankingPayload",
    "RatingPayload",
    "ReviewDecision",
    "Role",
    "RubricPayload",
    "Span",
    "SpansPayload",
    "StrEnum",
    "TaskStatus",
    "TeamRole",
    "TextPayload",
    "UserKind",
    "UserStatus",
    "check_text",
    "not_a_label",
    "payload_from_dict",
    "validate_labels",
    "validate_payload",
]
