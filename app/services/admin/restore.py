"""Checking a backup without the application's database (`backup verify`), and restoring it (BK-03).

A restore never deletes anything: into a new data directory it builds a fresh database from the snapshot;
in place (SQLite) it moves the current database file aside first. Either way it writes a RESTORE event into
the restored trail naming the chain head before and after, and what the replaced database held after the
backup point (the records lost by going back).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine, make_url

from app.models import AuditEvent, SerialCounter, Site
from app.models.engine import build_engine
from app.models.migrate import upgrade
from app.services.admin import transfer
from app.services.admin.backup import (
    FILES_DIR,
    FORMAT,
    INCOMPLETE,
    MANIFEST,
    SQLITE_SNAPSHOT,
    TABLES_DIR,
    is_scratch,
    manifest_signed,
    read_jsonl,
    snapshot_engine,
)
from app.services.core import audit, audit_chain, server_audit
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, PermissionDenied, RuleViolation, ValidationError
from app.services.core.filestore import FileStore, sha256_file
from app.services.core.keys import KeyRing, KeyStore
from app.services.identity import auth
from app.services.identity.permissions import Permission, current_roles, permissions_of, require
from app.services.issuance import serial_guard
from app.services.issuance.issuance import format_serial


@dataclasses.dataclass(frozen=True)
class BackupCheck:
    path: Path
    ok: bool
    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    chain_head: str | None
    row_counts: dict[str, int]
    manifest: dict[str, Any]


def verify_backup(path: Path, *, keys: KeyStore | None = None) -> BackupCheck:
    """Check the manifest's signature with the site's key file (in ``keys``), re-hash every file against the
    manifest, then check the snapshot: counts, keyed chain, stored files. Without the key file a backup
    cannot be authenticated, and says so."""
    problems: list[str] = []
    manifest_path = path / MANIFEST
    if (path / INCOMPLETE).exists():
        return BackupCheck(path, False, (f"{path} is an interrupted backup (it was never finished); take the "
                                         "backup again",), (), None, {}, {})
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return BackupCheck(path, False, (f"{manifest_path} is missing: not a Formtrail backup, or damaged",), (),
                           None, {}, {})
    except ValueError:
        return BackupCheck(path, False, (f"{manifest_path} is damaged (not valid JSON)",), (), None, {}, {})
    if manifest.get("format") != FORMAT:
        problems.append(f"unknown backup format {manifest.get('format')!r}")
    ring = _ring_for(manifest, keys, problems)
    if ring is not None and not manifest_signed(manifest, ring):
        problems.append("the manifest's signature does not verify with the site's backup key: the backup was "
                        "edited (or its manifest rewritten) after it was taken")
    listed: dict[str, dict[str, Any]] = manifest.get("files", {})
    for name, info in sorted(listed.items()):
        file = path / name
        if not file.exists():
            problems.append(f"{name}: missing")
        elif sha256_file(file) != info["sha256"]:
            problems.append(f"{name}: altered (SHA-256 does not match the manifest)")
    for file in sorted(p for p in path.rglob("*") if p.is_file() and p.name != MANIFEST and not is_scratch(p)):
        if file.relative_to(path).as_posix() not in listed:
            problems.append(f"{file.relative_to(path).as_posix()}: not listed in the manifest")
    counts: dict[str, int] = {}
    chain_head = None
    if not problems:
        try:
            counts, rows, stored = _snapshot_contents(path, manifest)
            report = audit_chain.verify_rows(rows, ring=ring)
            chain_head = report.head
            if not report.ok:
                problems.append(f"the audit trail inside the backup is broken: {report.problem}")
            if report.head != manifest.get("chain_head"):
                problems.append(f"chain head {report.head} differs from the manifest's {manifest.get('chain_head')}")
            if counts != manifest.get("row_counts"):
                problems.append("row counts differ from the manifest")
            for sha in stored:
                if f"{FILES_DIR}/{sha}" not in listed:
                    if not any(sha in p for p in manifest.get("problems", [])):
                        problems.append(f"stored file {sha} is referenced by the snapshot but not in the backup")
        except Exception as exc:  # noqa: BLE001 - a damaged snapshot must be reported, not crash the check
            problems.append(f"the database snapshot cannot be read: {exc}")
    return BackupCheck(path, not problems, tuple(problems), tuple(manifest.get("problems", [])), chain_head, counts,
                       manifest)


def _ring_for(manifest: dict[str, Any], keys: KeyStore | None, problems: list[str]) -> KeyRing | None:
    site = manifest.get("site")
    if not site or keys is None or not keys.exists(site):
        problems.append(f"the key file of site {site or '(unknown)'} is not available here: the backup's signature "
                        "and its keyed audit trail cannot be checked (set FORMTRAIL_KEYS or import the keys)")
        return None
    return keys.ring(site)


def _snapshot_contents(path: Path, manifest: dict[str, Any]) -> tuple[dict[str, int], list[dict[str, Any]], list[str]]:
    if manifest.get("backend") == "sqlite":
        engine = snapshot_engine(path / SQLITE_SNAPSHOT)
        try:
            counts = transfer.row_counts(engine)
            with engine.connect() as conn:
                table = _table("audit_event")
                rows = list(transfer.iter_rows(conn, table))
                stored = [r["sha256"] for r in transfer.iter_rows(conn, _table("stored_file"))]
            return counts, rows, stored
        finally:
            engine.dispose()
    counts = {}
    for table in transfer.tables():
        with (path / TABLES_DIR / f"{table.name}.jsonl").open(encoding="utf-8") as fh:
            counts[table.name] = sum(1 for _ in fh)
    rows = list(read_jsonl(path / TABLES_DIR / "audit_event.jsonl", "audit_event"))
    stored = [r["sha256"] for r in read_jsonl(path / TABLES_DIR / "stored_file.jsonl", "stored_file")]
    return counts, rows, stored


def _table(name: str):  # noqa: ANN202
    return next(t for t in transfer.tables() if t.name == name)


def load_snapshot(path: Path, manifest: dict[str, Any], target: Engine) -> None:
    """Fill the empty ``target`` database from the backup's snapshot, rows verbatim."""
    upgrade(target)
    if not transfer.is_empty(target):
        raise DomainError("the target database already holds data; restore into a new, empty database")
    if manifest.get("backend") == "sqlite":
        source = snapshot_engine(path / SQLITE_SNAPSHOT)
        try:
            transfer.copy_all(source, target)
        finally:
            source.dispose()
        return
    with target.begin() as conn:
        server_audit.claim(conn, "SYSTEM")  # the restored trail is in this transaction, with every row
        for table in transfer.tables():
            batch = []
            for row in read_jsonl(path / TABLES_DIR / f"{table.name}.jsonl", table.name):
                batch.append(row)
                if len(batch) >= transfer.BATCH:
                    conn.execute(insert(table), batch)
                    batch.clear()
            if batch:
                conn.execute(insert(table), batch)
        if conn.dialect.name == "postgresql":
            transfer.reset_sequences(conn)


