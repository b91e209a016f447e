"""Electronic signatures bound to a hash of what was signed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.enums import SignatureMeaning
from app.models.base import Base, Controlled, value_enum


class Signature(Controlled, Base):
    __tablename__ = "signature"
    __audit_entity__ = "signature"
    __audit_create_action__ = "SIGN"
    __audit_key__ = "audit_label"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(128))
    # The activity groups signatures whose signers must be distinct people (e.g. "record:QC-000123").
    activity: Mapped[str] = mapped_column(String(160))
    meaning: Mapped[SignatureMeaning] = mapped_column(value_enum(SignatureMeaning))
    signer_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    signer_username: Mapped[str] = mapped_column(String(64))
    signer_full_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[dt.datetime]
    content_hash: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    # HMAC under the site's signature key over who signed what, with which meaning, when (see
    # app.services.identity.signatures.binding): a row copied or inserted without the key does not verify.
    binding: Mapped[str | None] = mapped_column(String(64))
    key_version: Mapped[int | None]

    @property
    def audit_label(self) -> str:
        """"record:000123#7": what was signed leads, the signature's own id keeps the key unique."""
        return f"{self.entity}:{self.entity_id}#{self.id}"

    __table_args__ = (
        Index("ix_signature_entity", "entity", "entity_id"),
        Index("ix_signature_activity", "activity"),
    )
