"""The disposal certificate (BK-05): a PDF stating what an approved disposal destroyed and on what authority,
stored in the file store like any controlled output, so the destruction log outlives the records."""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import buildinfo
from app.forms.render.report import KeyValues, ReportMeta, Section, Table, Text, render_report
from app.models import Site, User
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.timefmt import local_text

if TYPE_CHECKING:
    from app.services.admin.disposal import DisposalView

KEPT_NOTE = ("Kept: every database row of these issuances (forms, records and their values, signatures) and the "
             "whole audit trail, so the trail and every signature stay verifiable; this certificate.")


def render(session: Session, db: Database, actor: Actor, view: DisposalView, *, destroyed_at: dt.datetime) -> bytes:
    """The certificate's PDF bytes, read in ``session`` (site, people's names, chain head)."""
    site = session.scalar(select(Site.code)) or ""
    names = {user: name for user, name in session.execute(select(User.username, User.full_name))}
    head = "{}:{}".format(*audit.chain_head(session))
    meta = ReportMeta(title=f"Disposal certificate — request {view.id}", site=site,
                      printed_by=f"{actor.full_name} ({actor.username})", printed_at=local_text(destroyed_at),
                      chain_head=head, app_version=buildinfo.text())
    requester = f"{names.get(view.requested_by, view.requested_by)} ({view.requested_by})"
    sections: list[Section] = [
        KeyValues(heading="Disposal", pairs=[
            ("Request", str(view.id)), ("Reason", view.reason),
            ("Requested by", f"{requester}, {local_text(view.requested_at)}"),
            ("Approved (e-signature)", view.approval or "(none)"),
            ("Destroyed at", local_text(destroyed_at)),
            ("Files destroyed", str(len(view.files))),
        ]),
        Table(heading="Records disposed of (retention basis)",
              columns=["Issuance", "Template", "Serials", "Records", "Retention", "Started", "Expired"],
              rows=[[str(i.issuance_id), i.template_code, ", ".join(i.serials), ", ".join(i.records) or "(none)",
                     f"{i.retention_years} years ({i.retention_basis})", local_text(i.retention_start, seconds=False),
                     local_text(i.expires_at, seconds=False)] for i in view.items],
              widths=[1, 1.5, 3, 3, 1.8, 2, 2]),
        Table(heading="Files destroyed", columns=["File", "Kind", "SHA-256", "Bytes"],
              rows=[[f.name, f.kind, f.sha256, f"{f.size:,}"] for f in view.files], widths=[3, 1.2, 6, 1]),
        Text(heading="Kept", text="\n".join((KEPT_NOTE, *view.kept))),
    ]
    out = io.BytesIO()
    render_report(out, meta, sections, wide=True)
    return out.getvalue()
