"""The contract every annotation widget shares (annolab.widgets._base.AnnotationWidget)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from annolab.schema import ChoicePayload, LabelSchema, validate_payload
from annolab.widgets import AnnotationWidget, WidgetTraitError


class Toy(AnnotationWidget):
    """The smallest annotation widget: one chosen label, set by an "choose" patch."""

    def __init__(self, **kwargs: Any) -> None:
        self.chosen: str | None = None
        super().__init__(**kwargs)

    @property
    def payload(self) -> ChoicePayload:
        payload = validate_payload(
            {"kind": "choice", "label": self.chosen}, labels=self.label_schema
        )
        assert isinstance(payload, ChoicePayload)
        return payload

    def _apply_patch(self, patch: Mapping[str, Any], buffers: Sequence[bytes]) -> str | None:
        if patch.get("op") == "choose":
            label = patch.get("label")
            self.label_schema.label(str(label))  # raises ValidationError for an unknown label
            self.chosen = str(label)
            return "noted" if label == "B" else None
        if patch.get("op") == "crash":
            raise RuntimeError("boom")
        return super()._apply_patch(patch, buffers)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Messages the widgets send to the front end (there is no front end in unit tests)."""
    messages: list[dict[str, Any]] = []

    def send(self: AnnotationWidget, content: dict[str, Any], buffers: Any = None) -> None:
        messages.append(content)

    monkeypatch.setattr(AnnotationWidget, "send", send)
    return messages


# --- labels -----------------------------------------------------------------------------------


def test_label_names_become_label_dicts_with_digit_hotkeys() -> None:
    widget = Toy(labels=["PER", "ORG"])
    assert widget.labels == [
        {"name": "PER", "color": "#aec7e8", "hotkey": "1", "description": ""},
        {"name": "ORG", "color": "#ffbb78", "hotkey": "2", "description": ""},
    ]


def test_labels_take_a_label_schema_and_keep_its_hotkeys() -> None:
    schema = LabelSchema.coerce([{"name": "PER", "hotkey": "p", "description": "a person"}])
    widget = Toy(labels=schema)
    assert widget.labels == [
        {"name": "PER", "color": "#aec7e8", "hotkey": "p", "description": "a person"}
    ]
    assert widget.label_schema.names == ("PER",)


def test_duplicate_labels_are_refused_with_the_validators_message() -> None:
    with pytest.raises(WidgetTraitError) as info:
        Toy(labels=["PER", "PER"])
    assert str(info.value) == (
        "labels[1].name='PER' is already the name of labels[0]; names must be unique"
    )


def test_one_string_of_labels_is_refused_with_the_fix() -> None:
    with pytest.raises(WidgetTraitError) as info:
        Toy(labels="PER")
    assert str(info.value) == "labels='PER' is one string, not a list of label names; write ['PER']"


def test_an_empty_label_set_is_refused() -> None:
    with pytest.raises(WidgetTraitError) as info:
        Toy(labels=[])
    assert str(info.value) == "labels=[] must name at least one label, e.g. ['PER', 'ORG']"


def test_a_negative_history_limit_is_refused() -> None:
    with pytest.raises(WidgetTraitError) as info:
        Toy(labels=["A"], history_limit=-1)
    assert str(info.value) == "history_limit=-1 must be >= 0 (0 turns undo off)"


def test_payload_is_abstract_in_the_base() -> None:
    widget = AnnotationWidget(labels=["A"])
    with pytest.raises(NotImplementedError, match="AnnotationWidget must define payload"):
        _ = widget.payload


# --- submit and skip --------------------------------------------------------------------------


def test_submit_fires_once_per_nonce_change_every_time() -> None:
    widget = Toy(labels=["A"])
    seen: list[str] = []
    widget.on_submit(lambda w: seen.append(f"submit {w.submit_count}"))
    widget.on_skip(lambda w: seen.append(f"skip {w.skip_count}"))
    # The front end bumps the nonce: a state update from the browser, as the comm delivers it.
    widget.set_state({"submit_count": 1})
    widget.set_state({"submit_count": 2})
    widget.set_state({"skip_count": 1})
    widget.submit()
    assert seen == ["submit 1", "submit 2", "skip 1", "submit 3"]


def test_a_failing_callback_shows_in_the_widget_and_still_raises() -> None:
    widget = Toy(labels=["A"])

    def save(_widget: AnnotationWidget) -> None:
        raise ConnectionError("database is down")

    widget.on_submit(save)
    with pytest.raises(ConnectionError):
        widget.submit()
    assert widget.error.startswith("the on_submit callback ")
    assert widget.error.endswith("save failed: ConnectionError: database is down")


# --- patches ----------------------------------------------------------------------------------


def test_an_accepted_patch_is_answered_ok_with_its_uuid(sent: list[dict[str, Any]]) -> None:
    widget = Toy(labels=["A", "B"], error="old problem")
    widget._handle_custom_msg({"op": "choose", "label": "A", "uuid": "u-1"}, [])
    assert widget.chosen == "A"
    assert sent == [{"uuid": "u-1", "ok": True}]
    assert widget.error == ""


def test_a_refused_patch_is_answered_with_the_error_and_shown(sent: list[dict[str, Any]]) -> None:
    widget = Toy(labels=["A"])
    widget._handle_custom_msg({"op": "choose", "label": "Z", "uuid": "u-2"}, [])
    message = "label='Z' is not a label of this project; labels are 'A'"
    assert sent == [{"uuid": "u-2", "error": message}]
    assert widget.error == message
    assert widget.chosen is None


def test_a_notice_is_shown_but_the_patch_is_ok(sent: list[dict[str, Any]]) -> None:
    widget = Toy(labels=["A", "B"])
    widget._handle_custom_msg({"op": "choose", "label": "B", "uuid": "u-3"}, [])
    assert sent == [{"uuid": "u-3", "ok": True}]
    assert widget.error == "noted"


def test_an_unknown_op_is_refused(sent: list[dict[str, Any]]) -> None:
    widget = Toy(labels=["A"])
    widget._handle_custom_msg({"op": "fly", "uuid": "u-4"}, [])
    assert sent == [{"uuid": "u-4", "error": "op='fly' is not an edit Toy makes"}]


def test_a_bug_is_answered_shown_and_logged(
    sent: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    widget = Toy(labels=["A"])
    widget._handle_custom_msg({"op": "crash", "uuid": "u-5"}, [])
    # ipywidgets' dispatcher catches what the handler re-raises and logs the traceback.
    assert "RuntimeError: boom" in caplog.text
    message = "annolab could not apply 'crash': RuntimeError: boom"
    assert sent == [{"uuid": "u-5", "error": message}]
    assert widget.error == message


def test_messages_without_an_op_are_left_alone(sent: list[dict[str, Any]]) -> None:
    widget = Toy(labels=["A"])
    widget._handle_custom_msg({"hello": 1}, [])
    widget._handle_custom_msg("text", [])
    assert sent == []
