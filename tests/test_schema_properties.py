"""Properties of the validator: it raises only ValidationError, and valid payloads round-trip."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annolab.errors import ValidationError
from annolab.schema import (
    PAYLOAD_TYPES,
    LabelSchema,
    Payload,
    SpansPayload,
    validate_labels,
    validate_payload,
)
from tests.strategies import (
    image_sizes,
    json_values,
    label_schemas,
    payload_shaped_dicts,
    payloads_with_context,
    storable_text,
    valid_payloads,
)

SAFETY_NET = "could not be validated"  # the catch-all: reaching it means a rule is missing


def validate_or_refuse(raw: object, **context: Any) -> Payload | None:
    """Run the validator; any exception but a well-formed ValidationError fails the test."""
    try:
        payload = validate_payload(raw, **context)
    except ValidationError as exc:
        err = exc
    else:
        assert isinstance(payload, PAYLOAD_TYPES)
        return payload
    assert err.field
    assert err.rule
    assert str(err).startswith(f"{err.field}=")
    assert SAFETY_NET not in err.rule, err
    return None


contexts = st.fixed_dictionaries(
    {},
    optional={
        "labels": st.none() | label_schemas() | json_values(),
        "text": st.none() | storable_text() | json_values(),
        "image_size": st.none()
        | image_sizes()
        | json_values()
        | st.lists(json_values(), min_size=2, max_size=2),
    },
)


@given(raw=json_values(), context=contexts)
def test_any_json_value_gives_a_payload_or_a_validation_error(
    raw: object, context: dict[str, Any]
) -> None:
    validate_or_refuse(raw, **context)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(raw=payload_shaped_dicts(), context=contexts)
def test_payload_shaped_dicts_give_a_payload_or_a_validation_error(
    raw: dict[str, Any], context: dict[str, Any]
) -> None:
    validate_or_refuse(raw, **context)


@given(raw=json_values())
def test_any_json_value_gives_a_label_schema_or_a_validation_error(raw: object) -> None:
    try:
        schema = validate_labels(raw)
    except ValidationError as exc:
        rule = exc.rule
    else:
        assert isinstance(schema, LabelSchema)
        return
    assert SAFETY_NET not in rule


@given(case=payloads_with_context())
def test_valid_payloads_survive_to_dict_and_json(case: tuple[Payload, dict[str, Any]]) -> None:
    payload, context = case
    stored = payload.to_dict()
    assert json.loads(json.dumps(stored)) == stored
    assert validate_payload(stored, **context) == payload
    assert validate_payload(json.loads(json.dumps(stored)), **context) == payload
    assert validate_payload(payload, **context) == payload
    assert validate_payload(stored, **context).to_dict() == stored


@given(payload=valid_payloads(kinds=["spans"]), data=st.data())
def test_span_order_does_not_matter(payload: SpansPayload, data: st.DataObject) -> None:
    stored = payload.to_dict()
    shuffled = {**stored, "spans": data.draw(st.permutations(stored["spans"]))}
    assert validate_payload(shuffled) == payload


@given(text=storable_text(min_size=1), data=st.data())
def test_a_span_slices_the_text_it_was_made_for(text: str, data: st.DataObject) -> None:
    schema = LabelSchema.from_names(["X"])
    payload = data.draw(valid_payloads(text=text, labels=schema, kinds=["spans"]))
    checked = validate_payload(payload.to_dict(), text=text, labels=schema)
    assert isinstance(checked, SpansPayload)
    for span in checked.spans:
        assert len(text[span.start : span.end]) == span.end - span.start
        assert 0 <= span.start < span.end <= len(text)


@given(schema=label_schemas())
def test_label_schemas_round_trip(schema: LabelSchema) -> None:
    data = json.loads(json.dumps(schema.to_dict()))
    assert LabelSchema.from_dict(data) == schema
    assert LabelSchema.coerce(list(schema.names)) == LabelSchema.from_names(schema.names)
