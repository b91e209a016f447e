"""Configuration values: each declared once with its default and title; changes are audited (CONFIG_CHANGE)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sqlalchemy import select

from app.models import Setting
from app.services.core.db import Actor, Database
from app.services.core.setting_specs import SPECS, SettingSpec, get
from app.services.site import config_changes
from app.services.site.config_changes import ConfigChangeView

__all__ = ["SPECS", "SettingSpec", "SettingValue", "change", "get", "list_settings"]


@dataclasses.dataclass(frozen=True)
class SettingValue:
    key: str
    title: str
    value: Any
    default: Any
    changed_by: str | None
    gmp: bool = False  # a change needs QA's approval before it takes effect
    pending: Any = None  # the value waiting for QA's approval (None: none waits)
    has_pending: bool = False


def list_settings(db: Database) -> list[SettingValue]:
    with db.read() as session:
        stored = {s.key: s for s in session.scalars(select(Setting))}
        waiting = config_changes.pending_values(session)
    return [
        SettingValue(
            key=spec.key, title=spec.title,
            value=json.loads(stored[spec.key].value) if spec.key in stored else spec.default,
            default=spec.default,
            changed_by=stored[spec.key].changed_by if spec.key in stored else None,
            gmp=config_changes.is_gmp(spec.key), pending=waiting.get(spec.key), has_pending=spec.key in waiting,
        )
        for spec in SPECS.values()
    ]


def change(db: Database, actor: Actor, *, key: str, value: Any, reason: str) -> ConfigChangeView | None:
    """Change one setting (administrators only), as a new configuration version with its reason: in effect at once,
    or, for a GMP-relevant setting, pending until QA approves it (``config_changes``). Setting the value it already
    has changes nothing and writes nothing (None)."""
    return config_changes.request(db, actor, key=key, value=value, reason=reason)
