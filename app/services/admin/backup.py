"""Backups (BK-01/BK-02): a consistent snapshot taken while the app is in use, the file store, and a manifest
with the SHA-256 of every file, row counts and the audit chain head.

SQLite is copied with its online backup API (a consistent page-level copy while others write); PostgreSQL is
exported table by table inside one REPEATABLE READ transaction (one snapshot of every table) as JSON lines,
which restore reads back into either database. Stored files are content-addressed and immutable, so copying
the ones the snapshot refers to after the snapshot is consistent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypedDict

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url

from app import buildinfo
from app.models import StoredFile
from app.models.migrate import current_revision
from app.services.admin import transfer
from app.services.core import audit
from app.services.core.audit_chain import verify_rows
from app.services.core.db import Actor, Database
from app.services.core.errors import DamagedData, FormtrailError, ValidationError
from app.services.core.filestore import FileStatus, sha256_file
from app.services.core.keys import KeyRing
from app.services.identity.permissions import Permission, require

FORMAT = "formtrail-backup-1"
MANIFEST = "manifest.json"
SQLITE_SNAPSHOT = "database.sqlite"
TABLES_DIR = "tables"
FILES_DIR = "files"
INCOMPLETE = ".incomplete"  # present while a backup is written; a folder holding it may be overwritten
Progress = Callable[[int, int], None]


class BackupCancelled(FormtrailError):
    pass


class ManifestFile(TypedDict):
    """One file of the backup, as its manifest lists it (keyed by its path inside the backup folder)."""

    sha256: str
    size: int


@dataclasses.dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest_sha256: str
    files: int
    bytes: int
    chain_head: str
    row_counts: dict[str, int]
    problems: tuple[str, ...]


def backup(db: Database, actor: Actor, dest: Path, *, progress: Progress | None = None,
           cancelled: Callable[[], bool] | None = None, scheduled: bool = False) -> BackupResult:
    if not scheduled:  # a scheduled backup was set up by an administrator (an audited setting)
        require(db, actor, Permission.BACKUP)
    if dest.exists() and any(dest.iterdir()):
        if not (dest / INCOMPLETE).exists():
            raise ValidationError(f"{dest} is not empty; back up into a new folder", code="folder-not-empty")
        shutil.rmtree(dest)  # an earlier backup into it was interrupted (killed, power cut): repeat it
    dest.mkdir(parents=True, exist_ok=True)
    dest.chmod(0o700)  # a copy of everything: for the administrator's eyes only
    (dest / INCOMPLETE).write_text("A Formtrail backup is being written here, or was interrupted.\n")
    try:
        result = _take(db, actor, dest, progress=progress, cancelled=cancelled)
        (dest / INCOMPLETE).unlink()
    except BaseException as exc:
        shutil.rmtree(dest, ignore_errors=True)  # a partial backup is no backup; the live data is untouched
        with db.write(actor, reason="backup failed") as session:
            audit.record_event(session, "BACKUP_FAILED", entity="backup", entity_id=str(dest),
                               new={"error": str(exc) or type(exc).__name__, "scheduled": scheduled})
        raise
    # anchor: every backup also anchors the chain head (the BACKUP event's) in the file store
    with db.write(actor, reason="scheduled backup" if scheduled else "backup", anchor=True) as session:
        audit.record_event(session, "BACKUP", entity="backup", entity_id=str(dest), new={
            "manifest_sha256": result.manifest_sha256, "files": result.files, "bytes": result.bytes,
            "chain_head": result.chain_head, "problems": list(result.problems), "scheduled": scheduled})
    return result


def _take(db: Database, actor: Actor, dest: Path, *, progress: Progress | None,
          cancelled: Callable[[], bool] | None) -> BackupResult:
    backend = db.dialect
    if backend == "sqlite":
        snapshot = dest / SQLITE_SNAPSHOT
        _sqlite_snapshot(db, snapshot)
        rows, counts, hashes = _read_sqlite_snapshot(snapshot)
    else:
        counts, hashes, rows = _postgres_export(db, dest / TABLES_DIR)
    ring = db.keyring()
    chain = verify_rows(rows, ring=ring)
    (dest / FILES_DIR).mkdir()
    problems: list[str] = []
    total_bytes = sum(db.files.path_for(h).stat().st_size for h in hashes if db.files.path_for(h).exists())
    done = 0
    for sha in hashes:
        if cancelled is not None and cancelled():
            raise BackupCancelled("the backup was cancelled; the incomplete backup folder was removed")
        status = db.files.status(sha)
        if status is not FileStatus.OK:
            problems.append(f"stored file {sha} is {status.value} in the live store; not in this backup")
            continue
        target = dest / FILES_DIR / sha
        shutil.copyfile(db.files.path_for(sha), target)
        done += target.stat().st_size
        if progress is not None:
            progress(done, total_bytes)
    files: dict[str, ManifestFile] = {
        path.relative_to(dest).as_posix(): {"sha256": sha256_file(path), "size": path.stat().st_size}
        for path in sorted(dest.rglob("*")) if path.is_file() and not is_scratch(path) and path.name != INCOMPLETE}
    manifest = {
        "format": FORMAT, "site": ring.site, "created_at": db.clock.now().isoformat(), "created_by": actor.username,
        "workstation": db.workstation, "app_version": buildinfo.text(), "backend": backend,
        "schema_revision": current_revision(db.engine), "row_counts": counts, "chain_head": chain.head,
        "chain_ok": chain.ok, "stored_files": len(hashes), "problems": problems, "files": files,
    }
    manifest["signature"] = sign_manifest(manifest, ring)
    text_ = json.dumps(manifest, indent=1, sort_keys=True)
    (dest / MANIFEST).write_text(text_, encoding="utf-8")
    return BackupResult(path=dest, manifest_sha256=hashlib.sha256(text_.encode()).hexdigest(),
                        files=len(files), bytes=sum(f["size"] for f in files.values()),
                        chain_head=chain.head, row_counts=counts, problems=tuple(problems))


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_manifest(manifest: dict[str, Any], ring: KeyRing) -> dict[str, Any]:
    """An HMAC under the site's backup key over the whole manifest (every file's hash, the counts, the chain
    head): an edited backup whose manifest was recomputed no longer verifies without the key."""
    return {"key_version": ring.current, "hmac": ring.mac("backup", _manifest_bytes(manifest))}


def manifest_signed(manifest: dict[str, Any], ring: KeyRing) -> bool:
    signature = manifest.get("signature") or {}
    version = signature.get("key_version")
    return isinstance(version, int) and ring.check("backup", _manifest_bytes(manifest), str(signature.get("hmac")),
                                                   version)


SCRATCH_SUFFIXES = ("-wal", "-shm", "-journal")


def is_scratch(path: Path) -> bool:
    """SQLite's own temporary files beside a database: never part of a backup, never needed by a restore."""
    return path.name.endswith(SCRATCH_SUFFIXES)


