"""Governance (issue 16, SE-02 and periodic reviews): every configuration change as a numbered version, approved by
QA where it touches a GMP rule; and the periodic reviews (audit trail, user access) QA signs.

Both tables are controlled data: created and decided on the audit trail, never deleted. A configuration change
keeps the old and the new value as JSON text, the way ``setting.value`` stores them."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Controlled, value_enum
from app.models.checks import at_most

REASON_LIMIT = 2000
CONCLUSION_LIMIT = 4000


class ConfigChangeStatus(enum.Enum):
    PENDING = "pending"  # a GMP-relevant change waiting for QA: not in effect
    APPLIED = "applied"  # not GMP-relevant: in effect at once (still a version of its own)
    APPROVED = "approved"  # approved by QA with an e-signature, and in effect from then
    REJECTED = "rejected"  # refused by QA with a reason: never in effect

    @property
    def title(self) -> str:
        return self.value.capitalize()


class ReviewKind(enum.Enum):
    AUDIT_TRAIL = "audit-trail"
    ACCESS = "access"

    @property
    def title(self) -> str:
        return {"audit-trail": "Audit-trail review", "access": "User access review"}[self.value]


class ReviewStatus(enum.Enum):
    GENERATED = "generated"  # its report is made and stored; QA has not signed it yet
    SIGNED = "signed"


class ConfigChange(Controlled, Base):
    """One requested change of one setting: the site's configuration version ``version`` (1, 2, 3... over all
    settings, in the order asked)."""

    __tablename__ = "config_change"
    __audit_entity__ = "config_change"
    __audit_key__ = "audit_label"
    __audit_create_action__ = "CONFIG_REQUEST"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    key: Mapped[str] = mapped_column(String(80))
    old_value: Mapped[str] = mapped_column(Text)  # JSON, as in effect when asked
    new_value: Mapped[str] = mapped_column(Text)  # JSON
    gmp: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text, info=at_most(REASON_LIMIT))
    status: Mapped[ConfigChangeStatus] = mapped_column(value_enum(ConfigChangeStatus))
    requested_at: Mapped[dt.datetime]
    requested_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_reason: Mapped[str | None] = mapped_column(Text, info=at_most(REASON_LIMIT))

    @property
    def audit_label(self) -> str:
        """"v12 login.max_failures": the version leads, the key says what it changes."""
        return f"v{self.version} {self.key}"

    __table_args__ = (
        Index("ix_config_change_key", "key"),
        Index("ix_config_change_status", "status"),
    )


class PeriodicReview(Controlled, Base):
    """One periodic review: its report (a stored PDF) covering ``period_start``..``period_end``, then QA's signed
    conclusion."""

    __tablename__ = "periodic_review"
    __audit_entity__ = "periodic_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReviewKind] = mapped_column(value_enum(ReviewKind))
    period_start: Mapped[dt.datetime | None]  # None: from the beginning of the trail
    period_end: Mapped[dt.datetime]
    report_sha256: Mapped[str] = mapped_column(String(64), ForeignKey("stored_file.sha256"))
    summary: Mapped[str] = mapped_column(Text)  # JSON: the counts the report shows
    status: Mapped[ReviewStatus] = mapped_column(value_enum(ReviewStatus))
    generated_at: Mapped[dt.datetime]
    generated_by: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime | None]
    signed_by: Mapped[str | None] = mapped_column(String(64))
    conclusion: Mapped[str | None] = mapped_column(Text, info=at_most(CONCLUSION_LIMIT))

    __table_args__ = (Index("ix_periodic_review_kind_status", "kind", "status"),)
