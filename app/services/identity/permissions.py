"""The role matrix: what each role may do. Administrators manage users and settings only."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import select

from app.models import Role, RoleGrant, User, UserStatus
from app.services.core import stored
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import PermissionDenied


class Permission(enum.Enum):
    MANAGE_USERS = "manage users"
    MANAGE_SETTINGS = "change settings"
    VIEW_AUDIT = "view the audit trail"
    EXPORT_AUDIT = "export the audit trail"
    VIEW_DATA = "view GMP data"
    EDIT_TEMPLATES = "author templates"
    APPROVE_TEMPLATES = "approve templates"
    ISSUE_FORMS = "issue and print controlled forms"
    REPLACE_FORMS = "approve replacement copies"
    IMPORT_SCANS = "import scans"
    LINK_SCANS = "link scans manually"
    VERIFY_TRUE_COPY = "verify true copies"
    RECORD_DISPOSITION = "record where paper originals are kept"
    APPROVE_DESTRUCTION = "approve destruction of paper originals"
    RECONCILE = "void forms or declare them missing"
    CLOSE_RECONCILIATION = "close reconciliations"
    ENTER_DATA = "enter and correct record data"
    VERIFY_DATA = "verify critical entries"
    REVIEW_RECORDS = "review records"
    APPROVE_RECORDS = "approve records"
    SIGN = "sign electronically"
    BACKUP = "take backups"
    RESTORE = "restore backups"
    # Issue 16 (inspection-ready).
    MANAGE_WORKSTATIONS = "register workstations"
    RECORD_TRAINING = "record training and qualifications"
    CLOSE_INCIDENTS = "assess and close incidents"
    APPROVE_RESTORE = "approve an in-place restore"
    PLACE_LEGAL_HOLD = "place and release legal holds"
    REQUEST_DISPOSAL = "request disposal of records past retention"
    APPROVE_DISPOSAL = "approve disposal of records"
    INVALIDATE_RESULTS = "invalidate recorded results"
    APPROVE_CONFIGURATION = "approve GMP-relevant configuration changes"
    SIGN_PERIODIC_REVIEW = "perform and sign periodic reviews"


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # Annex 11 / FDA-DI Q4: the administrator keeps the system running but never touches GMP data. Taking a
    # backup (a copy of everything, signed with the site's key) is the administrator's act, or a scheduled one.
    Role.ADMINISTRATOR: frozenset({P.MANAGE_USERS, P.MANAGE_SETTINGS, P.VIEW_AUDIT, P.EXPORT_AUDIT, P.BACKUP,
                                   P.RESTORE, P.MANAGE_WORKSTATIONS, P.APPROVE_RESTORE}),
    Role.DOCUMENT_CONTROL: frozenset({
        P.VIEW_DATA, P.VIEW_AUDIT, P.EDIT_TEMPLATES, P.ISSUE_FORMS, P.IMPORT_SCANS, P.LINK_SCANS,
        P.VERIFY_TRUE_COPY, P.RECORD_DISPOSITION, P.RECONCILE, P.SIGN, P.REQUEST_DISPOSAL,
    }),
    Role.OPERATOR: frozenset({P.VIEW_DATA, P.IMPORT_SCANS, P.ENTER_DATA, P.VERIFY_DATA, P.VERIFY_TRUE_COPY, P.SIGN,
                              P.INVALIDATE_RESULTS}),
    Role.QA: frozenset({
        P.VIEW_DATA, P.VIEW_AUDIT, P.EXPORT_AUDIT, P.EDIT_TEMPLATES, P.APPROVE_TEMPLATES, P.REPLACE_FORMS,
        P.LINK_SCANS,
        P.VERIFY_TRUE_COPY, P.RECORD_DISPOSITION, P.APPROVE_DESTRUCTION, P.RECONCILE, P.CLOSE_RECONCILIATION,
        P.VERIFY_DATA, P.REVIEW_RECORDS,
        P.APPROVE_RECORDS, P.SIGN,
        P.RECORD_TRAINING, P.CLOSE_INCIDENTS, P.APPROVE_RESTORE, P.PLACE_LEGAL_HOLD, P.REQUEST_DISPOSAL,
        P.APPROVE_DISPOSAL, P.INVALIDATE_RESULTS, P.APPROVE_CONFIGURATION, P.SIGN_PERIODIC_REVIEW,
    }),
    Role.VIEWER: frozenset({P.VIEW_DATA}),
}


# Acts kept apart from the work they check (separation of duties): a role without them lacks them on purpose,
# so a refusal names who does them instead of suggesting to ask an administrator for the role.
SEPARATED = frozenset({P.APPROVE_TEMPLATES, P.REPLACE_FORMS, P.APPROVE_DESTRUCTION, P.CLOSE_RECONCILIATION,
                       P.REVIEW_RECORDS, P.APPROVE_RECORDS, P.APPROVE_DISPOSAL, P.APPROVE_CONFIGURATION,
                       P.CLOSE_INCIDENTS})


def permissions_of(roles: frozenset[Role]) -> frozenset[Permission]:
    return frozenset().union(*(ROLE_PERMISSIONS[r] for r in roles)) if roles else frozenset()


# AC-08: the acts a workstation an administrator has not registered may not do: signing (and every act that is
# a signature), issuing and printing controlled forms, importing scans. The services refuse them at such a
# station (app.services.identity.workstations); ``allowed`` answers no for them, so no view offers them there.
STATION_ACTS = frozenset({
    P.SIGN, P.ISSUE_FORMS, P.IMPORT_SCANS, P.REPLACE_FORMS, P.APPROVE_TEMPLATES, P.CLOSE_RECONCILIATION,
    P.REVIEW_RECORDS, P.APPROVE_RECORDS, P.VERIFY_TRUE_COPY, P.APPROVE_DESTRUCTION, P.APPROVE_DISPOSAL,
    P.CLOSE_INCIDENTS, P.APPROVE_CONFIGURATION, P.SIGN_PERIODIC_REVIEW, P.INVALIDATE_RESULTS, P.APPROVE_RESTORE,
})


def allowed(actor: Any, permission: Permission) -> bool:
    if permission in STATION_ACTS and not getattr(actor, "station_may_act", True):
        return False
    return permission in permissions_of(actor.roles)


def current_roles(db: Any, actor: Any) -> frozenset[Role]:
    """The roles the account holds now, read at the act: a user demoted (or locked, or deactivated) while
    logged in loses the rights at once, not at the next log-in. The session's own roles still bound them."""
    if actor.user_id is None:  # the installer, a scheduled job, a failed log-in: roles are what they carry
        return actor.roles
    with db.engine.connect() as conn, stored.translated():
        status = conn.execute(select(User.status).where(User.id == actor.user_id)).scalar()
        if status is not UserStatus.ACTIVE:
            return frozenset()
        held = conn.execute(select(RoleGrant.role).where(RoleGrant.user_id == actor.user_id,
                                                         RoleGrant.revoked_at.is_(None))).scalars()
        return actor.roles & frozenset(held)


