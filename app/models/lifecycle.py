"""The end of a record's life (BK-05) and results taken back (RC-05).

* ``RetentionRule``: how many years the records of one template are kept (the site default, setting
  ``retention.default_years``, applies to templates without a rule). Changing one is a configuration change on
  the audit trail.
* ``LegalHold``: a hold on an issuance, a record (serial) or a template, with a reason; released with a reason,
  never deleted. An active hold blocks disposal of everything it covers.
* ``DisposalRequest`` / ``DisposalItem`` / ``DisposedFile``: a request names issuances past their retention and
  a reason; QA approves it with an e-signature (never the requester); only then are the stored files of those
  issuances destroyed, each listed with its SHA-256 (so ``verify`` expects exactly those files absent), and the
  certificate PDF is stored.
* ``EntryInvalidation``: one recorded value invalidated with a reason and an e-signature. The entry row stays as it
  was; this row flags it VOID, and it no longer counts as its field's result.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Controlled, value_enum
from app.models.checks import at_most


class HoldScope(enum.Enum):
    ISSUANCE = "issuance"
    RECORD = "record"
    TEMPLATE = "template"


class HoldStatus(enum.Enum):
    ACTIVE = "active"
    RELEASED = "released"


class DisposalStatus(enum.Enum):
    REQUESTED = "requested"  # waiting for QA's approval
    APPROVED = "approved"  # signed; its files are being destroyed (a crash here resumes at the next approval)
    COMPLETED = "completed"  # files destroyed, certificate stored


class RetentionRule(Controlled, Base):
    """The retention period of one template's records (by template code, so every version keeps the rule)."""

    __tablename__ = "retention_rule"
    __audit_entity__ = "retention_rule"
    __audit_key__ = "template_code"
    __audit_update_action__ = "CONFIG_CHANGE"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_code: Mapped[str] = mapped_column(String(40), unique=True)
    years: Mapped[int]
    reason: Mapped[str] = mapped_column(Text, info=at_most(2000))
    set_at: Mapped[dt.datetime]
    set_by: Mapped[str] = mapped_column(String(64))


class LegalHold(Controlled, Base):
    __tablename__ = "legal_hold"
    __audit_entity__ = "legal_hold"
    __audit_key__ = "audit_label"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[HoldScope] = mapped_column(value_enum(HoldScope))
    target: Mapped[str] = mapped_column(String(120))  # issuance id, serial or template code
    status: Mapped[HoldStatus] = mapped_column(value_enum(HoldStatus))
    reason: Mapped[str] = mapped_column(Text, info=at_most(2000))
    placed_at: Mapped[dt.datetime]
    placed_by: Mapped[str] = mapped_column(String(64))
    released_at: Mapped[dt.datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(64))
    release_reason: Mapped[str | None] = mapped_column(Text, info=at_most(2000))

    @property
    def audit_label(self) -> str:
        """"record:000123#4": what is held leads, the hold's own id keeps the key unique."""
        return f"{self.scope.value}:{self.target}#{self.id}"

    __table_args__ = (Index("ix_legal_hold_scope_target", "scope", "target"),
                      Index("ix_legal_hold_status", "status"))


class DisposalRequest(Controlled, Base):
    __tablename__ = "disposal_request"
    __audit_entity__ = "disposal_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[DisposalStatus] = mapped_column(value_enum(DisposalStatus))
    reason: Mapped[str] = mapped_column(Text, info=at_most(2000))
    requested_at: Mapped[dt.datetime]
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    approved_at: Mapped[dt.datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(64))
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signature.id"))
    completed_at: Mapped[dt.datetime | None]
    certificate_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_file.sha256"))

    __table_args__ = (Index("ix_disposal_request_status", "status"),)


class DisposalItem(Controlled, Base):
    """One issuance named in a request, with the retention basis it was found expired on."""

    __tablename__ = "disposal_item"
    __audit_entity__ = "disposal_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("disposal_request.id"))
    issuance_id: Mapped[int] = mapped_column(ForeignKey("issuance.id"))
    template_code: Mapped[str] = mapped_column(String(40))
    retention_years: Mapped[int]
    retention_basis: Mapped[str] = mapped_column(String(40))  # "template rule" or "site default"
    retention_start: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]

    __table_args__ = (Index("ix_disposal_item_request_id", "request_id"),
                      Index("ix_disposal_item_issuance_id", "issuance_id"))


class DisposedFile(Controlled, Base):
    """A stored file an approved disposal destroys: written in the approving transaction, before the file is
    removed, so ``verify`` expects it absent exactly then (and a file removed otherwise is still named)."""

    __tablename__ = "disposed_file"
    __audit_entity__ = "disposed_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("disposal_request.id"))
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_file.sha256"), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    original_name: Mapped[str] = mapped_column(Text, info=at_most(2000))
    size: Mapped[int]

    __table_args__ = (Index("ix_disposed_file_request_id", "request_id"),)


class EntryInvalidation(Controlled, Base):
    __tablename__ = "entry_invalidation"
    __audit_entity__ = "entry_invalidation"
    __audit_create_action__ = "INVALIDATE"
    __audit_key__ = "audit_label"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("record_entry.id"), unique=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"))
    serial: Mapped[str] = mapped_column(String(20))
    field_name: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, info=at_most(2000))
    invalidated_at: Mapped[dt.datetime]
    invalidated_by: Mapped[str] = mapped_column(String(64))
    invalidated_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    signature_id: Mapped[int] = mapped_column(ForeignKey("signature.id"))

    @property
    def audit_label(self) -> str:
        """"000123/sample_weight_1#42": the serial leads, as for the entry it flags (42 is the entry's id)."""
        return f"{self.serial}/{self.field_name}#{self.entry_id}"

    __table_args__ = (Index("ix_entry_invalidation_record_id", "record_id"),)
