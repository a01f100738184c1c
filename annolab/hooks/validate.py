"""``annolab_validate``: the plugins' problems with an answer, raised as annolab's own error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from annolab.errors import AnnolabError, PluginError, ValidationError
from annolab.hooks.manager import results


def check_with_plugins(project: Any, payload: Mapping[str, Any], text: str | None) -> None:
    """Raise the first problem a plugin finds with ``payload`` as a ``ValidationError``.

    A plugin may return a ``ValidationError``, a ``(field, value, rule)`` tuple, a rule string
    (about the whole payload) or a list of those; or raise ``ValidationError`` itself.
    """
    for plugin, found in results("annolab_validate", project=project, payload=payload, text=text):
        problems = found if isinstance(found, list) else [found]
        for problem in problems:
            raise _as_error(plugin, problem, payload)


def _as_error(plugin: str, problem: object, payload: Mapping[str, Any]) -> AnnolabError:
    if isinstance(problem, ValidationError):
        return problem
    if isinstance(problem, str):
        return ValidationError("payload", dict(payload), problem)
    if isinstance(problem, tuple) and len(problem) == 3 and isinstance(problem[0], str):
        field, value, rule = problem
        return ValidationError(field, value, str(rule))
    msg = (
        f"plugin {plugin!r}: annolab_validate returned {problem!r}; return None, a "
        "ValidationError, a (field, value, rule) tuple, a rule string or a list of those"
    )
    return PluginError(msg)
