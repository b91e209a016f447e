"""The people-readable vocabulary of the audit trail: what the screens and the printed reports call each entity,
field and action, and how an event's change reads ("Label: old → new"), values included.

The trail stores internal names (``role_grant``, ``supersedes_id``) and values as the machine wrote them (JSON
snapshots, database numbers, UTC ISO times); the CSV and JSON exports keep them so. Everything people read goes
through :func:`describe`, which names things as people know them, with what :mod:`app.services.reports.naming`
read from the database (:class:`Names`). An unknown name falls back to a humanized form, never the raw one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

from app.enums import PaperFindingKind, Role, ScanOutcome
from app.services.core.audit import REDACTED
from app.services.core.setting_specs import SPECS
from app.services.core.timefmt import local_text
from app.textfmt import plural

ARROW = "→"
EMPTY = "(empty)"

ENTITY_LABELS = {
    "site": "Site", "user": "User account", "role_grant": "Role", "template": "Template",
    "template_version": "Template version", "issuance": "Issuance", "issued_form": "Issued form",
    "controlled_pdf": "Controlled PDF", "stored_file": "Stored file", "record": "Record",
    "record_entry": "Record value", "scan_source": "Scan file", "scan_page": "Scan page", "signature": "Signature",
    "setting": "Setting", "paper_finding": "Paper finding",
    # Issue 16 / lifecycle (BK-05, RC-05)
    "retention_rule": "Retention period", "legal_hold": "Legal hold", "disposal_request": "Disposal request",
    "disposal_item": "Issuance to dispose of", "disposed_file": "Destroyed file",
    "entry_invalidation": "Invalidated value",
    "form_page_addition": "Extra pages",  # Issue 16 / paper intake
    "audit_trail": "Audit trail", "archive": "Archive", "backup": "Backup", "database": "Database",
    "register": "Register of issued forms", "report": "Report", "schema": "Database schema",
    "workstation": "Workstation",
    "config_change": "Configuration change", "periodic_review": "Periodic review",  # Issue 16 / governance
    "qualification": "Qualification",  # Issue 16 / identity (AC-07); "workstation" above is AC-08's too
    "incident": "Incident",  # Issue 16 / safety (SE-03)
}

ACTION_LABELS = {
    "CREATE": "Created", "UPDATE": "Changed", "STATE_CHANGE": "State changed", "SIGN": "Signed",
    "CONFIG_REQUEST": "Setting change asked",  # Issue 16 / governance (SE-02)
    "CONFIG_CHANGE": "Setting changed", "LOGIN_SUCCESS": "Logged in", "LOGIN_FAILURE": "Log-in failed",
    "LOGOUT": "Logged out", "SESSION_LOCK": "Session locked", "SESSION_RESUME": "Session resumed",
    "LOCKOUT": "Account locked", "UNLOCK": "Account unlocked", "SIGN_FAIL": "Signing failed", "EXPORT": "Exported",
    "PRINT": "Printed", "PREVIEW": "Previewed", "REPLACE": "Replaced", "BACKUP": "Backed up",
    "BACKUP_FAILED": "Backup failed", "RESTORE": "Restored", "MIGRATION": "Database migrated",
    "DB_UPGRADE": "Database upgraded", "SYSTEM_INIT": "Site set up", "VERIFY": "Integrity verified",
    "KEYS_INSTALLED": "Keys installed", "KEYS_ROTATED": "Keys rotated", "KEYS_EXPORTED": "Keys exported",
    "APP_PASSWORD_ROTATED": "Database password rotated", "RULE_REFUSED": "Refused by a rule",
    "ACCESS_DENIED": "Access denied", "CLOCK_SKEW": "Clock differs from the server",
    "CLOCK_ANOMALY": "Clock went backwards",
    "INVALIDATE": "Result invalidated",  # Issue 16 / lifecycle (RC-05)
    "CERTIFICATE_CREATED": "Signing certificate made", "CERTIFICATE_IMPORTED": "Signing certificate imported",
    "CERTIFICATE_EXPORTED": "Signing certificate exported",
    "RESTORE_TEST": "Test-restore",  # Issue 16 / safety (BK-02)
    "CRASH": "Application error",  # SE-03: an unexpected error in the desktop application
}

FIELD_LABELS = {
    "id": "Number",  # a row's own number: left out of what a creation lists (HIDDEN)
    # templates and versions
    "code": "Code", "title": "Title", "department": "Department", "created_at": "Created", "created_by": "Created by",
    "template_id": "Template", "version": "Version", "status": "Status", "layout_json": "Layout",
    "layout_sha256": "Layout SHA-256", "change_reason": "Reason for the change", "author_id": "Author (account)",
    "author_username": "Author", "submitted_at": "Submitted for review", "effective_at": "Effective since",
    "effective_date": "Effective date", "approved_by": "Approved by", "ended_at": "Ended",
    # issuance, issued forms, controlled PDFs, stored files
    "site_id": "Site", "template_version_id": "Template version", "copies": "Copies", "purpose": "Purpose",
    "reference": "Reference", "issued_to": "Issued to", "issued_by_id": "Issued by (account)",
    "issued_by": "Issued by", "issued_by_name": "Issued by (name)", "issued_at": "Issued", "due_date": "Return due",
    "state": "State", "key_version": "Key version", "issuance_id": "Issuance", "serial_no": "Serial number",
    "serial_format": "Serial format",
    "serial": "Serial", "copy_no": "Copy", "pages": "Pages", "state_reason": "Reason",
    "deviation_ref": "Deviation reference", "state_changed_at": "State changed", "state_changed_by": "State changed by",
    "replaces_id": "Replaces form", "pdf_id": "Controlled PDF", "true_copy_verified_at": "Verified as a true copy",
    "true_copy_verified_by": "True copy verified by", "paper_disposition": "Paper original",
    "paper_location": "Paper kept at", "disposition_at": "Paper disposition recorded",
    "disposition_by": "Paper disposition recorded by", "sha256": "SHA-256", "first_serial": "First serial",
    "last_serial": "Last serial", "released_at": "Released", "released_by": "Released by",
    "released_to": "Released to", "size": "Size (bytes)", "kind": "Kind", "media_type": "File type",
    "original_name": "File name", "stored_at": "Stored", "stored_by": "Stored by",
    # records and their values
    "issued_form_id": "Issued form", "record_id": "Record", "field_name": "Field", "value": "Value",
    "is_na": "Not applicable", "reason": "Reason", "activity_at": "Done on paper at", "entered_at": "Entered",
    "entered_by": "Entered by", "entered_by_id": "Entered by (account)", "source": "Source",
    "scan_page_id": "Read from scan page", "late": "Late entry", "late_reason": "Reason for the late entry",
    "out_of_limits": "Out of limits", "justification": "Justification", "supersedes_id": "Replaces",
    "superseded_by_id": "Replaced by", "verified_at": "Verified", "verified_by": "Verified by",
    "verified_by_id": "Verified by (account)",
    # scans
    "origin": "Came from", "error_code": "Error code", "error_message": "Error", "page_count": "Pages in the file",
    "imported_at": "Imported", "imported_by": "Imported by", "imported_by_id": "Imported by (account)",
    "workstation": "Workstation", "source_id": "Scan file", "page_index": "Page in the file",
    "width": "Width (pixels)", "height": "Height (pixels)", "dpi": "Resolution (dpi)", "colour_mode": "Colour mode",
    "method": "Read by", "decoded_text": "QR code text", "outcome": "Outcome", "page_no": "Form page",
    "link_method": "How it was linked", "linked_at": "Linked", "linked_by": "Linked by",
    "resolution": "How the exception was closed", "resolved_at": "Exception closed", "resolved_by": "Closed by",
    # Issue 16 / paper intake: the scanner, the true-copy checklist, extra pages
    "device": "Scanner", "true_copy_checklist": "True copy checked", "first_page": "First extra page",
    "last_page": "Pages now", "added_at": "Added", "added_by": "Added by", "added_by_name": "Added by (name)",
    # paper findings (what the scan reader found on a returned sheet)
    "page": "Page", "part": "Box", "detail": "Finding", "opened_at": "Found", "opened_by": "Found by",
    # signatures
    "entity": "Signed item", "entity_id": "Signed item", "activity": "Signed for", "meaning": "Meaning",
    "signer_id": "Signer (account)", "signer_username": "Signer", "signer_full_name": "Signer's name",
    "signed_at": "Signed", "content_hash": "Signed content SHA-256", "comment": "Statement",
    "binding": "Binding (keyed hash)",
    # site, settings, users and roles
    "name": "Name", "qr_key": "QR key", "key": "Setting", "changed_at": "Changed", "changed_by": "Changed by",
    "username": "User name", "full_name": "Full name", "password_hash": "Password",
    "password_changed_at": "Password changed", "must_change_password": "Must change the password",
    "failed_logins": "Failed log-ins in a row", "deactivation_reason": "Reason for deactivation",
    "deactivated_at": "Deactivated", "last_login_at": "Last log-in", "user_id": "User", "role": "Role",
    "granted_at": "Granted", "granted_by": "Granted by", "revoked_at": "Revoked", "revoked_by": "Revoked by",
    # what system events record
    "format": "Format", "file": "File", "rows": "Rows", "filter": "Filter", "report": "Report", "forms": "Forms",
    "keys": "Key file", "clock_offset_s": "Clock offset (seconds)", "time": "Time", "target": "Printed to",
    "serials": "Serials", "findings": "Findings", "errors": "Errors", "ok": "Everything verified", "head": "Chain head",
    "chain_head": "Chain head", "manifest_sha256": "Manifest SHA-256", "files": "Files", "bytes": "Bytes",
    "problems": "Problems", "scheduled": "Scheduled", "error": "Error", "selection": "Selection",
    "fingerprint": "Key fingerprint", "versions": "Key versions", "current": "Current key version",
    "database": "Database", "from": "From", "to": "To", "verified": "Verified", "since": "From", "until": "Until",
    "text": "Text", "action": "Action", "source_chain_head": "Chain head of the source",
    # Issue 16 / signed outputs: the certificate events, and which copy a print was (PR-03).
    "subject": "Subject", "issuer": "Issuer", "valid_until": "Valid until", "copy": "Copy",
}

# The same column means something more precise on some entities.
ENTITY_FIELD_LABELS = {
    # Issue 16 / identity: qualification records (AC-07) and registered workstations (AC-08)
    ("qualification", "kind"): "Kind of qualification", ("qualification", "activity"): "Trained for",
    ("qualification", "completed_on"): "Completed", ("qualification", "expires_on"): "Expires",
    ("qualification", "recorded_at"): "Recorded", ("qualification", "recorded_by"): "Recorded by",
    ("qualification", "revoke_reason"): "Reason for revoking",
    ("workstation", "station_id"): "Workstation id", ("workstation", "host"): "Host name",
    ("workstation", "first_seen_at"): "First seen", ("workstation", "last_seen_at"): "Last seen",
    ("workstation", "registered_at"): "Registered", ("workstation", "registered_by"): "Registered by",
    ("workstation", "retired_at"): "Retired", ("workstation", "retired_by"): "Retired by",
    ("workstation", "retire_reason"): "Reason for retiring",
    # Issue 16 / governance: configuration versions (SE-02) and periodic reviews
    ("config_change", "old_value"): "Old value", ("config_change", "new_value"): "New value",
    ("config_change", "gmp"): "Needs QA approval", ("config_change", "requested_at"): "Asked",
    ("config_change", "requested_by"): "Asked by", ("config_change", "decided_at"): "Decided",
    ("config_change", "decided_by"): "Decided by", ("config_change", "decision_reason"): "Reason for the decision",
    ("periodic_review", "period_start"): "Period from", ("periodic_review", "period_end"): "Period to",
    ("periodic_review", "report_sha256"): "Report SHA-256", ("periodic_review", "summary"): "Counts",
    ("periodic_review", "generated_at"): "Generated", ("periodic_review", "generated_by"): "Generated by",
    ("periodic_review", "signed_by"): "Signed by", ("periodic_review", "conclusion"): "Conclusion",
    ("record_entry", "supersedes_id"): "Replaces entry", ("record_entry", "superseded_by_id"): "Replaced by entry",
    ("scan_page", "superseded_by_id"): "Replaced by scan page", ("scan_page", "reason"): "Exception reason",
    ("record", "state"): "Record state", ("issued_form", "state"): "Form state",
    ("record_entry", "kind"): "Kind of entry", ("stored_file", "kind"): "Kind of file",
    ("audit_trail", "username"): "User", ("audit_trail", "entity"): "Entity",
    ("audit_trail", "entity_id"): "Which", ("backup", "file"): "Backup file",
    ("paper_finding", "kind"): "Kind of finding", ("paper_finding", "resolution"): "Resolution",
    ("paper_finding", "resolved_at"): "Resolved", ("paper_finding", "resolved_by"): "Resolved by",
    # Issue 16 / safety: the incident log (SE-03)
    ("incident", "first_event_seq"): "Opened by audit event", ("incident", "occurrences"): "Times seen",
    ("incident", "last_seen_at"): "Last seen", ("incident", "assessment"): "Assessment (root cause)",
    ("incident", "capa"): "CAPA", ("incident", "closed_at"): "Closed", ("incident", "closed_by"): "Closed by",
    ("incident", "closing_reason"): "Reason for closing", ("incident", "signature_id"): "Closing signature",
    # Issue 16 / lifecycle: retention periods, legal holds, disposals (BK-05), invalidated values (RC-05)
    ("retention_rule", "template_code"): "Template", ("retention_rule", "years"): "Kept (years)",
    ("retention_rule", "set_at"): "Set", ("retention_rule", "set_by"): "Set by",
    ("legal_hold", "scope"): "Held", ("legal_hold", "placed_at"): "Placed", ("legal_hold", "placed_by"): "Placed by",
    ("legal_hold", "release_reason"): "Reason for release",
    ("disposal_request", "requested_at"): "Requested", ("disposal_request", "requested_by"): "Requested by",
    ("disposal_request", "requested_by_id"): "Requester's account", ("disposal_request", "approved_at"): "Approved",
    ("disposal_request", "signature_id"): "Approval signature", ("disposal_request", "completed_at"): "Destroyed",
    ("disposal_request", "certificate_sha256"): "Certificate SHA-256",
    ("disposal_item", "request_id"): "Disposal request", ("disposal_item", "template_code"): "Template",
    ("disposal_item", "retention_years"): "Kept (years)", ("disposal_item", "retention_basis"): "Retention basis",
    ("disposal_item", "retention_start"): "Retention started", ("disposal_item", "expires_at"): "Retention ended",
    ("disposed_file", "request_id"): "Disposal request",
    ("entry_invalidation", "entry_id"): "Value (entry)", ("entry_invalidation", "invalidated_at"): "Invalidated",
    ("entry_invalidation", "invalidated_by"): "Invalidated by",
    ("entry_invalidation", "invalidated_by_id"): "Invalidator's account",
    ("entry_invalidation", "signature_id"): "Signature",
}

# Snapshot keys that only repeat what the event already names (the row's own number, the one site).
HIDDEN = frozenset({"id", "site_id", "serial_no"})
# An account number beside the user name it belongs to says nothing more.
PAIRED = {"entered_by_id": "entered_by", "verified_by_id": "verified_by", "imported_by_id": "imported_by",
          "issued_by_id": "issued_by", "author_id": "author_username", "signer_id": "signer_username"}
HIDDEN_BY_ENTITY = {"signature": frozenset({"entity", "entity_id"}),
                    "record": frozenset({"issued_form_id", "serial"}),
                    "record_entry": frozenset({"record_id", "field_name"}),  # the subject names the field
                    # a finding's detail names its field and box in words; the subject names form and page
                    "paper_finding": frozenset({"issued_form_id", "serial", "page", "field_name", "part"})}
# A creation lists what matters most first, then the rest in the order of FIELD_LABELS (each table's columns).
FIRST = ("username", "full_name", "role", "user_id", "code", "title", "activity", "meaning", "signer_username",
         "value", "is_na", "kind", "reason", "state", "status", "outcome")
_POSITION: dict[str, int] = {}
for _name in (*FIRST, *FIELD_LABELS):
    _POSITION.setdefault(_name, len(_POSITION))
USER_FIELDS = frozenset({
    "created_by", "author_username", "approved_by", "issued_by", "state_changed_by", "true_copy_verified_by",
    "disposition_by", "released_by", "stored_by", "entered_by", "verified_by", "imported_by", "linked_by",
    "resolved_by", "signer_username", "changed_by", "granted_by", "revoked_by", "username", "opened_by"})
BOOLEAN_FIELDS = frozenset({"is_na", "late", "out_of_limits", "must_change_password", "ok", "verified", "scheduled"})
CODE_FIELDS = frozenset({"state", "status", "meaning", "kind", "origin", "method", "link_method", "source",
                         "paper_disposition", "format", "report", "colour_mode"})
# Values shown by their enum's title, per (entity, field); entity "" for the field on every entity.
TITLED: dict[tuple[str, str], type[Role] | type[ScanOutcome] | type[PaperFindingKind]] = {
    ("", "role"): Role, ("", "outcome"): ScanOutcome, ("paper_finding", "kind"): PaperFindingKind}
# What a bare value of a system event (no field, not a snapshot) is.
BARE_VALUE = {"REPLACE": "Replacement form", "DB_UPGRADE": "Schema version"}
_ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?$")


class EventFields(Protocol):
    """What :func:`describe` reads of an event (an ``AuditEvent`` row or an ``AuditEventView``)."""

    username: str
    full_name: str
    action: str
    entity: str | None
    entity_id: str | None
    field: str | None
    old_value: str | None
    new_value: str | None


@dataclasses.dataclass(frozen=True)
class ScanPageName:
    serial: str | None  # the issued form it is linked to (or was read as), if any
    page_no: int | None  # its page on that form
    file: str
    file_page: int  # from 1
    imported_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class Names:
    """What the wording needs from the database to name things as people know them (read by ``naming``)."""

    people: Mapping[str, str] = dataclasses.field(default_factory=dict)  # user name -> full name
    user_ids: Mapping[int, str] = dataclasses.field(default_factory=dict)  # account number -> user name
    grants: Mapping[int, tuple[str, int]] = dataclasses.field(default_factory=dict)  # grant -> (role, account)
    forms: Mapping[int, str] = dataclasses.field(default_factory=dict)  # issued form -> serial
    versions: Mapping[int, str] = dataclasses.field(default_factory=dict)  # template version -> "QC-WS-014@1"
    templates: Mapping[int, str] = dataclasses.field(default_factory=dict)  # template -> code
    sources: Mapping[int, str] = dataclasses.field(default_factory=dict)  # scan file -> its name
    files: Mapping[str, str] = dataclasses.field(default_factory=dict)  # SHA-256 -> file name
    pdfs: Mapping[int, str] = dataclasses.field(default_factory=dict)  # controlled PDF -> "000001–000005"
    scan_pages: Mapping[int, ScanPageName] = dataclasses.field(default_factory=dict)
    entries: Mapping[int, tuple[int, str | None]] = dataclasses.field(default_factory=dict)  # -> (nth, value)
    field_labels: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)  # serial -> name -> label


@dataclasses.dataclass(frozen=True)
class EventWording:
    """One audit event as people read it."""

    who: str  # "Quinn Müller (qa)"
    action: str  # "Signed"
    what: str  # "Signature"
    subject: str  # "record 000001"
    field: str  # the label of the one field changed, or ""
    old: str  # the field's old value as people read it ("" for a creation or a system event)
    new: str  # its new value, or everything created / recorded in one line
    changes: tuple[str, ...]  # "Label: old → new" (a creation or a system event: "Label: value"), one a line


def humanize(name: str) -> str:
    """"role_grant" -> "Role grant", "supersedes_id" -> "Supersedes", "LOGIN_SUCCESS" -> "Login success"."""
    words = re.sub(r"_id$", "", name).replace("_", " ").replace("-", " ").replace(".", " ").split()
    text = " ".join(words).lower()
    return text[:1].upper() + text[1:] if text else name


def entity_label(entity: str | None) -> str:
    return "" if not entity else ENTITY_LABELS.get(entity) or humanize(entity)


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action) or humanize(action)


def field_label(entity: str | None, field: str) -> str:
    return ENTITY_FIELD_LABELS.get((entity or "", field)) or FIELD_LABELS.get(field) or humanize(field)


def person(username: str | None, names: Names) -> str:
    """"Full Name (username)", or the user name alone when no full name is known."""
    if not username:
        return ""
    full = names.people.get(username)
    return f"{full} ({username})" if full and full != username else username


def describe(event: EventFields, names: Names) -> EventWording:
    entity, field = event.entity, event.field
    if field:
        old, new = value_text(entity, field, event.old_value, names), value_text(entity, field, event.new_value, names)
        label = field_label(entity, field)
        changes: tuple[str, ...] = (f"{label}: {old} {ARROW} {new}",)
        shown_old, shown_new = old, new
    else:
        label, shown_old = "", ""
        changes = tuple(_unfielded(event, names))
        shown_new = "; ".join(changes)
    return EventWording(
        who=f"{event.full_name} ({event.username})" if event.full_name != event.username else event.username,
        action=action_label(event.action), what=entity_label(entity), subject=subject(entity, event.entity_id, names),
        field=label, old=shown_old, new=shown_new, changes=changes)


def _unfielded(event: EventFields, names: Names) -> list[str]:
    """A creation's snapshot or a system event's details, one "Label: value" a line (or "old → new")."""
    old, new = _parsed(event.old_value), _parsed(event.new_value)
    if isinstance(new, dict) or isinstance(old, dict):
        before = old if isinstance(old, dict) else {}
        after = new if isinstance(new, dict) else {}
        hidden = HIDDEN | HIDDEN_BY_ENTITY.get(event.entity or "", frozenset())
        lines = []
        keys = sorted({*after, *before}, key=lambda k: _POSITION.get(k, len(_POSITION)))
        for key in keys:
            if key in hidden or (after.get(key) is None and before.get(key) is None) or PAIRED.get(key) in after:
                continue
            label = field_label(event.entity, key)
            value = _value(event.entity, key, after.get(key), names)
            if key in before and before.get(key) != after.get(key):
                lines.append(f"{label}: {_value(event.entity, key, before.get(key), names)} {ARROW} {value}")
            else:
                lines.append(f"{label}: {value}")
        return lines
    if event.old_value is None and event.new_value is None:
        return []
    label = BARE_VALUE.get(event.action, "Value")
    if event.old_value is None:
        return [f"{label}: {_value(None, '', new, names)}"]
    return [f"{label}: {_value(None, '', old, names)} {ARROW} {_value(None, '', new, names)}"]


def _parsed(raw: str | None) -> Any:
    if raw is None or not raw.startswith(("{", "[")):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def value_text(entity: str | None, field: str, raw: str | None, names: Names) -> str:
    """One stored value of ``entity``'s ``field`` as people read it (never cut short)."""
    return _value(entity, field, raw, names)