def require(db: Any, actor: Any, permission: Permission) -> None:
    """Raise PermissionDenied unless the actor's roles, as held now, allow it; the refusal is written to the
    audit trail first."""
    if permission not in permissions_of(current_roles(db, actor)):
        if allowed(actor, permission):
            text = (f"{actor.username} no longer holds the role to {permission.value}: it changed since the log-in "
                    "(or the account was locked); log in again")
        else:
            text = _refusal_text(actor, permission)
        refusal = PermissionDenied(text, code=ErrorCode.SEPARATION_OF_DUTIES if permission in SEPARATED else None)
        db.record_refusal(actor, refusal)
        raise refusal


def _refusal_text(actor: Any, permission: Permission) -> str:
    roles = ", ".join(sorted(r.title for r in actor.roles)) or "no role"
    if permission in SEPARATED:
        holders = " or ".join(sorted(r.title for r in Role if permission in ROLE_PERMISSIONS[r]))
        return (f"{actor.username} ({roles}) may not {permission.value}: {holders} does this, separately from the "
                "work it checks (separation of duties); ask a colleague who holds that role")
    return f"{actor.username} ({roles}) may not {permission.value}; ask an administrator for the right role"


def require_any(db: Any, actor: Any, *permissions: Permission) -> None:
    """Allowed if any one of ``permissions`` is held; otherwise refused (and logged) naming the first."""
    held = permissions_of(current_roles(db, actor))  # as held now, like require
    if not any(p in held for p in permissions):
        require(db, actor, permissions[0])


def role_matrix() -> dict[str, list[str]]:
    """The role matrix as plain data, for export and comparison with the approved specification (AC-02)."""
    return {role.value: sorted(p.name.lower() for p in ROLE_PERMISSIONS[role]) for role in Role}
