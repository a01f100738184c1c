"""The last line of defence: a value Postgres refuses becomes a ``StoreError``, not a driver's.

Every public door validates its input first, with messages naming the field; this guard is for
whatever still slips through. Only refused *values* are turned: data exceptions (SQLSTATE class
22: text with NUL, a number out of range, bad JSON), values over a server limit (54xxx) and text
the driver can not encode. Integrity, lock and connection errors pass unchanged, since callers
catch those on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
import sqlalchemy as sa

from annolab.errors import StoreError

__all__ = ["as_statement_error", "guard_refused_values", "refused_value"]


def guard_refused_values(engine: sa.Engine) -> None:
    """Turn refused values on ``engine`` into ``StoreError`` (cause chained); idempotent."""
    if not sa.event.contains(engine, "handle_error", _refused_value):
        sa.event.listen(engine, "handle_error", _refused_value)


def _refused_value(context: sa.engine.ExceptionContext) -> None:
    refused = refused_value(context.original_exception)
    if refused is not None:
        # SQLAlchemy raises what a handler raises "from" the driver's exception: the cause is
        # kept.
        raise refused from context.original_exception


def refused_value(original: BaseException) -> StoreError | None:
    """The ``StoreError`` a driver's exception becomes if it is a refused value, else None."""
    refused = isinstance(original, (psycopg.DataError, psycopg.errors.ProgramLimitExceeded))
    if not refused and not isinstance(original, UnicodeEncodeError):
        return None
    reason = str(original).strip().splitlines()[0] if str(original).strip() else repr(original)
    msg = (
        f"Postgres refused a value: {reason}. Nothing from this call was saved; check the "
        "values given (text may not hold NUL or lone surrogates; integers are 32 or 64 bit)"
    )
    return StoreError(msg)


def as_statement_error(
    error: psycopg.Error, statement: str | None = None, params: Mapping[str, Any] | None = None
) -> Exception:
    """What a driver error raised outside SQLAlchemy (a pipeline's end, a cursor used
    directly) becomes, so callers see what the same error of a statement SQLAlchemy ran would
    have raised: ``StoreError`` for a refused value, else SQLAlchemy's class for it."""
    refused = refused_value(error)
    if refused is not None:
        return refused
    return sa.exc.DBAPIError.instance(statement, params, error, psycopg.Error)