def _value(entity: str | None, field: str, raw: Any, names: Names) -> str:
    if raw is None:
        return EMPTY
    if raw == REDACTED:
        return "(secret: not recorded)"
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    if isinstance(raw, dict):
        parts = [f"{field_label(entity, k)}: {_value(entity, k, v, names)}" for k, v in raw.items() if v is not None]
        return ", ".join(parts) or EMPTY
    if isinstance(raw, list):
        return "; ".join(_value(entity, field, v, names) for v in raw) or "(none)"
    text = str(raw)
    reference = _reference(entity, field, text, names)
    if reference is not None:
        return reference
    if field == "layout_json":
        return _layout(text)
    if entity == "setting" and field == "key":
        return SPECS[text].title if text in SPECS else humanize(text)
    if entity == "setting" and field == "value":
        return _value(None, "", _parsed(text), names) if text.startswith(("[", "{")) else text
    if field in USER_FIELDS and not (entity == "user" and field == "username"):
        return person(text, names)
    if field in BOOLEAN_FIELDS and text in ("true", "false"):
        return "yes" if text == "true" else "no"
    titled = TITLED.get((entity or "", field)) or TITLED.get(("", field))
    if titled is not None:
        return _enum_title(titled, text)
    if field == "action":  # an audit trail filter
        return action_label(text)
    if field == "page_index" and text.isdigit():
        return str(int(text) + 1)
    if field == "activity":
        return signed_item(text, names)
    if field in CODE_FIELDS:
        return text.replace("_", " ").replace("-", " ")
    if _ISO_TIME.match(text):
        try:
            return local_text(dt.datetime.fromisoformat(text))
        except ValueError:
            return text
    return text


