"""What every printed report carries besides its data — the site, who printed it and when, the audit chain head,
the build that made it (SE-02), ORIGINAL or COPY n and the signatures over the data shown (PR-03) — read in the
report's own read transaction, so the head printed is the head of the data shown; and the site's seal on the
finished PDF (PAdES, ``app.services.core.pdfsign``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import buildinfo
from app.forms.render.report import Printed
from app.models import AuditEvent, Site
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.errors import NotInitialised
from app.services.core.timefmt import local_text
from app.services.site import key_setup

ORIGINAL = "ORIGINAL"


def chain_head_text(session: Session) -> str:
    """The audit chain head as printed and exported: "count:hash"."""
    return "{}:{}".format(*audit.chain_head(session))


def printed_in(session: Session, db: Database, actor: Actor) -> Printed:
    site = session.scalar(select(Site.code))
    if site is None:
        raise NotInitialised("this database has no site yet: nothing can be printed")
    return Printed(site=site, printed_by=f"{actor.full_name} ({actor.username})",
                   printed_at=local_text(db.clock.now()), chain_head=chain_head_text(session),
                   app_version=buildinfo.text())


def copy_status(earlier_prints: int) -> str:
    """PR-03: the first print of a document is the ORIGINAL; each later one says which copy it is."""
    return ORIGINAL if earlier_prints <= 0 else f"COPY {earlier_prints}"


def prints_of(new_values: Iterable[str | None], **match: object) -> int:
    """How many earlier PRINT events (their stored new values) printed the document ``match`` names."""
    count = 0
    for text in new_values:
        try:
            data = json.loads(text or "{}")
        except ValueError:
            continue
        if isinstance(data, dict) and all(data.get(k) == v for k, v in match.items()):
            count += 1
    return count


def report_prints_in(session: Session, *, entity_id: str, kind: str) -> int:
    """Earlier prints of the report ``kind`` about ``entity_id`` (e.g. the reconciliation report of issuance 3)."""
    rows = session.scalars(select(AuditEvent.new_value).where(
        AuditEvent.action == "PRINT", AuditEvent.entity == "report", AuditEvent.entity_id == entity_id))
    return prints_of(rows, report=kind)


def seal(db: Database, path: Path, *, reason: str) -> float:
    """The site's signature on a finished report (``key_setup.seal_pdf``); the seconds it took."""
    return key_setup.seal_pdf(db, path, reason=reason)
