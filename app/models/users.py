"""Users, their role grants and password history."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import Role, UserStatus
from app.models.base import Base, Controlled, value_enum
from app.models.checks import at_most


class User(Controlled, Base):
    __tablename__ = "app_user"
    __audit_entity__ = "user"
    __audit_key__ = "username"
    __audit_redact__ = frozenset({"password_hash"})
    __audit_ignore__ = frozenset({"failed_logins", "last_login_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(Text)
    password_changed_at: Mapped[dt.datetime]
    must_change_password: Mapped[bool] = mapped_column(default=True)
    status: Mapped[UserStatus] = mapped_column(value_enum(UserStatus), default=UserStatus.ACTIVE)
    failed_logins: Mapped[int] = mapped_column(default=0)
    deactivation_reason: Mapped[str | None] = mapped_column(Text, info=at_most(2000))
    deactivated_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    last_login_at: Mapped[dt.datetime | None]

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", foreign_keys="RoleGrant.user_id", order_by="RoleGrant.id"
    )

    def current_roles(self) -> frozenset[Role]:
        return frozenset(g.role for g in self.grants if g.revoked_at is None)


class RoleGrant(Controlled, Base):
    """One role held by one user for a period; revoking closes the period instead of deleting the row,
    so "who held which role on a given date" can always be answered."""

    __tablename__ = "role_grant"
    __audit_entity__ = "role_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    role: Mapped[Role] = mapped_column(value_enum(Role))
    granted_at: Mapped[dt.datetime]
    granted_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[dt.datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id])

    __table_args__ = (Index("ix_role_grant_user_role", "user_id", "role"),)


class PasswordHistory(Base):
    """Earlier password hashes, to refuse reuse of the last N passwords (not itself audited: the
    change of User.password_hash is)."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    password_hash: Mapped[str] = mapped_column(Text)
    set_at: Mapped[dt.datetime]

    user: Mapped[User] = relationship()
