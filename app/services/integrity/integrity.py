"""`formtrail verify`: one check of everything an insider could have changed, each finding named.

* the audit chain, keyed (a rewritten, inserted, removed or forged row) and against every anchor found
  outside the database (a truncated tail, a rewritten history);
* the data replayed against the trail: every controlled row must hold what the trail says it was last
  changed to (a raw SQL UPDATE, a row inserted behind the trail);
* every signature's keyed binding (a signature copied, moved or inserted);
* every issuance's QR key version, and every page linked by its code: the code's tag verifies under the key
  of that form's issuance and names that form and page (a minted code, a link moved with SQL);
* the serial counter against the issued serials and the file store's high-water mark (a bumped counter);
* every value the database's CHECK constraints should have refused (an unknown state, an over-long text), by
  row (``integrity_values``);
* every stored file against its SHA-256;
* on PostgreSQL, the server trail: each write to controlled data the server noted that no audited
  transaction accounts for (psql with the application role's password), and noting triggers switched off.

It records a VERIFY event with its result (Home shows the last one) and runs headless from a scheduler.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import func, select

from app.models import AuditEvent, IssuedForm, SerialCounter, Signature, Site, StoredFile
from app.models.checks import shown
from app.services.admin import backup, disposal
from app.services.core import anchors, audit, audit_chain, consistency, server_audit
from app.services.core.db import Actor, Database
from app.services.core.errors import DamagedData
from app.services.core.filestore import FileStatus
from app.services.core.keys import KeyRing, KeysMissing
from app.services.identity.permissions import Permission, require
from app.services.identity.signatures import is_genuine
from app.services.integrity import integrity_tags, integrity_values
from app.services.issuance import serial_guard
from app.services.issuance.issuance import format_serial
from app.services.site import settings

Progress = Callable[[str, int, int], None]
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Finding:
    area: str  # chain, anchor, data, server, qr, signature, serials, file, keys, values
    subject: str  # what it is about: "audit row 412", "issued_form 000003 field state", "stored file …"
    detail: str
    error: bool = True  # False: a warning that does not fail the check

    def __str__(self) -> str:
        return f"{self.area}: {self.subject}: {self.detail}"


@dataclasses.dataclass(frozen=True)
class IntegrityReport:
    findings: tuple[Finding, ...]
    chain: audit_chain.ChainReport | None
    files_checked: int
    rows_checked: int
    signatures_checked: int
    anchors_checked: int
    checked_at: dt.datetime
    codes_checked: int = 0  # QR codes of pages linked by their code

    @property
    def ok(self) -> bool:
        return not any(f.error for f in self.findings)

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "checked_at": self.checked_at.isoformat(),
                "chain": {"ok": bool(self.chain and self.chain.ok), "head": self.chain.head if self.chain else None,
                          "events": self.chain.count if self.chain else 0},
                "files_checked": self.files_checked, "rows_checked": self.rows_checked,
                "signatures_checked": self.signatures_checked, "anchors_checked": self.anchors_checked,
                "codes_checked": self.codes_checked,
                "findings": [dataclasses.asdict(f) for f in self.findings]}


def verify_everything(db: Database, actor: Actor, *, anchors_given: tuple[tuple[int, str], ...] = (),
                      progress: Progress | None = None, record: bool = True) -> IntegrityReport:
    """Check everything; ``anchors_given`` are chain heads typed from printed reports. With ``record`` the
    result is written to the audit trail as a VERIFY event."""
    require(db, actor, Permission.VIEW_AUDIT)
    findings: list[Finding] = []
    try:
        ring = db.keyring()
    except KeysMissing as exc:
        return _recorded(db, actor, IntegrityReport((Finding("keys", "key file", str(exc)),), None, 0, 0, 0, 0,
                                                    db.clock.now()), record=False)
    found = _anchors(db, ring, findings)
    step = (lambda name: (lambda done, total: progress(name, done, total))) if progress else (lambda name: None)
    chain = audit_chain.verify_chain(db, anchors=(*found, *anchors_given), progress=step("chain"))
    if not chain.ok:
        assert chain.problem is not None
        findings.append(Finding("chain", f"audit row {chain.problem.seq}", f"{chain.problem.kind}: "
                                                                           f"{chain.problem.detail}"))
    findings.extend(Finding("values", subject, detail) for subject, detail in integrity_values.check(db))
    rows = _readable(findings, "data", lambda: _data(db, findings), 0)
    _server_trail(db, findings)
    no_tags: tuple[list[integrity_tags.Problem], int] = ([], 0)
    tags, codes_checked = _readable(findings, "qr", lambda: integrity_tags.check(db, ring), no_tags)
    findings.extend(Finding("qr", subject, detail) for subject, detail in tags)
    signatures_checked = _readable(findings, "signature", lambda: _signatures(db, findings), 0)
    _serials(db, findings)
    files = _files(db, findings, step("files"))
    report = IntegrityReport(tuple(findings), chain, files, rows, signatures_checked, len(found), db.clock.now(),
                             codes_checked=codes_checked)
    return _recorded(db, actor, report, record=record)


def _readable(findings: list[Finding], area: str, check: Callable[[], T], instead: T) -> T:
    """Run a check that reads rows as the application does: a value Formtrail never writes stops it (the values
    area names every such row), and the other checks still run."""
    try:
        return check()
    except DamagedData as exc:
        findings.append(Finding(area, "check not completed", f"it stopped at {exc.table}.{exc.column} = "
                                                             f"{shown(exc.value)} (see the values findings)"))
        return instead


def _recorded(db: Database, actor: Actor, report: IntegrityReport, *, record: bool) -> IntegrityReport:
    if record:
        with db.write(actor, reason="integrity check") as session:
            audit.record_event(session, "VERIFY", entity="site", new={
                "ok": report.ok, "findings": len(report.findings),
                "errors": sum(1 for f in report.findings if f.error),
                "head": report.chain.head if report.chain else None,
                "first": str(report.findings[0]) if report.findings else None})
    return report


def _anchors(db: Database, ring: KeyRing, findings: list[Finding]) -> list[tuple[int, str]]:
    """The genuine anchors to check the chain against. Damaged lines are findings; an anchor beyond the
    trail's end is a truncated tail, unless a RESTORE event took the site back past it (then a warning that
    names the rows the restore gave up)."""
    paths = [anchors.anchor_file(db.files.root, ring.site)]
    with db.read() as session:
        extra = settings.get(session, "integrity.anchor_file")
        head = session.scalar(select(func.max(AuditEvent.seq))) or 0
        restores = [(when, json.loads(value or "{}")) for when, value in session.execute(
            select(AuditEvent.occurred_at, AuditEvent.new_value).where(AuditEvent.action == "RESTORE"))]
    if extra:
        paths.append(Path(extra))
    found: list[tuple[int, str]] = []
    for anchor in _backup_anchors(db, ring):
        given_up = _given_up_by_restore(anchor, restores)
        if given_up is None and anchor.seq > head:
            findings.append(Finding("chain", f"audit rows {head + 1}-{anchor.seq}",
                                    f"missing: the backup in {anchor.source} was taken when the trail had reached "
                                    f"row {anchor.seq}, but it now ends at row {head}"))
        elif given_up is None:
            found.append((anchor.seq, anchor.hash))
    for path in paths:
        if not path.exists():
            if head and path == paths[0]:
                findings.append(Finding("anchor", str(path), "the anchor file is missing although the trail has "
                                                             f"{head} events: a truncated tail cannot be ruled "
                                                             "out (was it deleted?)"))
            continue
        for number, anchor in enumerate(anchors.read(ring, path), start=1):
            if not anchor.genuine:
                findings.append(Finding("anchor", f"{path.name} line {number}", "the anchor does not verify with "
                                                                                "the site's anchor key (edited)"))
                continue
            given_up = _given_up_by_restore(anchor, restores)
            if given_up is not None:
                if anchor.seq > head:
                    findings.append(Finding("anchor", f"audit rows up to {anchor.seq}", given_up, error=False))
                continue
            if anchor.seq > head:
                findings.append(Finding("chain", f"audit rows {head + 1}-{anchor.seq}",
                                        f"missing: the trail ends at row {head}, but an anchor taken {anchor.at} on "
                                        f"{anchor.workstation} shows it had reached row {anchor.seq} (tail "
                                        "truncated, or an older database file put in place)"))
                continue
            found.append((anchor.seq, anchor.hash))
    return found


def _backup_anchors(db: Database, ring: KeyRing) -> list[anchors.Anchor]:
    """The chain heads in the signed manifests of the scheduled backup folder."""
    with db.read() as session:
        folder = settings.get(session, "backup.folder")
    found: list[anchors.Anchor] = []
    if not folder or not Path(folder).is_dir():
        return found
    for manifest_path in sorted(Path(folder).glob("*/manifest.json")):
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            if manifest.get("site") != ring.site or not backup.manifest_signed(manifest, ring):
                continue
            seq, digest = audit_chain.parse_anchor(manifest["chain_head"])
        except (OSError, ValueError, KeyError):
            continue
        found.append(anchors.Anchor(seq, digest, str(manifest.get("created_at")), str(manifest.get("workstation")),
                                    str(manifest_path.parent), True))
    return found


def _given_up_by_restore(anchor: anchors.Anchor, restores: list[tuple[dt.datetime, dict]]) -> str | None:
    """If a restore recorded in the trail went back past this anchor, what to say about it."""
    taken = dt.datetime.fromisoformat(anchor.at)
    for when, details in restores:
        backup_seq = int(str(details.get("chain_head_after") or "0:").split(":")[0])
        if taken <= when and anchor.seq > backup_seq:
            return (f"rows {backup_seq + 1}-{anchor.seq} (anchored {anchor.at}) were given up by the restore of "
                    f"{when.isoformat(timespec='seconds')} (see its RESTORE event)")
    return None


def _data(db: Database, findings: list[Finding]) -> int:
    mismatches = consistency.check_data(db)
    for m in mismatches:
        subject = f"{m.entity} {m.entity_id}" + (f" field {m.field}" if m.field else "")
        findings.append(Finding("data", subject, str(m) if m.field is None else
                                f"the data holds {m.actual!r} but the audit trail says {m.expected!r} (changed "
                                "behind the trail)"))
    with db.read() as session:
        return sum(session.scalar(select(func.count()).select_from(cls)) or 0
                   for cls in consistency.controlled_classes())


def _server_trail(db: Database, findings: list[Finding]) -> None:
    for trigger in server_audit.switched_off(db.engine):
        findings.append(Finding("server", trigger, "the server's noting trigger is missing or disabled: the owner or "
                                                   "a superuser switched it off, so direct changes go unnoted"))
    changes, total = server_audit.direct_changes(db.engine)
    for change in changes:
        claimed = f", claiming to act for {change.actor!r}," if change.actor else ""
        findings.append(Finding("server", f"{change.table} {change.row_id}", (
            f"{change.operation} at {change.changed_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC by database "
            f"role {change.db_role!r}{claimed} in transaction {change.transaction}, which wrote no audit event: a "
            "change made outside Formtrail")))
    if total > len(changes):
        findings.append(Finding("server", "more direct changes", f"{total - len(changes)} more not listed"))


def _signatures(db: Database, findings: list[Finding]) -> int:
    count = 0
    with db.read() as session:
        for sig in session.scalars(select(Signature).order_by(Signature.id)):
            count += 1
            if not is_genuine(session, sig):
                findings.append(Finding("signature", f"signature {sig.id} ({sig.entity} {sig.entity_id}, "
                                                     f"{sig.meaning.value} by {sig.signer_username})",
                                        "its keyed binding does not verify: copied, moved, inserted or altered "
                                        "outside Formtrail"))
    return count


def _serials(db: Database, findings: list[Finding]) -> None:
    with db.read() as session:
        site = session.scalar(select(Site))
        if site is None:
            return
        counter = session.scalar(select(SerialCounter.next_serial).where(SerialCounter.site_id == site.id)) or 1
        highest = session.scalar(select(func.max(IssuedForm.serial_no))) or 0
    mark = serial_guard.high_water(db.files.root, site.code)
    if counter < highest + 1:
        findings.append(Finding("serials", "serial counter", f"the next serial is {format_serial(counter)} but "
                                                            f"{format_serial(highest)} was issued: a serial would "
                                                            "be issued twice"))
    elif counter > max(highest, mark) + 1:  # a restore moves it to the mark + 1, never beyond
        highest_ever = format_serial(max(highest, mark))
        findings.append(Finding("serials", "serial counter", f"the next serial is {format_serial(counter)} but the "
                                                            f"highest ever issued is {highest_ever}"
                                                            ": the counter was moved forward behind the trail"))
    if mark < highest:
        findings.append(Finding("serials", "high-water mark", f"the file store's mark says {format_serial(mark)} "
                                                             f"but {format_serial(highest)} was issued: the mark "
                                                             "file was replaced or lost"))


def _files(db: Database, findings: list[Finding], progress: Callable[[int, int], None] | None) -> int:
    with db.read() as session:
        rows = session.execute(select(StoredFile.sha256, StoredFile.original_name, StoredFile.kind)
                               .order_by(StoredFile.stored_at)).all()
        # BK-05: files an approved disposal destroyed are meant to be absent (a disposal row forged with SQL is a
        # data finding: it has no audit event); any other absent file is still named.
        destroyed = disposal.disposed_hashes(session)
    for done, (sha, name, kind) in enumerate(rows, start=1):
        state = db.files.status(sha)
        if state is FileStatus.MISSING and sha in destroyed:
            pass
        elif state is not FileStatus.OK:
            findings.append(Finding("file", f"stored file {sha} ({kind} {name!r})",
                                    f"{state.value} at {db.files.path_for(sha)}"))
        if progress is not None:
            progress(done, len(rows))
    return len(rows)


@dataclasses.dataclass(frozen=True)
class LastCheck:
    ok: bool
    at: dt.datetime
    by: str
    first_problem: str | None


def last_check(db: Database) -> LastCheck | None:
    """The newest VERIFY event (for Home): when, by whom, and whether everything verified."""
    with db.read() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "VERIFY")
                               .order_by(AuditEvent.seq.desc()).limit(1))
        if event is None:
            return None
        details = json.loads(event.new_value or "{}")
        return LastCheck(ok=bool(details.get("ok")), at=event.occurred_at, by=event.username,
                         first_problem=details.get("first"))
