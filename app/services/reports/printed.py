"""What every printed report carries besides its data — the site, who printed it and when, the audit chain head
— read in the report's own read transaction, so the head printed is the head of the data shown."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import app
from app.forms.render.report import Printed
from app.models import Site
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.errors import NotInitialised
from app.services.core.timefmt import local_text


def chain_head_text(session: Session) -> str:
    """The audit chain head as printed and exported: "count:hash"."""
    return "{}:{}".format(*audit.chain_head(session))


def printed_in(session: Session, db: Database, actor: Actor) -> Printed:
    site = session.scalar(select(Site.code))
    if site is None:
        raise NotInitialised("this database has no site yet: nothing can be printed")
    return Printed(site=site, printed_by=f"{actor.full_name} ({actor.username})",
                   printed_at=local_text(db.clock.now()), chain_head=chain_head_text(session),
                   app_version=app.__version__)
