"""Configuration values: each declared once with its default and title; changes are audited (CONFIG_CHANGE)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Setting
from app.services.db import Actor, Database
from app.services.errors import NotFound, ValidationError
from app.services.permissions import Permission, require


@dataclasses.dataclass(frozen=True)
class SettingSpec:
    key: str
    default: int | str | float | list[str]
    title: str
    minimum: float | None = None
    maximum: float | None = None


SPECS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec("password.min_length", 10, "Minimum password length", 8, 128),
        SettingSpec("password.history", 5, "Passwords remembered (cannot be reused)", 0, 24),
        SettingSpec("password.expiry_days", 90, "Password expiry (days, 0 = never)", 0, 3650),
        SettingSpec("password.temporary_hours", 72, "A temporary password must be replaced within (hours, "
                                                    "0 = no limit)", 0, 24 * 90),
        SettingSpec("login.max_failures", 5, "Consecutive failures that lock the account", 1, 20),
        SettingSpec("session.idle_lock_minutes", 15, "Idle minutes before the session locks", 1, 240),
        SettingSpec("clock.tolerance_seconds", 60, "Workstation clock tolerance (seconds)", 1, 3600),
        SettingSpec("records.late_entry_hours", 24, "Entry later than this after the activity needs a reason "
                                                    "(hours)", 0, 24 * 365),
        SettingSpec("records.correction_reasons", ["Transcription error", "Calculation error",
                                                   "Entry in the wrong field", "Illegible entry clarified",
                                                   "Value confirmed with the performer", "Other"],
                    "Reasons offered for a correction (comma separated)"),
        SettingSpec("backup.folder", "", "Folder for scheduled backups (empty = no scheduled backups)"),
        SettingSpec("backup.interval_hours", 24, "Hours between scheduled backups", 1, 24 * 30),
        SettingSpec("integrity.anchor_file", "", "Extra append-only file for audit-chain anchors, e.g. on another "
                                                  "server (empty = the file store only)"),
        # Checked before a page is decoded; Pillow refuses images beyond ~179 megapixels whatever is set here.
        SettingSpec("intake.max_megapixels", 100, "Largest scanned page read (megapixels; larger pages are "
                                                  "refused before decoding)", 1, 170),
        SettingSpec("intake.max_pages_per_file", 1000, "Most pages read from one scanned file (a longer file is "
                                                       "refused as a whole)", 1, 100_000),
    )
}


@dataclasses.dataclass(frozen=True)
class SettingValue:
    key: str
    title: str
    value: Any
    default: Any
    changed_by: str | None


def get(session: Session, key: str) -> Any:
    spec = _spec(key)
    stored = session.get(Setting, key)
    return json.loads(stored.value) if stored is not None else spec.default


def list_settings(db: Database) -> list[SettingValue]:
    with db.read() as session:
        stored = {s.key: s for s in session.scalars(select(Setting))}
    return [
        SettingValue(
            key=spec.key, title=spec.title,
            value=json.loads(stored[spec.key].value) if spec.key in stored else spec.default,
            default=spec.default,
            changed_by=stored[spec.key].changed_by if spec.key in stored else None,
        )
        for spec in SPECS.values()
    ]


def change(db: Database, actor: Actor, *, key: str, value: Any, reason: str) -> None:
    """Change one setting (administrators only); the old and new value go to the trail with the reason."""
    require(db, actor, Permission.MANAGE_SETTINGS)
    spec = _spec(key)
    if not reason or not reason.strip():
        raise ValidationError("a configuration change needs a reason")
    value = _coerce(spec, value)
    with db.write(actor, reason=reason.strip()) as session:
        now = db.clock.now()
        stored = session.get(Setting, key)
        if stored is None:
            session.add(Setting(key=key, value=json.dumps(value), changed_at=now, changed_by=actor.username))
        else:
            stored.value, stored.changed_at, stored.changed_by = json.dumps(value), now, actor.username


def _spec(key: str) -> SettingSpec:
    try:
        return SPECS[key]
    except KeyError:
        raise NotFound(f"no setting named {key!r}; known settings: {', '.join(SPECS)}") from None


def _coerce(spec: SettingSpec, value: Any) -> Any:
    if isinstance(spec.default, list):
        items = value if isinstance(value, list) else str(value).split(",")
        items = [str(i).strip() for i in items if str(i).strip()]
        if not items:
            raise ValidationError(f"{spec.title}: give at least one entry")
        return items
    if isinstance(spec.default, str):
        return str(value).strip()
    if isinstance(spec.default, int):
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise ValidationError(f"{spec.title}: {value!r} is not a whole number") from None
        if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
            raise ValidationError(f"{spec.title} must be between {spec.minimum:g} and {spec.maximum:g}")
    return value


