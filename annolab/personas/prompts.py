"""Prompts from Jinja templates in ``prompts/``, and the hashes that key the response cache.

Templates are found like layouts: the user's ``$ANNOLAB_HOME/prompts`` first, then the ones
annolab ships. ``StrictUndefined`` makes a variable a template needs but was not given an error
instead of an empty string in a prompt nobody reads.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

import jinja2

from annolab.errors import LayoutError
from annolab.resources import find_resource, search_path
from annolab.schema import LabelSchema

TASK_TEMPLATE = "task.j2"
# Stands where the item goes when the prompt is hashed: the hash covers everything else.
_HOLE = "\x1f{input}\x1f"


@functools.cache
def _environment(folders: tuple[str, ...]) -> jinja2.Environment:
    # One environment per search path: it keeps templates compiled (a compile costs ~15 ms,
    # a render ~50 us) and recompiles one whose file changed.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(list(folders)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,  # noqa: S701 - prompts are plain text for a model, never HTML
    )


def render(template: str, **variables: Any) -> str:
    """Render ``prompts/<template>``; a missing template or variable raises ``LayoutError``.

    >>> render("persona.j2", name="ada", description="", traits=[], examples=[])[:17]
    'You are ada, an a'
    """
    find_resource("prompts", template)  # says where it looked and what exists, if missing
    folders = tuple(str(p) for p in search_path("prompts"))
    try:
        return _environment(folders).get_template(template).render(**variables).strip() + "\n"
    except jinja2.UndefinedError as exc:
        msg = f"prompt template {template!r} needs a variable it was not given: {exc.message}"
        raise LayoutError(msg) from exc
    except jinja2.TemplateSyntaxError as exc:
        msg = f"prompt template {template!r} has a syntax error on line {exc.lineno}: {exc}"
        raise LayoutError(msg) from exc


def task_prompt(
    kind: str,
    labels: LabelSchema,
    *,
    guidelines: str,
    text: str,
    image_size: tuple[int, int] | None = None,
) -> str:
    """The user message for one item: what to do, the labels, the guidelines, the text."""
    return render(
        TASK_TEMPLATE,
        kind=kind,
        labels=[{"name": label.name, "description": label.description} for label in labels.labels],
        guidelines=guidelines,
        text=text,
        image_size=list(image_size) if image_size else None,
    )


def sha256(data: object) -> str:
    """The hex SHA-256 of ``data``'s canonical JSON (bytes are hashed as they are)."""
    raw = data if isinstance(data, bytes) else json.dumps(data, sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()


def prompt_hash(
    system_prompt: str, kind: str, labels: LabelSchema, guidelines: str, options: dict[str, Any]
) -> str:
    """What shapes the answer besides the model, the item and the schema.

    The task prompt is rendered with a placeholder for the item, so the hash changes with the
    template, the labels and the guidelines but is the same for every item of a run.
    """
    task = task_prompt(kind, labels, guidelines=guidelines, text=_HOLE)
    return sha256({"system": system_prompt, "task": task, "options": options})


def input_hash(text: str, image: bytes | None) -> str:
    """The item as the model sees it: its text and the digest of its image bytes."""
    return sha256({"text": text, "image": None if image is None else sha256(image)})
