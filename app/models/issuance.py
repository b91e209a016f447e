"""Issuances, issued forms (one controlled copy each, with a unique serial) and the serial counter."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import Disposition, FileKind, FormState, IssuanceState
from app.models.base import Base, Controlled, value_enum
from app.models.checks import at_most, one_of
from app.models.templates import TemplateVersion

CHECKLIST_LIMIT = 500  # issued_form.true_copy_checklist: the confirmed items, in words


class SerialCounter(Base):
    """The next serial of a site. Read and advanced under a row lock in the issuing transaction, so serials
    are gap-free: a rolled-back issuance rolls the counter back with it."""

    __tablename__ = "serial_counter"

    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    next_serial: Mapped[int] = mapped_column(BigInteger)


class Issuance(Controlled, Base):
    __tablename__ = "issuance"
    __audit_entity__ = "issuance"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_version.id"))
    copies: Mapped[int]
    purpose: Mapped[str] = mapped_column(Text, info=at_most(300))
    reference: Mapped[str | None] = mapped_column(String(120))
    issued_to: Mapped[str] = mapped_column(String(200))
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_by_name: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[dt.datetime]
    due_date: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[IssuanceState] = mapped_column(value_enum(IssuanceState), default=IssuanceState.OPEN)
    # The version of the site's QR key its codes are tagged with (NULL: the key of the site table, before
    # keys left the database). A code tagged with an older key than its issuance's is not linked.
    key_version: Mapped[int | None]
    # The serial format (setting issuance.serial_format) its copies were printed with, kept so a later change of
    # the setting never changes how they are named (NULL: issued before the setting existed, the bare number).
    serial_format: Mapped[str | None] = mapped_column(String(80))

    template_version: Mapped[TemplateVersion] = relationship()
    forms: Mapped[list[IssuedForm]] = relationship(
        back_populates="issuance", order_by="IssuedForm.serial_no", foreign_keys="IssuedForm.issuance_id"
    )

    __table_args__ = (
        Index("ix_issuance_issued_at", "issued_at"),
        Index("ix_issuance_template_version_id", "template_version_id"),
        Index("ix_issuance_due_date", "due_date"),
        Index("ix_issuance_state", "state"),
        Index("ix_issuance_issued_to", "issued_to"),
    )


class IssuedForm(Controlled, Base):
    __tablename__ = "issued_form"
    __audit_entity__ = "issued_form"
    __audit_key__ = "serial"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuance_id: Mapped[int] = mapped_column(ForeignKey("issuance.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    serial_no: Mapped[int] = mapped_column(BigInteger)
    serial: Mapped[str] = mapped_column(String(20))
    copy_no: Mapped[int]
    pages: Mapped[int]
    state: Mapped[FormState] = mapped_column(value_enum(FormState), default=FormState.ISSUED)
    state_reason: Mapped[str | None] = mapped_column(Text, info=at_most(2000))
    deviation_ref: Mapped[str | None] = mapped_column(String(120))
    state_changed_at: Mapped[dt.datetime | None]
    state_changed_by: Mapped[str | None] = mapped_column(String(64))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("issued_form.id"))
    pdf_id: Mapped[int] = mapped_column(ForeignKey("controlled_pdf.id"))
    true_copy_verified_at: Mapped[dt.datetime | None]
    true_copy_verified_by: Mapped[str | None] = mapped_column(String(64))
    # What happened to the paper original once its scans were verified as true copies (SC-05).
    paper_disposition: Mapped[str | None] = mapped_column(String(20), info=one_of(*(d.value for d in Disposition)))
    paper_location: Mapped[str | None] = mapped_column(Text)
    disposition_at: Mapped[dt.datetime | None]
    disposition_by: Mapped[str | None] = mapped_column(String(64))
    # SC-02: what the true-copy verifier confirmed (the checklist, also bound into the signature's content).
    true_copy_checklist: Mapped[str | None] = mapped_column(Text, info=at_most(CHECKLIST_LIMIT))

    issuance: Mapped[Issuance] = relationship(back_populates="forms", foreign_keys=[issuance_id])
    replaces: Mapped[IssuedForm | None] = relationship(remote_side=[id], foreign_keys=[replaces_id])

    __table_args__ = (
        UniqueConstraint("site_id", "serial_no", name="uq_issued_form_site_serial"),
        Index("ix_issued_form_issuance_id", "issuance_id"),
        Index("ix_issued_form_state", "state"),
        Index("ix_issued_form_serial", "serial"),
    )


class ControlledPdf(Controlled, Base):
    """The PDF of controlled copies made by one issuance or one replacement. It may be printed or saved
    exactly once (no reprints): a lost or spoiled print is voided and replaced, never printed again."""

    __tablename__ = "controlled_pdf"
    __audit_entity__ = "controlled_pdf"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuance_id: Mapped[int] = mapped_column(ForeignKey("issuance.id"))
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_file.sha256"))
    pages: Mapped[int]
    first_serial: Mapped[str] = mapped_column(String(20))
    last_serial: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime]
    released_at: Mapped[dt.datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(64))
    released_to: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_controlled_pdf_issuance_id", "issuance_id"),)


class StoredFile(Controlled, Base):
    """A file kept in the content-addressed file store: the database holds its hash, the store its bytes."""

    __tablename__ = "stored_file"
    __audit_entity__ = "stored_file"
    __audit_key__ = "sha256"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20), info=one_of(*(k.value for k in FileKind)))
    media_type: Mapped[str] = mapped_column(String(80))
    original_name: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[dt.datetime]
    stored_by: Mapped[str] = mapped_column(String(64))


class FormPageAddition(Controlled, Base):
    """Extra pages issued to a form in use (BF-02): pages ``first_page``..``last_page`` of the same serial, printed
    "page x of ``last_page``" with codes for those page numbers; the form's page count became ``last_page``. The
    pages before keep what they were printed with (see ``printed_total``)."""

    __tablename__ = "form_page_addition"
    __audit_entity__ = "form_page_addition"
    __audit_key__ = "audit_label"

    id: Mapped[int] = mapped_column(primary_key=True)
    issued_form_id: Mapped[int] = mapped_column(ForeignKey("issued_form.id"))
    serial: Mapped[str] = mapped_column(String(20))
    first_page: Mapped[int]
    last_page: Mapped[int]
    reason: Mapped[str] = mapped_column(Text, info=at_most(2000))
    added_at: Mapped[dt.datetime]
    added_by: Mapped[str] = mapped_column(String(64))
    added_by_name: Mapped[str] = mapped_column(String(200))
    pdf_id: Mapped[int] = mapped_column(ForeignKey("controlled_pdf.id"))

    @property
    def count(self) -> int:
        return self.last_page - self.first_page + 1

    @property
    def audit_label(self) -> str:
        """"000123/p6-7": the form's serial leads, so its additions' trail is one prefix query."""
        return f"{self.serial}/p{self.first_page}-{self.last_page}"

    __table_args__ = (Index("ix_form_page_addition_issued_form_id", "issued_form_id"),)
