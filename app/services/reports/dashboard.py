"""Site-wide counts of the paper loop, whoever asks. Home no longer shows these: it shows each person's own work,
counted by ``app.services.reports.work`` (what their roles have to do, of what they may do)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select

from app.models import FormState, Issuance, IssuanceState, IssuedForm
from app.services.admin import backup
from app.services.core.db import Actor, Database
from app.services.identity.permissions import Permission, require
from app.services.reconciliation import reconciliation
from app.services.records import records
from app.services.scans import scans


@dataclasses.dataclass(frozen=True)
class Dashboard:
    outstanding_forms: int
    overdue_issuances: int
    scan_exceptions: int
    ready_to_reconcile: int
    records_to_verify: int
    records_to_review: int
    # The newest backup: ("BACKUP" or "BACKUP_FAILED", when, where), or None if none was ever taken.
    last_backup: tuple[str, dt.datetime, str] | None = None


def dashboard(db: Database, actor: Actor) -> Dashboard:
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        outstanding = session.scalar(
            select(func.count(IssuedForm.id)).join(Issuance, IssuedForm.issuance_id == Issuance.id)
            .where(Issuance.state == IssuanceState.OPEN, IssuedForm.state == FormState.ISSUED)) or 0
    open_issuances = reconciliation.list_issuances(db, actor, only_open=True)
    records_to_verify, records_to_review = records.pending_counts(db, actor)
    return Dashboard(
        outstanding_forms=outstanding,
        overdue_issuances=sum(1 for s in open_issuances if s.overdue),
        scan_exceptions=scans.count_exceptions(db, actor),
        ready_to_reconcile=sum(1 for s in open_issuances if s.ready),
        records_to_verify=records_to_verify,
        records_to_review=records_to_review,
        last_backup=backup.last_backup(db),
    )
