"""Where a template version's writing boxes are printed: the geometry the scan reader measures against."""

from __future__ import annotations

from app.forms.layout.geometry import FormGeometry
from app.forms.render.boxes import form_geometry
from app.services.core.db import Actor, Database
from app.services.templates import templates


def geometry_of(db: Database, actor: Actor, code: str, version: int | None = None) -> FormGeometry:
    """Every box of every page of ``code`` version ``version`` (the newest when None), in millimetres."""
    info = templates.get_version(db, actor, code, version)
    return form_geometry(info.layout)
