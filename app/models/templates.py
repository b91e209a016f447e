"""Master forms (templates) and their versions, each version an approved layout."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import TemplateStatus
from app.models.base import Base, Controlled, value_enum
from app.models.checks import at_most


class Template(Controlled, Base):
    __tablename__ = "template"
    __audit_entity__ = "template"
    __audit_key__ = "code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(64))

    versions: Mapped[list[TemplateVersion]] = relationship(back_populates="template",
                                                           order_by="TemplateVersion.version")


class TemplateVersion(Controlled, Base):
    """One layout of a template. Only an effective version can be issued; the layout is the canonical JSON
    of ``app.forms.layout.layout`` and its hash is what the approval signature binds to."""

    __tablename__ = "template_version"
    __audit_entity__ = "template_version"
    __audit_key__ = "label"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("template.id"))
    version: Mapped[int]
    status: Mapped[TemplateStatus] = mapped_column(value_enum(TemplateStatus))
    title: Mapped[str] = mapped_column(String(200))
    layout_json: Mapped[str] = mapped_column(Text)
    layout_sha256: Mapped[str] = mapped_column(String(64))
    change_reason: Mapped[str] = mapped_column(Text, info=at_most(2000))
    author_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    author_username: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    submitted_at: Mapped[dt.datetime | None]
    effective_at: Mapped[dt.datetime | None]
    effective_date: Mapped[dt.date | None] = mapped_column(Date)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    ended_at: Mapped[dt.datetime | None]

    template: Mapped[Template] = relationship(back_populates="versions")

    __table_args__ = (
        UniqueConstraint("template_id", "version", name="uq_template_version_template_id_version"),
        Index("ix_template_version_status", "status"),
    )

    @property
    def label(self) -> str:
        return f"{self.template.code}@{self.version}"