def _enum_title(kind: type[Role] | type[ScanOutcome] | type[PaperFindingKind], value: str) -> str:
    try:
        return kind(value).title
    except ValueError:
        return humanize(value)


def _reference(entity: str | None, field: str, text: str, names: Names) -> str | None:
    """A value that is another row's number, named as people know that row (None: not a reference)."""
    if not text.isdigit() or not field.endswith("_id"):
        return None
    number = int(text)
    if field in ("user_id", "signer_id", "entered_by_id", "verified_by_id", "author_id", "issued_by_id",
                 "imported_by_id"):
        username = names.user_ids.get(number)
        return person(username, names) if username else f"account no. {number}"
    if field in ("issued_form_id", "replaces_id"):
        return names.forms.get(number, f"issued form no. {number}")
    if field == "template_version_id":
        return names.versions.get(number, f"template version no. {number}")
    if field == "template_id":
        return names.templates.get(number, f"template no. {number}")
    if field == "source_id":
        return names.sources.get(number, f"scan file no. {number}")
    if field == "pdf_id":
        return f"forms {names.pdfs[number]}" if number in names.pdfs else f"controlled PDF no. {number}"
    if field == "issuance_id":
        return str(number)  # the issuance's number is how people name it
    if field == "scan_page_id" or (entity == "scan_page" and field == "superseded_by_id"):
        return scan_page_text(number, names)
    if field in ("supersedes_id", "superseded_by_id"):
        return entry_text(number, names)
    return None


