"""Electronic records of issued forms: one record per form, one entry per value, corrections as new entries."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import EntryKind, RecordState
from app.models.base import Base, Controlled, value_enum
from app.models.checks import at_most, one_of

if TYPE_CHECKING:
    from app.models.lifecycle import EntryInvalidation


class Record(Controlled, Base):
    __tablename__ = "record"
    __audit_entity__ = "record"
    __audit_key__ = "serial"

    id: Mapped[int] = mapped_column(primary_key=True)
    issued_form_id: Mapped[int] = mapped_column(ForeignKey("issued_form.id"), unique=True)
    serial: Mapped[str] = mapped_column(String(20), index=True)
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_version.id"))
    state: Mapped[RecordState] = mapped_column(value_enum(RecordState))
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(64))

    entries: Mapped[list[Entry]] = relationship(back_populates="record", order_by="Entry.id")

    __table_args__ = (Index("ix_record_state", "state"),)


class Entry(Controlled, Base):
    """One value of one field: who, when, from which source. A correction is a new entry that supersedes the
    previous one (which stays, readable, with the reason); nothing is overwritten."""

    __tablename__ = "record_entry"
    __audit_entity__ = "record_entry"
    __audit_key__ = "audit_label"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"))
    field_name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(Text, info=at_most(4000))  # limits: "value"
    is_na: Mapped[bool] = mapped_column(default=False)
    kind: Mapped[EntryKind] = mapped_column(value_enum(EntryKind))
    reason: Mapped[str | None] = mapped_column(Text, info=at_most(2000))  # correction reason, or why "NA"
    activity_at: Mapped[dt.datetime | None]  # when the work was done, as written on the paper
    entered_at: Mapped[dt.datetime]
    entered_by: Mapped[str] = mapped_column(String(64))
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    source: Mapped[str] = mapped_column(String(20), info=one_of("scan", "direct"))
    scan_page_id: Mapped[int | None] = mapped_column(ForeignKey("scan_page.id"))
    late: Mapped[bool] = mapped_column(default=False)
    late_reason: Mapped[str | None] = mapped_column(Text, info=at_most(2000))
    out_of_limits: Mapped[bool] = mapped_column(default=False)
    justification: Mapped[str | None] = mapped_column(Text, info=at_most(2000))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("record_entry.id"))
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("record_entry.id"))
    verified_at: Mapped[dt.datetime | None]
    verified_by: Mapped[str | None] = mapped_column(String(64))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    record: Mapped[Record] = relationship(back_populates="entries")
    # RC-05: the value's invalidation, if any (its own table, app.models.lifecycle): the entry stays as it was,
    # shown flagged VOID, and no longer counts as its field's result.
    invalidation: Mapped[EntryInvalidation | None] = relationship(
        primaryjoin="Entry.id == foreign(EntryInvalidation.entry_id)", viewonly=True, uselist=False, lazy="selectin")

    @property
    def audit_label(self) -> str:
        """"000123/sample_weight_1#42": the record's serial leads, so its whole trail is one prefix query."""
        return f"{self.record.serial}/{self.field_name}#{self.id}"

    __table_args__ = (
        Index("ix_record_entry_record_field", "record_id", "field_name"),
        Index("ix_record_entry_entered_at", "entered_at"),
    )
