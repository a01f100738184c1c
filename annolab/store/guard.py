"""The last line of defence: a value Postgres refuses becomes a ``StoreError``, not a driver's.

Every public door validates its input first, with messages naming the field; this guard is for
whatever still slips through. Only refused *values* are turned: data exceptions (SQLSTATE class
22: text with NUL, a number out of range, bad JSON), values over a server limit (54xxx) and text
the driver can not encode. Integrity, lock and connection errors pass unchanged, since callers
catch those on purpose.
"""

from __future__ import annotations

import psycopg
import sqlalchemy as sa

from annolab.errors import StoreError

__all__ = ["guard_refused_values", "refused_value"]


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
