"""Declarative base, column types and the marker that puts a table under audit control."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import DateTime, Enum, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

from app.models.checks import StoredEnum

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no time zone type: values are stored as naive UTC and come back tagged UTC, so a value read
    from SQLite compares and hashes exactly like one read from PostgreSQL (timestamptz).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: controlled data stores timezone-aware UTC only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def value_enum(cls: type) -> Enum:
    """Store an enum by its readable value ("document_control"), not the Python member name. Its CHECK constraint
    comes from ``app.models.checks`` (named per column); an unknown value read back is named, not a LookupError."""
    return StoredEnum(cls, values_callable=lambda e: [m.value for m in e], native_enum=False, length=32)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


class Controlled:
    """Mixin for controlled data: every insert and update is written to the audit trail by
    ``app.services.core.audit`` in the same transaction, and the database refuses DELETE on the table.

    Class attributes tune what the audit trail says:
      __audit_entity__    name used in the trail (defaults to the table name)
      __audit_key__       attribute used as the entity id in the trail (a natural key; defaults to the PK)
      __audit_redact__    fields whose values are never copied into the trail (password hashes, keys)
      __audit_ignore__    bookkeeping fields whose changes are not events of their own
      __audit_state_fields__  fields whose change is a STATE_CHANGE rather than an UPDATE
      __audit_create_action__ / __audit_update_action__  override the action names
    """

    __audit_entity__: ClassVar[str | None] = None
    __audit_key__: ClassVar[str | None] = None
    __audit_redact__: ClassVar[frozenset[str]] = frozenset()
    __audit_ignore__: ClassVar[frozenset[str]] = frozenset()
    __audit_state_fields__: ClassVar[frozenset[str]] = frozenset({"state", "status"})
    __audit_create_action__: ClassVar[str] = "CREATE"
    __audit_update_action__: ClassVar[str] = "UPDATE"
