"""Counting the database transactions a use case opens: a query that should read once must not read per row."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

from sqlalchemy import event
from sqlalchemy.orm import Session


@dataclasses.dataclass
class Transactions:
    reads: int = 0
    writes: int = 0
    during_write: list[str] = dataclasses.field(default_factory=list)  # what happened while a write was open


@contextlib.contextmanager
def counted() -> Iterator[Transactions]:
    """Count the session transactions begun (reads: ``db.read()``, writes: ``db.write()``)."""
    seen = Transactions()

    def begun(_session: Session, _transaction: object, connection: object) -> None:
        if connection.get_execution_options().get("formtrail_write"):  # type: ignore[attr-defined]
            seen.writes += 1
        else:
            seen.reads += 1

    event.listen(Session, "after_begin", begun)
    try:
        yield seen
    finally:
        event.remove(Session, "after_begin", begun)
