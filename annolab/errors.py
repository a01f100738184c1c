"""The errors annolab raises: one root, one subclass per domain.

Every message names what was wrong, quotes the offending value and says the rule or the fix, so
the person reading it in a notebook can act without reading our source.

In IPython (a notebook, the console) an ``AnnolabError`` that reaches the prompt is shown as its
message alone, the cause first: the frames and the chained low-level error (a refused
connection under "Ollama is not reachable") are for whoever debugs annolab, and show with
``debug(True)`` or ``ANNOLAB_DEBUG=1``. Other errors keep IPython's usual traceback.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = [
    "AnnolabError",
    "AssignmentError",
    "ConnectError",
    "DataError",
    "LayoutError",
    "PersonaError",
    "PluginError",
    "QualityError",
    "StoreError",
    "ValidationError",
    "WorkflowError",
    "debug",
    "describe",
    "show_in_ipython",
]

DEBUG_HINT = "(full traceback: al.debug(True) or ANNOLAB_DEBUG=1)"
_debug: bool | None = None  # None: follow ANNOLAB_DEBUG


class AnnolabError(Exception):
    """The root of every error annolab raises on purpose."""


class ValidationError(AnnolabError, ValueError):
    """A payload, label schema or other input broke a rule.

    ``field`` is a path such as ``spans[3].end``, ``value`` the offending value and ``rule`` the
    rule it broke, so callers (widgets, imports, personas) can show or collect the parts.
    """

    def __init__(self, field: str, value: object, rule: str) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        super().__init__(describe(field, value, rule))


class DataError(AnnolabError, ValueError):
    """Input rows (a frame of tasks, a file to import) cannot be used as they are."""


class LayoutError(AnnolabError):
    """A layout or prompt template is missing or malformed."""


class WorkflowError(AnnolabError, ValueError):
    """A workflow spec is malformed, or a task was asked to make a move its state forbids."""


class AssignmentError(AnnolabError):
    """A claim or an admin operation was refused; the message gives the human reason."""


class QualityError(AnnolabError, ValueError):
    """A quality metric was given input it cannot measure; the message names the argument."""


class PersonaError(AnnolabError):
    """An LLM persona cannot run: Ollama unreachable, a model not pulled, the client missing."""


class PluginError(AnnolabError):
    """A plugin could not be loaded or registered, or a hook gave what annolab can not use."""


class StoreError(AnnolabError):
    """The database refused or could not do what was asked."""


class ConnectError(StoreError):
    """annolab could not reach or use a Postgres server; the message says how to fix it."""


def describe(field: str, value: object, rule: str) -> str:
    """The house form of a message: ``field=<repr of value> rule``, the value cut if long.

    >>> describe("priority", 2**40, "must be between -2147483648 and 2147483647")
    'priority=1099511627776 must be between -2147483648 and 2147483647'
    """
    return f"{field}={_quote(value)} {rule}"


def _quote(value: object, limit: int = 80) -> str:
    """repr() of the value, cut so a 10 MB text does not become a 10 MB message."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 (a broken __repr__ must not stop the error being raised)
        text = f"<unprintable {type(value).__name__}>"
    if len(text) > limit:
        text = f"{text[: limit - 3]}...({len(text)} chars)"
    return text


def debug(on: bool | None = None) -> bool:
    """Whether annolab errors show their full traceback in IPython; ``debug(True)`` turns it on
    for this kernel, ``debug(False)`` off, and with no argument it says the current setting
    (by default ``ANNOLAB_DEBUG`` in the environment: 1, true or yes).

    >>> al.debug(True)  # doctest: +SKIP
    True
    """
    global _debug  # noqa: PLW0603 (one switch per process, as ANNOLAB_DEBUG is)
    if on is not None:
        if not isinstance(on, bool):
            raise ValidationError("on", on, "must be True, False or None")
        _debug = on
    if _debug is not None:
        return _debug
    return os.environ.get("ANNOLAB_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}


def short_traceback(error: BaseException) -> list[str]:
    """What a notebook shows for ``error``: its class and message, then the hint."""
    return [f"{type(error).__name__}: {error}", DEBUG_HINT]


def _show(
    shell: Any, etype: type[BaseException], value: BaseException, tb: Any, tb_offset: Any = None
) -> list[str]:
    """IPython's handler for ``AnnolabError``: the short form, or IPython's own when debugging.

    IPython does not show what a custom handler returns: the handler shows it, through the
    same call IPython's own traceback goes through (a kernel sends it as the cell's error).
    """
    # As IPython's own handler does, so %debug and %tb still find the error.
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    if debug():
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return []
    stb = short_traceback(value)
    shell._showtraceback(etype, value, stb)
    return stb


def show_in_ipython(shell: Any = None) -> bool:
    """Show ``AnnolabError`` in the short form in this IPython ``shell`` (the running one when
    None); True when installed. Runs when annolab is imported; a custom handler some other
    package installed first is left alone."""
    if shell is None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    installed = tuple(getattr(shell, "custom_exceptions", ()))
    if installed and installed != (AnnolabError,):
        return False
    shell.set_custom_exc((AnnolabError,), _show)
    return True


show_in_ipython()