def _sqlite_snapshot(db: Database, target: Path) -> None:
    source_path = make_url(db.engine.url).database
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    try:
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)  # online backup API: a consistent copy while others keep writing
            # The copy keeps the live database's WAL mode; in rollback-journal mode, opening the backup (with
            # the sqlite3 tool, say) leaves no -wal/-shm files behind to disturb its manifest.
            destination.execute("PRAGMA journal_mode=DELETE")
        finally:
            destination.close()
    finally:
        source.close()


def snapshot_engine(snapshot: Path) -> Engine:
    """Read-only, and without the WAL/pragma set-up of build_engine, which would write to the file and so
    change the very bytes the manifest hashes. ``immutable``: only the hashed file is read, never a -wal or
    -journal file that someone's tool may have left beside it."""
    return create_engine(f"sqlite:///file:{snapshot.resolve()}?mode=ro&immutable=1&uri=true")


def _read_sqlite_snapshot(snapshot: Path) -> tuple[list[dict[str, Any]], dict[str, int], list[str]]:
    engine = snapshot_engine(snapshot)
    try:
        counts = transfer.row_counts(engine)
        with engine.connect() as conn:
            audit_table = next(t for t in transfer.tables() if t.name == "audit_event")
            rows = list(transfer.iter_rows(conn, audit_table))
            hashes = list(conn.scalars(select(StoredFile.sha256)))
        return rows, counts, hashes
    finally:
        engine.dispose()