def copy_files(path: Path, store: FileStore) -> int:
    copied = 0
    for file in sorted((path / FILES_DIR).iterdir()):
        if store.status(file.name).value != "ok":
            store.put_file(file)
            copied += 1
    return copied


@dataclasses.dataclass(frozen=True)
class Approval:
    """A second person's approval of an in-place restore (BK-03), given by re-authenticating at that moment."""

    username: str
    full_name: str
    approved_at: dt.datetime


def approve_restore(db: Database, actor: Actor, *, username: str, password: str) -> Approval:
    """``username`` (another administrator, or QA: APPROVE_RESTORE) approves the restore ``actor`` is about to do,
    typing their password now. A failed password counts toward the approver's lockout like a signature's; the
    restorer approving their own restore, or an approver without the permission, is refused and logged."""
    name = username.strip()
    if not name or name == actor.username:
        refusal = RuleViolation("an in-place restore needs the approval of a second person (another administrator "
                                "or QA), not of the administrator who restores",
                                code=ErrorCode.RESTORE_APPROVER_SAME_PERSON)
        db.record_refusal(actor, refusal)
        raise refusal
    approver = auth.authenticate(db, username=name, password=password, purpose=auth.Purpose.SIGN).actor
    if Permission.APPROVE_RESTORE not in permissions_of(current_roles(db, approver)):
        denied = PermissionDenied(f"{approver.username} may not approve a restore (administrators and QA approve "
                                  "restores)", code=ErrorCode.RESTORE_APPROVER_NOT_ALLOWED)
        db.record_refusal(actor, denied)
        raise denied
    return Approval(username=approver.username, full_name=approver.full_name, approved_at=db.clock.now())


