"""The configuration values' declarations and how a session reads one. Kept apart from ``settings`` (which
lists and changes them through the Database), so low-level services such as password policy read settings
without importing the database layer that imports them."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sqlalchemy.orm import Session

from app.models import Setting
from app.services.core.errors import NotFound


@dataclasses.dataclass(frozen=True)
class SettingSpec:
    key: str
    default: int | str | float | list[str]
    title: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()  # a text setting that takes one of these values only (empty: any text)


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
        SettingSpec("issuance.issued_to_mode", "free", "“Issued to” on the Issue page: free (any text), users (a "
                                                       "user), list (an entry of the list below) or users+list",
                    choices=("free", "users", "list", "users+list")),
        SettingSpec("issuance.issued_to_list", [], "Areas and equipment forms may be issued to (comma separated)"),
        # Checked by app/services/site/serial_format.py when changed; each issuance keeps the format it printed.
        SettingSpec("issuance.serial_format", "{site}-{seq:06}", "Serial number as printed beside the QR code: "
                                                                 "{site}, {template}, {version}, {year} and, last, "
                                                                 "the number {seq:06} (applies to new issuances)"),
        SettingSpec("issuance.due_soon_days", 3, "Home lists an issuance as due back this many days before its "
                                                 "return date", 0, 60),
        SettingSpec("backup.folder", "", "Folder for scheduled backups (empty = no scheduled backups)"),
        SettingSpec("backup.interval_hours", 24, "Hours between scheduled backups", 1, 24 * 30),
        SettingSpec("integrity.anchor_file", "", "Extra append-only file for audit-chain anchors, e.g. on another "
                                                  "server (empty = the file store only)"),
        # Checked before a page is decoded; Pillow refuses images beyond ~179 megapixels whatever is set here.
        SettingSpec("intake.max_megapixels", 100, "Largest scanned page read (megapixels; larger pages are "
                                                  "refused before decoding)", 1, 170),
        SettingSpec("intake.max_pages_per_file", 1000, "Most pages read from one scanned file (a longer file is "
                                                       "refused as a whole)", 1, 100_000),
        # 0/1 switches read by app/services/reconciliation/closing.py; at 0 closing only warns of what it leaves.
        SettingSpec("reconciliation.require_true_copies_before_close", 0, "Closing a reconciliation requires the "
                                                                          "true copies of every returned form to be "
                                                                          "verified (1 = yes, 0 = warn only)", 0, 1),
        SettingSpec("reconciliation.require_records_before_close", 0, "Closing a reconciliation requires the record "
                                                                      "of every returned form to be transcribed "
                                                                      "(1 = yes, 0 = warn only)", 0, 1),
        SettingSpec("reconciliation.closer_independent", 0, "Whoever closes a reconciliation must not have voided or "
                                                            "declared missing any of its forms (1 = yes, 0 = no)",
                    0, 1),
        # Issue 16 / identity (training, workstations, dormant accounts).
        SettingSpec("access.dormant_days", 90, "Accounts not used for this many days are disabled as dormant "
                                               "(0 = never)", 0, 3650),
        # Issue 16 / incidents, schedule, restore approval.
        SettingSpec("schedule.test_restore_days", 7, "Days between scheduled test-restores of the newest backup "
                                                     "followed by a full verify (0 = never)", 0, 365),
        SettingSpec("schedule.verify_hours", 24, "Hours between scheduled full checks (`verify`: chain, signatures, "
                                                 "stored files) of the live data (0 = never)", 0, 24 * 30),
        # Issue 16 / retention, holds, disposal.
        SettingSpec("retention.default_years", 10, "Records of templates without their own retention period are "
                                                   "kept (years after their issuance is reconciled)", 1, 100),
        # Issue 16 / paper intake (capture specification).
        # Read by app/services/scans/capture_spec.py at intake: a page below them is an exception, never linked.
        SettingSpec("intake.min_dpi", 150, "Least scan resolution a page is linked at (dpi; 0 = no minimum)", 0, 1200),
        SettingSpec("intake.colour_mode", "any", "Colour a scan must have: any, greyscale (grey or colour, not "
                                                 "black-and-white) or colour", choices=("any", "greyscale", "colour")),
        SettingSpec("intake.hot_folder_scanner", "", "The scanner writing into the hot folder, recorded with each "
                                                     "file it takes when the file does not name its device"),
        # Issue 16 / signed outputs.
        # Issue 16 / governance (periodic reviews).
        SettingSpec("review.audit_trail_days", 90, "The system audit-trail review is due this many days after the "
                                                   "last signed one", 1, 3650),
        SettingSpec("review.access_days", 180, "The user access review is due this many days after the last signed "
                                               "one", 1, 3650),
    )
}


def get(session: Session, key: str) -> Any:
    spec = spec_of(key)
    stored = session.get(Setting, key)
    return json.loads(stored.value) if stored is not None else spec.default


def spec_of(key: str) -> SettingSpec:
    try:
        return SPECS[key]
    except KeyError:
        raise NotFound(f"no setting named {key!r}; known settings: {', '.join(SPECS)}") from None