def _postgres_export(db: Database, folder: Path) -> tuple[dict[str, int], list[str], list[dict[str, Any]]]:
    folder.mkdir()
    counts: dict[str, int] = {}
    audit_rows: list[dict[str, Any]] = []
    hashes: list[str] = []
    with db.engine.connect() as conn:
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        for table in transfer.tables():
            n = 0
            with (folder / f"{table.name}.jsonl").open("w", encoding="utf-8") as fh:
                for row in transfer.iter_rows(conn, table):
                    fh.write(json.dumps({k: transfer.plain(v) for k, v in row.items()}, ensure_ascii=False) + "\n")
                    n += 1
                    if table.name == "audit_event":
                        audit_rows.append(row)
                    elif table.name == "stored_file":
                        hashes.append(row["sha256"])
            counts[table.name] = n
        conn.rollback()
    return counts, hashes, audit_rows


def read_jsonl(path: Path, table_name: str) -> Iterator[dict[str, Any]]:
    """Rows of an exported table with their Python types restored from the schema."""
    table = next(t for t in transfer.tables() if t.name == table_name)
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            raw = json.loads(line)
            yield {c.name: _typed(c, raw.get(c.name)) for c in table.columns}


def _typed(column: Any, value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    enum_class = getattr(kind, "enum_class", None)
    if enum_class is not None:
        return enum_class(value)
    python = getattr(kind, "impl", kind)
    name = type(python).__name__
    if name in ("DateTime",):
        return dt.datetime.fromisoformat(value)
    if name == "Date":
        return dt.date.fromisoformat(value)
    return value


def last_backup(db: Database) -> tuple[str, dt.datetime, str] | None:
    """(outcome "BACKUP"/"BACKUP_FAILED", when, destination) of the newest backup, for Home."""
    from app.models import AuditEvent
    with db.read() as session:
        row = session.execute(select(AuditEvent.action, AuditEvent.occurred_at, AuditEvent.entity_id)
                              .where(AuditEvent.action.in_(("BACKUP", "BACKUP_FAILED")))
                              .order_by(AuditEvent.seq.desc()).limit(1)).first()
    if row is None:
        return None
    action, when, destination = row
    if destination is None:  # both events are recorded with the backup folder as their entity id
        raise DamagedData(f"the newest {action} event of the audit trail names no backup folder",
                          table="audit_event", column="entity_id", value=None)
    return action, when, destination




def scheduled_backup_due(db: Database) -> Path | None:
    """The folder to back up into now, if scheduled backups are set up and the last one is old enough."""
    from app.services.site import settings
    with db.read() as session:
        folder = settings.get(session, "backup.folder")
        hours = settings.get(session, "backup.interval_hours")
    if not folder:
        return None
    last = last_backup(db)
    if last is not None and last[0] == "BACKUP" and db.clock.now() - last[1] < dt.timedelta(hours=hours):
        return None
    return Path(folder)


def run_scheduled_backup(db: Database, actor: Actor | None = None, *, progress: Progress | None = None,
                         cancelled: Callable[[], bool] | None = None) -> BackupResult | None:
    """Take the scheduled backup if one is due (into a new time-stamped folder), else do nothing. It runs as
    the scheduler (``actor`` only names the session it ran from), whoever is logged in."""
    folder = scheduled_backup_due(db)
    if folder is None:
        return None
    who = f"scheduled backup (in the session of {actor.username})" if actor is not None else "scheduled backup"
    stamp = db.clock.now().strftime("%Y%m%dT%H%M%SZ")
    return backup(db, Actor.system(who), folder / f"formtrail-{db.workstation}-{stamp}", progress=progress,
                  cancelled=cancelled, scheduled=True)
