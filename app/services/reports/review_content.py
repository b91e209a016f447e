"""What the two periodic reviews show, read in one transaction as plain report sections.

The system audit-trail review lists, since the last signed one, what an inspector asks about first: failed log-ins
and signatures, lock-outs, refused acts, configuration changes and their decisions, and administrative acts (user
and role changes, restores, key rotations, schema upgrades, clock anomalies...). The user access review shows who
holds which role now, when each account last logged in, and the accounts that are dormant or were never used.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.forms.render.audit_trail_report import audit_table
from app.forms.render.report import KeyValues, Section, Table, Text
from app.models import AuditEvent, RoleGrant, User, UserStatus
from app.services.core.setting_specs import SPECS, get
from app.services.core.timefmt import local_text
from app.services.reports.audit_log import audit_line, event_views

DORMANT_KEY = "access.dormant_days"  # declared by the identity part of issue 16
DORMANT_DEFAULT = 90


@dataclasses.dataclass(frozen=True)
class Category:
    title: str
    explains: str
    actions: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()  # every event about these entities


# In the order the report shows them. An event belongs to the first category that names it.
CATEGORIES: tuple[Category, ...] = (
    Category("Failed log-ins and signatures", "Wrong passwords and unknown user names at log-in or signing.",
             actions=("LOGIN_FAILURE", "SIGN_FAIL")),
    Category("Lock-outs", "Accounts locked by repeated failures, and who unlocked them.",
             actions=("LOCKOUT", "UNLOCK")),
    Category("Refused acts", "Acts the system refused: a missing role, a GMP rule (separation of duties...).",
             actions=("ACCESS_DENIED", "RULE_REFUSED")),
    Category("Configuration changes", "Every configuration version asked for, approved, rejected or applied.",
             actions=("CONFIG_CHANGE", "CONFIG_REQUEST"), entities=("config_change",)),
    Category("User and role administration", "Accounts created, changed, deactivated; roles granted and revoked.",
             entities=("user", "role_grant", "workstation", "qualification", "training")),
    Category("System administration", "Restores, keys, schema upgrades, failed backups, clock problems.",
             actions=("RESTORE", "RESTORE_TEST", "KEYS_ROTATED", "KEYS_INSTALLED", "KEYS_EXPORTED",
                      "APP_PASSWORD_ROTATED", "CERTIFICATE_CREATED", "CERTIFICATE_IMPORTED", "DB_UPGRADE", "MIGRATION",
                      "SYSTEM_INIT", "BACKUP_FAILED", "CLOCK_SKEW", "CLOCK_ANOMALY")),
    # Issue 16's other parts: the incident log, retention periods, legal holds and disposals.
    Category("Incidents, retention and disposal", "Incidents opened and closed; retention periods, legal holds and "
             "disposals of records.", entities=("incident", "retention_rule", "legal_hold", "disposal_request")),
)


@dataclasses.dataclass(frozen=True)
class ReviewContent:
    title: str
    sections: tuple[Section, ...]
    summary: dict[str, int]  # counts the report shows, kept with the review
    wide: bool = False


def _condition(category: Category) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if category.actions:
        parts.append(AuditEvent.action.in_(category.actions))
    if category.entities:
        parts.append(AuditEvent.entity.in_(category.entities))
    return or_(*parts)


def audit_trail_review(session: Session, *, since: dt.datetime | None, until: dt.datetime) -> ReviewContent:
    """The audit-trail review's sections for events after ``since`` (None: all) up to ``until``."""
    window = [AuditEvent.occurred_at <= until]
    if since is not None:
        window.append(AuditEvent.occurred_at > since)
    sections: list[Section] = []
    summary: dict[str, int] = {}
    seen: set[int] = set()
    tables: list[Section] = []
    for category in CATEGORIES:
        rows = [r for r in session.scalars(select(AuditEvent).where(and_(*window), _condition(category))
                                           .order_by(AuditEvent.seq)) if r.seq not in seen]
        seen.update(r.seq for r in rows)
        summary[category.title] = len(rows)
        events = tuple(audit_line(e) for e in event_views(session, rows))
        tables.append(Text(category.explains, heading=f"{category.title} ({len(rows)})"))
        tables.append(audit_table(events))
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(and_(*window))) or 0
    summary["Events in the period"] = total
    sections.append(KeyValues([
        ("Period", f"{local_text(since) if since else 'the start of the trail'} to {local_text(until)}"),
        ("Events in the period", str(total)),
        *((title, str(count)) for title, count in summary.items() if title != "Events in the period"),
    ], heading="Scope"))
    sections.append(Text("The reviewer checks each event below: expected, explained, or raised as a deviation "
                         "or an incident. The conclusion and the reviewer's e-signature are recorded in Formtrail "
                         "against this report's SHA-256.", heading="How to review"))
    sections.extend(tables)
    return ReviewContent(title="Periodic review: system audit trail", sections=tuple(sections), summary=summary,
                         wide=True)


