"""How times are shown: local time with the zone and its UTC offset (stored values stay UTC)."""

from __future__ import annotations

import datetime as dt


def local_text(moment: dt.datetime, tz: dt.tzinfo | None = None, *, seconds: bool = True) -> str:
    """"2025-03-04 14:07:12 CET (UTC+01:00)"."""
    local = moment.astimezone(tz)
    offset = local.strftime("%z")
    utc_offset = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    zone = local.tzname() or ""
    stamp = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    if not zone or zone.startswith(("UTC", "+", "-")):
        return f"{stamp} ({utc_offset})"
    return f"{stamp} {zone} ({utc_offset})"
