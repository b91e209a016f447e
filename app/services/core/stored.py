"""What the database holds or refuses, as the service errors every face shows.

* A value read back that Formtrail never writes: the models raise ``UnknownStoredValue`` (they may not depend on
  services); every way services read the database (``Database.read``/``write``, the roles read at every act)
  turns it into ``DamagedData``, which the CLI prints as one line and the GUI shows like any other service error.
* A write refused by one of the CHECK constraints of ``app.models.checks`` (a text longer than its column that
  no service limit caught first): a ValidationError naming the column, not a driver traceback.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

from sqlalchemy.exc import DataError, IntegrityError

from app.models import Base
from app.models.checks import ColumnCheck, UnknownStoredValue, column_checks
from app.services.core.errors import DamagedData, ValidationError


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Around a read or a write: the models' and the driver's words for a bad value become the service errors."""
    try:
        yield
    except UnknownStoredValue as exc:
        raise DamagedData(str(exc), table=exc.table, column=exc.column, value=exc.value) from exc
    except (IntegrityError, DataError) as exc:
        refusal = _refusal(exc)
        if refusal is None:
            raise
        raise refusal from exc


@functools.cache
def _checks() -> dict[str, ColumnCheck]:
    return {check.name: check for check in column_checks(Base.metadata)}


def _refusal(exc: IntegrityError | DataError) -> ValidationError | None:
    said = str(exc.orig)
    if "value too long" in said:  # PostgreSQL's own varchar(n) check comes first and names no column
        return ValidationError(f"a text is longer than the database allows ({said.splitlines()[0]}); shorten it",
                               code="text-too-long")
    check = max((c for name, c in _checks().items() if name in said), key=lambda c: len(c.name), default=None)
    if check is None:
        return None
    if check.max_length is not None:
        return ValidationError(f"{check.table}.{check.column} holds at most {check.max_length:,} characters; "
                               "shorten the text", code="text-too-long")
    return ValidationError(f"{check.table}.{check.column} holds only {', '.join(check.values or ())}",
                           code="invalid-input")