def scan_page_text(page_id: int, names: Names) -> str:
    """"form 000001, page 1 (back.png, file page 1)": the form's page, never the database number."""
    page = names.scan_pages.get(page_id)
    if page is None:
        return f"no. {page_id}"
    where = f"{page.file}, file page {page.file_page}"
    if page.serial and page.page_no:
        return f"form {page.serial}, page {page.page_no} ({where})"
    return where


def entry_text(entry_id: int, names: Names) -> str:
    """"entry 1 (0.0998)": the entry's place among the values of its field, and its value."""
    known = names.entries.get(entry_id)
    if known is None:
        return f"entry no. {entry_id}"
    nth, value = known
    return f"entry {nth} ({value if value is not None else 'NA'})"


def subject(entity: str | None, entity_id: str | None, names: Names) -> str:
    """Which row or thing an event is about, as people name it: "form 000001", "QA for Olga Operator (op2)"."""
    if not entity_id:
        return ""
    ident = entity_id
    if entity == "user":
        return person(ident, names)
    if entity == "role_grant" and ident.isdigit():
        grant = names.grants.get(int(ident))
        if grant is None:
            return f"role grant no. {ident}"
        role, account = grant
        return f"{_enum_title(Role, role)} for {person(names.user_ids.get(account), names) or 'an account'}"
    if entity in ("issued_form", "record", "issuance"):
        return ident
    if entity == "report" and ident.isdigit():  # a reconciliation report names its issuance
        return f"for issuance {ident}"
    if entity == "template_version":
        code, _, version = ident.partition("@")
        return f"{code} v{version}" if version else ident
    if entity == "record_entry":
        head, _, number = ident.rpartition("#")
        serial, _, name = head.partition("/")
        label = names.field_labels.get(serial, {}).get(name) or humanize(name)
        known = names.entries.get(int(number)) if number.isdigit() else None
        return f"{serial}, {label}" + (f" (entry {known[0]})" if known else "")
    if entity == "signature":
        head, _, _number = ident.partition("#")
        return f"of {signed_item(head, names)}" if ":" in head else ident
    if entity == "scan_page" and ident.isdigit():
        return scan_page_text(int(ident), names)
    if entity == "paper_finding" and "/p" in ident:  # "000001/p1#5"
        head, _, number = ident.rpartition("#")
        serial, _, page = head.partition("/p")
        return f"{serial}, page {page} (finding {number})"
    if entity in ("scan_source", "stored_file") and ident in names.files:
        return f"{names.files[ident]} (SHA-256 {ident})"
    if entity == "controlled_pdf" and ident.isdigit():
        return f"of forms {names.pdfs[int(ident)]}" if int(ident) in names.pdfs else f"no. {ident}"
    if entity == "setting":
        return SPECS[ident].title if ident in SPECS else humanize(ident)
    return ident


def signed_item(kind_and_id: str, names: Names) -> str:
    """"record:000001" (how signatures name what they sign) -> "record 000001"."""
    kind, _, ident = kind_and_id.partition(":")
    if not ident:
        return kind_and_id
    kind = {"template": "template_version"}.get(kind, kind)
    return f"{entity_label(kind).lower()} {subject(kind, ident, names)}"


def _layout(text: str) -> str:
    """A template layout (the whole form definition, kept with its version and named by its SHA-256) as the list
    of its fields, in words."""
    try:
        layout = json.loads(text)
        fields = [str(f.get("label") or f.get("name")) for f in layout.get("fields", ())]
        pages = int(layout.get("pages") or max((int(f.get("page", 1)) for f in layout.get("fields", ())), default=1))
    except (ValueError, TypeError, AttributeError):
        return "the form layout (kept with the version; see its Layout SHA-256)"
    return f"{plural(len(fields), 'field')} on {plural(pages, 'page')}: " + "; ".join(fields)
