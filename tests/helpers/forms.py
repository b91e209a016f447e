"""Templates and issuances made through the services, for tests that need issued forms."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from app.forms.layout.layout import TemplateLayout, load_layout
from app.forms.resources import resource
from app.services.issuance import issuance
from app.services.templates import templates
from tests.helpers.seed import PASSWORD, Seed

SAMPLES = {p.stem: p for p in sorted(resource("templates").glob("*.yaml"))}


def sample_layout(code: str = "QC-WS-014") -> TemplateLayout:
    return load_layout(SAMPLES[code])


def effective_template(seed: Seed, code: str = "QC-WS-014", *, layout: TemplateLayout | None = None) -> templates.TemplateVersionInfo:
    """Import (by Document Control), submit and approve (by QA) a sample template."""
    info = templates.import_layout(seed.db, seed.dc, layout or sample_layout(code), change_reason="CC-2026-001")
    templates.submit(seed.db, seed.dc, info.code)
    return templates.approve(seed.db, seed.qa, info.code, info.version, username="qa", password=PASSWORD)


def issue(seed: Seed, code: str = "QC-WS-014", copies: int = 5, **kwargs) -> issuance.IssuanceResult:
    due = kwargs.pop("due", seed.db.clock.now().date() + dt.timedelta(days=14))
    return issuance.issue_forms(
        seed.db, seed.dc, code=code, copies=copies, purpose=kwargs.pop("purpose", "Batch 24-0117 dispensing"),
        reference=kwargs.pop("reference", "LOT 24-0117"), issued_to=kwargs.pop("issued_to", "Otto Operator"),
        due=due, **kwargs,
    )


def sample_path(code: str) -> Path:
    return SAMPLES[code]