def _check_approval(current: Database | None, actor: Actor, approval: Approval | None, *, in_place: bool) -> None:
    if approval is None and in_place:
        refusal = RuleViolation("an in-place restore of the production database needs the approval of a second "
                                "person (another administrator or QA), who types their password at the restore",
                                code=ErrorCode.RESTORE_APPROVAL_REQUIRED)
    elif approval is not None and approval.username == actor.username:
        refusal = RuleViolation("the approver of a restore must be another person than the administrator who "
                                "restores", code=ErrorCode.RESTORE_APPROVER_SAME_PERSON)
    else:
        return
    if current is not None:
        current.record_refusal(actor, refusal)
    raise refusal


@dataclasses.dataclass(frozen=True)
class RestoreResult:
    db_url: str
    files_copied: int
    chain_head_before: str | None
    chain_head_after: str
    events_lost: int
    moved_aside: Path | None
    # Serials issued after the backup point (their paper exists, their rows are not in the restored data):
    # the counter was moved past them, and reconciliation must account for them. None when there are none.
    serials_after_backup: tuple[str, str] | None = None


def _last_serial_issued(current: Database | None) -> int:
    """The highest serial the database being replaced (or left as it is) has issued."""
    last = 0
    if current is not None:
        with current.read() as session:
            site = session.scalar(select(Site))
            if site is not None:
                counter = session.scalar(select(SerialCounter).where(SerialCounter.site_id == site.id))
                last = (counter.next_serial - 1) if counter is not None else 0
    return last


def _move_counter_past(restored: Database, roots: list[Path], known_last: int) -> tuple[int, int] | None:
    """Move the restored counter past every serial issued anywhere (file-store marks, the replaced database);
    returns the range of serials issued after the backup point, or None."""
    with restored.read() as session:
        site = session.scalar(select(Site))
        if site is None:  # the snapshot verified, and every verified backup is of a set-up site
            raise DomainError("the restored database has no site")
        counter = session.scalar(select(SerialCounter).where(SerialCounter.site_id == site.id))
        if counter is None:  # the set-up creates the counter with the site
            raise DomainError(f"the restored database has no serial counter for site {site.code}")
        code, next_serial = site.code, counter.next_serial
    last = max([known_last, *(serial_guard.high_water(root, code) for root in roots)])
    if last < next_serial:
        return None
    with restored.engine.begin() as conn:  # the counter is not controlled data; the RESTORE event records this
        conn.execute(update(SerialCounter).where(SerialCounter.site_id == site.id).values(next_serial=last + 1))
    for root in roots:
        serial_guard.raise_high_water(root, code, last, workstation=restored.workstation)
    return next_serial, last


def _lost_after(current: Database | None, backup_head: str) -> tuple[str | None, int, dict[str, int]]:
    """The replaced database's chain head, and what it recorded after the backup point (a gap report)."""
    if current is None:
        return None, 0, {}
    head = audit_chain.verify_chain(current)
    backup_seq = int(backup_head.split(":")[0])
    with current.read() as session:
        later = session.execute(select(AuditEvent.action, AuditEvent.entity).where(AuditEvent.seq > backup_seq)).all()
    summary = Counter(f"{action} {entity or ''}".strip() for action, entity in later)
    return head.head, len(later), dict(summary.most_common(20))


