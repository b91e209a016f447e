"""The site this database serves, and its configuration values."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Controlled


class Site(Controlled, Base):
    __tablename__ = "site"
    __audit_entity__ = "site"
    __audit_key__ = "code"
    # The key authenticates QR codes; it must never leave the database, not even into the audit trail.
    __audit_redact__ = frozenset({"qr_key"})

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    qr_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime]


class Setting(Controlled, Base):
    """One configuration value, stored as JSON text; defaults live in ``app.services.site.settings``."""

    __tablename__ = "setting"
    __audit_entity__ = "setting"
    __audit_key__ = "key"
    __audit_create_action__ = "CONFIG_CHANGE"
    __audit_update_action__ = "CONFIG_CHANGE"
    # The audit row itself says who changed it and when.
    __audit_ignore__ = frozenset({"changed_at", "changed_by"})

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[dt.datetime]
    changed_by: Mapped[str] = mapped_column(String(64))
