"""People and places allowed to act (issue 16, "identity"): qualification records (AC-07) and registered
workstations (AC-08).

Both are controlled data: every row and change is on the audit trail, nothing is deleted. A qualification is
revoked (with a reason), never removed; a workstation is retired, never removed, so an old audit event's station
name can always be looked up.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Controlled, value_enum
from app.models.checks import at_most


class QualificationKind(enum.Enum):
    """What a qualification record says about a person (21 CFR 11.100(b), (c); 11.10(i))."""

    IDENTITY_VERIFIED = "identity-verified"  # 11.100(b): identity checked before signing rights are given
    ACCOUNTABILITY_SIGNED = "accountability-statement"  # 11.100(c): the signed non-repudiation letter
    TRAINING = "training"  # 11.10(i): trained for one activity

    @property
    def title(self) -> str:
        return {"identity-verified": "Identity verified", "accountability-statement": "Accountability statement signed",
                "training": "Training"}[self.value]


class TrainedActivity(enum.Enum):
    """The closed list of activities training is recorded for; signing and verifying are gated on it."""

    SIGNING = "signing"
    VERIFYING = "verifying"
    DATA_ENTRY = "data-entry"
    ISSUING = "issuing"
    SCAN_INTAKE = "scan-intake"
    RECONCILIATION = "reconciliation"
    REVIEW_APPROVAL = "review-approval"
    TEMPLATE_AUTHORING = "template-authoring"
    ADMINISTRATION = "administration"

    @property
    def title(self) -> str:
        return self.value.replace("-", " ")


class StationStatus(enum.Enum):
    SEEN = "seen"  # tried to connect; not registered: read-only
    REGISTERED = "registered"
    RETIRED = "retired"  # registered once; read-only now, kept so its name stays on old events


class Qualification(Controlled, Base):
    """One qualification of one user: identity verified, accountability statement signed, or training for an
    activity, with its reference (course or document id), completion date and optional expiry."""

    __tablename__ = "qualification"
    __audit_entity__ = "qualification"
    __audit_key__ = "audit_label"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    username: Mapped[str] = mapped_column(String(64))
    kind: Mapped[QualificationKind] = mapped_column(value_enum(QualificationKind))
    activity: Mapped[TrainedActivity | None] = mapped_column(value_enum(TrainedActivity))
    reference: Mapped[str] = mapped_column(String(120))
    completed_on: Mapped[dt.date]
    expires_on: Mapped[dt.date | None]
    recorded_at: Mapped[dt.datetime]
    recorded_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[dt.datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoke_reason: Mapped[str | None] = mapped_column(Text, info=at_most(2000))

    @property
    def audit_label(self) -> str:
        """"qa/training:signing#7": the user's name leads, so one person's qualifications are one prefix query."""
        what = self.kind.value if self.activity is None else f"{self.kind.value}:{self.activity.value}"
        return f"{self.username}/{what}#{self.id}"

    __table_args__ = (Index("ix_qualification_user_id", "user_id"),)


class Workstation(Controlled, Base):
    """One installation of Formtrail, by its per-installation id (``station_id``), seen connecting and, once an
    administrator registers it, known under a ``name`` that audit events record."""

    __tablename__ = "workstation"
    __audit_entity__ = "workstation"
    __audit_key__ = "station_id"
    __audit_ignore__ = frozenset({"last_seen_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[StationStatus] = mapped_column(value_enum(StationStatus))
    first_seen_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    registered_at: Mapped[dt.datetime | None]
    registered_by: Mapped[str | None] = mapped_column(String(64))
    retired_at: Mapped[dt.datetime | None]
    retired_by: Mapped[str | None] = mapped_column(String(64))
    retire_reason: Mapped[str | None] = mapped_column(Text, info=at_most(2000))
