"""Paper review by exception: what the scan reader measured in each box of a linked page, and the GDP findings
derived from it, which QA resolves.

Readings are derived data (made again from the stored scan whenever it is read): they are not audited field by
field, but they are never changed or deleted either; a page read again gets a new reading, and the newest one is
the page's current reading. Findings are controlled data: created, superseded and resolved on the audit trail.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import PaperFindingKind, PaperFindingStatus
from app.models.base import Base, Controlled, value_enum
from app.models.checks import at_most, one_of

# The states a box can be read in (app.forms.scan.readings.BoxState; models do not import app.forms, and a unit
# test keeps the two lists equal).
BOX_STATES = ("blank", "ink", "checked", "unchecked", "unclear")
NOTE_LIMIT = 500  # a reader's note is a hint for a person, not a record


class ScanReading(Base):
    """One reading of one linked scan page: how well it matched its template's geometry (``residual_mm``), or
    why it could not be matched (``error``), and its boxes."""

    __tablename__ = "scan_reading"

    id: Mapped[int] = mapped_column(primary_key=True)
    scan_page_id: Mapped[int] = mapped_column(ForeignKey("scan_page.id"))
    page: Mapped[int]
    residual_mm: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(Text, info=at_most(2000))
    read_at: Mapped[dt.datetime]
    read_by: Mapped[str] = mapped_column(String(64))

    boxes: Mapped[list[ScanBoxReading]] = relationship(back_populates="reading", order_by="ScanBoxReading.id")

    __table_args__ = (Index("ix_scan_reading_scan_page_id", "scan_page_id"),)


class ScanBoxReading(Base):
    """One box of one reading: ``field_name`` None for a signature block; ``part`` as the geometry names it."""

    __tablename__ = "scan_box_reading"

    id: Mapped[int] = mapped_column(primary_key=True)
    reading_id: Mapped[int] = mapped_column(ForeignKey("scan_reading.id"))
    field_name: Mapped[str | None] = mapped_column(String(64))
    part: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), info=one_of(*BOX_STATES))
    confidence: Mapped[float]
    ink: Mapped[float]
    note: Mapped[str | None] = mapped_column(Text, info=at_most(NOTE_LIMIT))

    reading: Mapped[ScanReading] = relationship(back_populates="boxes")

    __table_args__ = (Index("ix_scan_box_reading_reading_id", "reading_id"),)


class PaperFinding(Controlled, Base):
    """One GDP defect on one scanned page of an issued form, open until QA resolves it (a reason, or the
    reference of the deviation raised for it). A finding a later reading no longer finds is superseded, not
    deleted; a resolved one stays as it was resolved."""

    __tablename__ = "paper_finding"
    __audit_entity__ = "paper_finding"
    __audit_key__ = "audit_label"

    id: Mapped[int] = mapped_column(primary_key=True)
    scan_page_id: Mapped[int] = mapped_column(ForeignKey("scan_page.id"))
    issued_form_id: Mapped[int] = mapped_column(ForeignKey("issued_form.id"))
    serial: Mapped[str] = mapped_column(String(20))
    page: Mapped[int]
    field_name: Mapped[str | None] = mapped_column(String(64))  # None: a signature block or the whole page
    part: Mapped[str] = mapped_column(String(64))
    kind: Mapped[PaperFindingKind] = mapped_column(value_enum(PaperFindingKind))
    detail: Mapped[str] = mapped_column(Text, info=at_most(2000))
    status: Mapped[PaperFindingStatus] = mapped_column(value_enum(PaperFindingStatus))
    opened_at: Mapped[dt.datetime]
    opened_by: Mapped[str] = mapped_column(String(64))
    resolved_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolution: Mapped[str | None] = mapped_column(Text, info=at_most(2000))
    deviation_ref: Mapped[str | None] = mapped_column(String(120))

    @property
    def audit_label(self) -> str:
        """"000123/p1#42": the form's serial leads, so its findings' trail is one prefix query."""
        return f"{self.serial}/p{self.page}#{self.id}"

    __table_args__ = (
        Index("ix_paper_finding_issued_form_status", "issued_form_id", "status"),
        Index("ix_paper_finding_scan_page_id", "scan_page_id"),
        Index("ix_paper_finding_status", "status"),
    )
