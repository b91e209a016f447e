"""What the database itself refuses: a value outside an enum-like column's known set, a text longer than its column.

PostgreSQL enforces varchar(n) but SQLite enforces no length and no enum, so a raw UPDATE (or an older database)
could leave a value no service ever writes, and reading it back ended in a Python LookupError. Every enum-like
column and every bounded text column therefore carries a named CHECK constraint on both engines
(``ck_<table>_<column>_value`` / ``ck_<table>_<column>_length``), derived here from the models; migration 0007
adds them to existing databases. A value that still gets in (an insider editing SQLite's schema) is reported
by name when read (:class:`UnknownStoredValue`) and listed by ``formtrail verify``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import CheckConstraint, Enum, MetaData, String, Text
from sqlalchemy.engine import Dialect

from app.textfmt import plural

VALUES_KEY = "formtrail_values"
MAX_LENGTH_KEY = "formtrail_max_length"


def one_of(*values: str) -> dict[str, Any]:
    """``info`` of a String column whose values are a closed set in the code (checked in the database)."""
    return {VALUES_KEY: tuple(values)}


def at_most(length: int) -> dict[str, Any]:
    """``info`` of a Text column whose length the services limit (app.services.core.limits): the database refuses
    longer text too."""
    return {MAX_LENGTH_KEY: length}


def shown(value: object, limit: int = 40) -> str:
    """A stored value as a person reads it in a message: quoted, and cut when long (it may be megabytes)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(str(value)):,} characters)"


@dataclasses.dataclass(frozen=True)
class ColumnCheck:
    """One CHECK constraint: ``values`` (the closed set) or ``max_length`` (characters)."""

    table: str
    column: str
    values: tuple[str, ...] | None = None
    max_length: int | None = None

    @property
    def suffix(self) -> str:
        """The constraint's own part of the name (the naming convention adds ``ck_<table>_``)."""
        return f"{self.column}_{'value' if self.values is not None else 'length'}"

    @property
    def name(self) -> str:
        return f"ck_{self.table}_{self.suffix}"

    @property
    def condition(self) -> str:
        column = f'"{self.column}"'
        if self.values is not None:
            return f"{column} IN ({', '.join(_quoted(v) for v in self.values)})"
        return f"length({column}) <= {self.max_length}"

    @property
    def violation(self) -> str:
        """SQL true for a row the constraint refuses (NULL passes a CHECK)."""
        return f'"{self.column}" IS NOT NULL AND NOT ({self.condition})'

    def problem(self, value: object) -> str:
        """What is wrong with ``value`` in this column, for a person."""
        if self.values is not None:
            return f"holds {shown(value)}, which Formtrail never writes (it knows {', '.join(self.values)})"
        return f"is {len(str(value)):,} characters long; at most {self.max_length:,} are allowed"


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class BadStoredValue(Exception):
    """The database holds values Formtrail never writes: it was changed outside Formtrail."""


class UnknownStoredValue(BadStoredValue, LookupError):
    """Raised while reading an enum column whose value is not one of its enum's (a LookupError, as SQLAlchemy's
    own, so nothing that expected that changes). Services turn it into ``DamagedData`` with the same text."""

    def __init__(self, table: str, column: str, value: object, known: tuple[str, ...]) -> None:
        self.table, self.column, self.value, self.known = table, column, value, known
        super().__init__(
            f"the database holds a value Formtrail never writes: {table}.{column} is {shown(value)} (Formtrail "
            f"knows {', '.join(known)}), so it was changed outside Formtrail. Ask an administrator to run "
            "`formtrail verify`, which lists every such value, and to restore the last good backup.")


class ValuesRefused(BadStoredValue):
    """Raised by a migration that adds constraints when existing rows break them; nothing was changed."""

    def __init__(self, problems: list[str], total: int) -> None:
        self.problems, self.total = problems, total
        more = f"\n  … and {total - len(problems):,} more" if total > len(problems) else ""
        super().__init__(
            f"the schema was not upgraded (nothing was changed): {plural(total, 'stored value')} that Formtrail "
            "never writes, so the database was changed outside Formtrail:\n  " + "\n  ".join(problems) + more +
            "\nReport this to QA as a data-integrity incident; restore the last good backup (with the version of "
            "Formtrail that made it) and upgrade again.")


class StoredEnum(Enum):
    """``value_enum``'s type: reading a value that is not one of the enum's raises :class:`UnknownStoredValue`
    naming the table and column (set by :func:`install`), instead of SQLAlchemy's bare LookupError."""

    where: tuple[str, str] | None = None

    def adapt(self, cls: Any, **kw: Any) -> Any:
        # PostgreSQL's dialect builds its own copy of the type to read with: it must still know its column.
        adapted = super().adapt(cls, **kw)
        if isinstance(adapted, StoredEnum):
            adapted.where = self.where
        return adapted

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        process = super().result_processor(dialect, coltype)
        table, column = self.where or ("?", self.name or "?")
        known = tuple(self.enums)

        def checked(value: object) -> object:
            try:
                return process(value)
            except LookupError:
                raise UnknownStoredValue(table, column, value, known) from None
        return checked


def column_checks(metadata: MetaData) -> list[ColumnCheck]:
    """Every CHECK the models ask for, table by table: enum columns and String columns with ``one_of`` by
    value, other String(n) and Text columns with ``at_most`` by length."""
    found: list[ColumnCheck] = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            kind = column.type
            if isinstance(kind, Enum):
                found.append(ColumnCheck(table.name, column.name, values=tuple(kind.enums)))
            elif VALUES_KEY in column.info:
                found.append(ColumnCheck(table.name, column.name, values=column.info[VALUES_KEY]))
            elif MAX_LENGTH_KEY in column.info:
                found.append(ColumnCheck(table.name, column.name, max_length=column.info[MAX_LENGTH_KEY]))
            elif isinstance(kind, String) and not isinstance(kind, Text) and kind.length:
                found.append(ColumnCheck(table.name, column.name, max_length=kind.length))
    return found


def install(metadata: MetaData) -> None:
    """Give every table its CHECK constraints and every StoredEnum its column (once, after all models loaded)."""
    tables = metadata.tables
    for check in column_checks(metadata):
        table = tables[check.table]
        kind = table.columns[check.column].type
        if isinstance(kind, StoredEnum):
            kind.where = (check.table, check.column)
        table.append_constraint(CheckConstraint(check.condition, name=check.suffix))