def restore(
    path: Path, actor: Actor, *, reason: str, target_url: str, target_files: Path, current: Database | None,
    in_place: bool, workstation: str, make_database: Any, keys: KeyStore | None = None,
    approval: Approval | None = None,
) -> RestoreResult:
    """Restore the backup at ``path``. ``current`` is the database being replaced (in place) or left as it is
    (restore into a new data directory); ``make_database(url, files)`` opens the restored one. In place, a second
    person's ``approval`` (``approve_restore``) is required; the RESTORE event names both people."""
    if not reason or not reason.strip():
        raise ValidationError("a restore needs a reason (why going back to this backup is necessary)")
    if current is not None:
        require(current, actor, Permission.RESTORE)
    _check_approval(current, actor, approval, in_place=in_place)
    keys = keys or (current.keys if current is not None else None)
    check = verify_backup(path, keys=keys)
    if not check.ok:
        raise DomainError("the backup does not verify, nothing was restored: " + "; ".join(check.problems[:5]))
    site = check.manifest.get("site")
    if not isinstance(site, str):  # a backup verifies only with the key file of the site it names
        raise DomainError("the backup's manifest names no site, nothing was restored")
    before, lost, summary = _lost_after(current, check.chain_head or "0:")
    known_last = _last_serial_issued(current)
    roots = list(dict.fromkeys([Path(target_files), *([current.files.root] if current is not None else [])]))
    moved = None
    if in_place:
        if current is None or current.dialect != "sqlite":
            raise ValidationError("restoring in place replaces the embedded SQLite database; for a PostgreSQL "
                                  "site, restore into a new database and point the workstations at it")
        moved = _move_aside(current)
    target = build_engine(target_url)
    try:
        load_snapshot(path, check.manifest, target)
    finally:
        target.dispose()
    restored: Database = make_database(target_url, target_files)
    try:
        if restored.keys is not None and keys is not None and not restored.keys.exists(site):
            restored.keys.import_file(site, keys.path(site))  # the keys travel beside the data, never inside it
        copied = copy_files(path, restored.files)
        after_backup = _move_counter_past(restored, roots, known_last)
        after = audit_chain.verify_chain(restored)
        serials = (format_serial(after_backup[0]), format_serial(after_backup[1])) if after_backup else None
        with restored.write(actor, reason=reason.strip(), check_actor=False) as session:
            audit.record_event(session, "RESTORE", entity="backup", entity_id=str(path), new={
                "backup_created_at": check.manifest.get("created_at"), "chain_head_before": before,
                "chain_head_after": after.head, "events_lost_after_backup": lost, "lost_summary": summary,
                "in_place": in_place, "moved_aside": str(moved) if moved else None, "workstation": workstation,
                "serials_issued_after_backup": f"{serials[0]}-{serials[1]}" if serials else None,
                "restored_by": actor.username,
                "approved_by": approval.username if approval else None,
                "approved_by_name": approval.full_name if approval else None,
                "approved_at": approval.approved_at.isoformat() if approval else None,
            })
        return RestoreResult(db_url=target_url, files_copied=copied, chain_head_before=before,
                             chain_head_after=after.head, events_lost=lost, moved_aside=moved,
                             serials_after_backup=serials)
    finally:
        restored.engine.dispose()


def _move_aside(current: Database) -> Path:
    """Keep the replaced database file (and its WAL) next to it; a restore never deletes data."""
    database = make_url(current.engine.url).database
    if not database:  # an in-memory database has no file to keep
        raise ValidationError("an in-memory database cannot be restored in place")
    db_path = Path(database)
    current.engine.dispose()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = db_path.with_name(f"{db_path.name}.replaced-{stamp}")
    shutil.move(str(db_path), aside)
    for suffix in ("-wal", "-shm"):
        extra = db_path.with_name(db_path.name + suffix)
        if extra.exists():
            shutil.move(str(extra), aside.with_name(aside.name + suffix))
    return aside
