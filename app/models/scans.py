"""Scans: each received file (kept byte for byte) and each of its pages, linked to an issued form page or
held in the exceptions queue with a precise reason."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import LinkMethod, ScanOutcome, SourceStatus
from app.models.base import Base, Controlled, value_enum
from app.models.checks import at_most, one_of


class ScanSource(Controlled, Base):
    __tablename__ = "scan_source"
    __audit_entity__ = "scan_source"
    __audit_key__ = "sha256"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_file.sha256"), unique=True)
    original_name: Mapped[str] = mapped_column(Text)
    size: Mapped[int]
    media_type: Mapped[str] = mapped_column(String(40))
    origin: Mapped[str] = mapped_column(String(40), info=one_of("file", "folder", "drop", "hot-folder"))
    status: Mapped[SourceStatus] = mapped_column(value_enum(SourceStatus))
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    page_count: Mapped[int | None]
    imported_at: Mapped[dt.datetime]
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    workstation: Mapped[str] = mapped_column(String(200))
    # SC-01: the scanner, where the file or the hot folder names it (PDF Producer/Creator, TIFF/EXIF Make/Model).
    device: Mapped[str | None] = mapped_column(String(200))

    pages: Mapped[list[ScanPage]] = relationship(back_populates="source", order_by="ScanPage.page_index")


class ScanPage(Controlled, Base):
    """One page of a source, addressed as (source hash, page index). ``issued_form_id`` is set whenever the
    page was identified, also for exceptions (a page of a voided form stays with that form)."""

    __tablename__ = "scan_page"
    __audit_entity__ = "scan_page"
    __audit_state_fields__ = frozenset({"outcome"})

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("scan_source.id"))
    page_index: Mapped[int]
    width: Mapped[int | None]
    height: Mapped[int | None]
    dpi: Mapped[float | None]
    colour_mode: Mapped[str | None] = mapped_column(String(20))
    method: Mapped[str | None] = mapped_column(String(40))
    decoded_text: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[ScanOutcome] = mapped_column(value_enum(ScanOutcome))
    reason: Mapped[str | None] = mapped_column(Text)
    issued_form_id: Mapped[int | None] = mapped_column(ForeignKey("issued_form.id"))
    page_no: Mapped[int | None]
    link_method: Mapped[str | None] = mapped_column(String(20), info=one_of(*(m.value for m in LinkMethod)))
    linked_at: Mapped[dt.datetime | None]
    linked_by: Mapped[str | None] = mapped_column(String(64))
    resolution: Mapped[str | None] = mapped_column(Text, info=at_most(2000))  # how an exception was closed
    resolved_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    # A rescan accepted as a new version replaces the current image of that page; the old one stays.
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("scan_page.id"))

    source: Mapped[ScanSource] = relationship(back_populates="pages")

    __table_args__ = (
        UniqueConstraint("source_id", "page_index", name="uq_scan_page_source_page"),
        Index("ix_scan_page_outcome", "outcome"),
        Index("ix_scan_page_issued_form_id", "issued_form_id"),
    )
