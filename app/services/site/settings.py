"""Configuration values: each declared once with its default and title; changes are audited (CONFIG_CHANGE)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from app.models import Setting
from app.services.core.db import Actor, Database
from app.services.core.errors import ValidationError
from app.services.core.setting_specs import SPECS, SettingSpec, get, spec_of
from app.services.identity.permissions import Permission, require
from app.services.site import serial_format

# Text settings with a grammar of their own: each returns the value to store or raises ValidationError.
_CHECKS: dict[str, Callable[[str], str]] = {serial_format.KEY: serial_format.checked}

__all__ = ["SPECS", "SettingSpec", "SettingValue", "change", "get", "list_settings"]


@dataclasses.dataclass(frozen=True)
class SettingValue:
    key: str
    title: str
    value: Any
    default: Any
    changed_by: str | None


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
    """Change one setting (administrators only); the old and new value go to the trail with the reason. Setting
    the value it already has changes nothing and writes nothing."""
    require(db, actor, Permission.MANAGE_SETTINGS)
    spec = spec_of(key)
    if not reason or not reason.strip():
        raise ValidationError("a configuration change needs a reason")
    value = _coerce(spec, value)
    with db.write(actor, reason=reason.strip()) as session:
        now = db.clock.now()
        stored = session.get(Setting, key)
        if stored is not None and json.loads(stored.value) == value:
            # Nothing changes: writing only who and when would be an update the trail has no change for.
            return
        if stored is None:
            session.add(Setting(key=key, value=json.dumps(value), changed_at=now, changed_by=actor.username))
        else:
            stored.value, stored.changed_at, stored.changed_by = json.dumps(value), now, actor.username


def _coerce(spec: SettingSpec, value: Any) -> Any:
    if isinstance(spec.default, list):
        items = value if isinstance(value, list) else str(value).split(",")
        items = [str(i).strip() for i in items if str(i).strip()]
        if not items and spec.default:  # a list that may start empty (issued-to choices) may be emptied again
            raise ValidationError(f"{spec.title}: give at least one entry")
        return items
    if isinstance(spec.default, str):
        text = str(value).strip()
        if spec.choices and text not in spec.choices:
            raise ValidationError(f"{spec.title}: {text!r} is not one of {', '.join(spec.choices)}")
        check = _CHECKS.get(spec.key)
        return check(text) if check is not None else text
    if isinstance(spec.default, int):
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise ValidationError(f"{spec.title}: {value!r} is not a whole number") from None
        if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
            raise ValidationError(f"{spec.title} must be between {spec.minimum:g} and {spec.maximum:g}")
    return value


