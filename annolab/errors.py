"""The errors annolab raises: one root, one subclass per domain.

Every message names what was wrong, quotes the offending value and says the rule or the fix, so
the person reading it in a notebook can act without reading our source.
"""

from __future__ import annotations

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
    "describe",
]


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