@dataclasses.dataclass(frozen=True)
class AccountLine:
    username: str
    full_name: str
    status: str
    roles: tuple[str, ...]
    created_at: dt.datetime
    last_login_at: dt.datetime | None
    dormant: bool
    never_used: bool


def dormant_days(session: Session) -> int:
    """The identity part's setting when declared, else the 90 days of the brief (0: accounts never go dormant)."""
    return int(get(session, DORMANT_KEY)) if DORMANT_KEY in SPECS else DORMANT_DEFAULT


def accounts(session: Session, now: dt.datetime) -> list[AccountLine]:
    days = dormant_days(session)
    held: dict[int, list[str]] = {}
    for user_id, role in session.execute(select(RoleGrant.user_id, RoleGrant.role)
                                         .where(RoleGrant.revoked_at.is_(None)).order_by(RoleGrant.id)):
        held.setdefault(user_id, []).append(role.title)
    lines = []
    for user in session.scalars(select(User).order_by(User.username)):
        last = user.last_login_at or user.created_at
        dormant = (user.status is UserStatus.ACTIVE and days > 0 and now - last > dt.timedelta(days=days))
        lines.append(AccountLine(
            username=user.username, full_name=user.full_name, status=user.status.value,
            roles=tuple(held.get(user.id, ())), created_at=user.created_at, last_login_at=user.last_login_at,
            dormant=dormant, never_used=user.last_login_at is None))
    return lines


def access_review(session: Session, *, now: dt.datetime) -> ReviewContent:
    lines = accounts(session, now)
    days = dormant_days(session)
    active = [a for a in lines if a.status == UserStatus.ACTIVE.value]
    dormant = [a for a in lines if a.dormant]
    never = [a for a in active if a.never_used]
    summary = {"Accounts": len(lines), "Active accounts": len(active), "Dormant accounts": len(dormant),
               "Never used": len(never)}
    rule = f"no log-in for more than {days} days" if days else "dormancy is switched off (0 days)"
    sections: list[Section] = [
        KeyValues([("As of", local_text(now)), ("Dormant", rule),
                   *((title, str(count)) for title, count in summary.items())], heading="Scope"),
        Text("The reviewer confirms each active account still needs each of its roles, and that dormant and "
             "never-used accounts are deactivated or justified.", heading="How to review"),
        _account_table(lines, heading="Who holds which role (as of now)"),
        _account_table(dormant, heading=f"Dormant accounts ({len(dormant)})"),
        _account_table(never, heading=f"Active accounts never used ({len(never)})"),
    ]
    return ReviewContent(title="Periodic review: user access", sections=tuple(sections), summary=summary)


def _account_table(lines: Sequence[AccountLine], *, heading: str) -> Table:
    return Table(columns=["User", "Full name", "Status", "Roles", "Created", "Last log-in", "Flags"],
                 rows=[[a.username, a.full_name, a.status, ", ".join(a.roles) or "(none)",
                        local_text(a.created_at, seconds=False),
                        local_text(a.last_login_at, seconds=False) if a.last_login_at else "never",
                        ", ".join(f for f, on in (("dormant", a.dormant), ("never used", a.never_used)) if on)]
                       for a in lines],
                 widths=[1.1, 1.6, 0.9, 1.8, 1.3, 1.3, 1.1], heading=heading,
                 highlight_rows=frozenset(i for i, a in enumerate(lines) if a.dormant))
