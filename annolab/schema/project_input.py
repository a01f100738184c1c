"""The checks ``create_project`` runs on its plain arguments before anything is saved.

>>> check_new_project(name="news", guidelines="Tag people.", settings={"max_text_chars": 5000})
>>> check_new_project(name="n", guidelines="", settings={"max_text_chars": 0})  # doctest: +ELLIPSIS
Traceback (most recent call last):
annolab.errors.ValidationError: settings['max_text_chars']=0 must be a whole number from 1 to ...
"""

from __future__ import annotations

from collections.abc import Mapping

from annolab.errors import ValidationError
from annolab.schema.fields import check_int, check_json, check_name, check_str

__all__ = ["MAX_TEXT_CHARS_LIMIT", "check_new_project"]

# Postgres holds at most 1 GB in one value; a task text longer than this could not be stored.
MAX_TEXT_CHARS_LIMIT = 1_000_000_000


def check_new_project(
    *, name: object, guidelines: object, settings: object, layout: object = None
) -> None:
    """Refuse a name, guidelines, settings or inline layout Postgres could not store as given."""
    check_name(name, "name")
    check_str(guidelines, "guidelines")
    if isinstance(layout, Mapping):
        check_json(layout, "layout")
    elif layout is not None and not isinstance(layout, str):
        raise ValidationError("layout", layout, "must be a layout name or a dict")
    if settings is None:
        return
    if not isinstance(settings, Mapping):
        raise ValidationError("settings", settings, "must be a dict of settings (or None)")
    check_json(settings, "settings")
    if "max_text_chars" in settings:
        check_int(
            settings["max_text_chars"],
            "settings['max_text_chars']",
            low=1,
            high=MAX_TEXT_CHARS_LIMIT,
        )
