"""Moving a workstation's SQLite database to the site's PostgreSQL server (BK-06), verified and audited.

The source must be intact (hash chain, and data matching its trail) before anything is copied; the copy is
then verified table by table (row counts and per-row hashes) and the chain is verified again on the target.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from app.models.engine import build_engine
from app.models.migrate import upgrade
from app.services.admin import transfer
from app.services.core import audit, audit_chain, consistency
from app.services.core.clock import database_clock
from app.services.core.db import Actor, Database
from app.services.core.errors import DomainError
from app.services.core.filestore import FileStatus, FileStore
from app.services.core.keys import KeyStore
from app.services.identity.passwords import PasswordHasher
from app.services.identity.permissions import Permission, require
from app.textfmt import noun, plural


@dataclasses.dataclass(frozen=True)
class MigrationReport:
    counts: dict[str, int]
    checks: tuple[transfer.TableCheck, ...]
    source_head: str
    target_head: str
    target_chain_ok: bool
    files_copied: int
    files_missing: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks) and self.target_chain_ok and not self.files_missing


def _database(url: str, files: Path, *, workstation: str, keys: KeyStore | None) -> Database:
    """The target, with the source's keys: the copied chain is keyed with them (the keys are the site's)."""
    engine = build_engine(url)
    return Database(engine=engine, clock=database_clock(engine), workstation=workstation,
                    hasher=PasswordHasher("fast"), files=FileStore(files), display_url=url, keys=keys)


def migrate(
    source: Database, actor: Actor, *, target_url: str, target_files: Path | None,
    progress: Callable[[str, int, int], None] | None = None,
) -> MigrationReport:
    """Copy everything from ``source`` (the acting administrator's database) into the empty ``target_url``."""
    require(source, actor, Permission.MANAGE_SETTINGS)
    chain = audit_chain.verify_chain(source)
    if not chain.ok:
        raise DomainError(f"the source audit trail is broken ({chain.problem}); nothing was migrated. "
                          "Investigate before moving this database.")
    mismatches = consistency.check_data(source)
    if mismatches:
        listed = "; ".join(str(m) for m in mismatches[:5])
        n = len(mismatches)
        raise DomainError(f"{plural(n, 'row')} of the source {noun(n, 'does', 'do')} not match "
                          f"{noun(n, 'its', 'their')} audit trail ({listed}); "
                          "nothing was migrated. Investigate before moving this database.")
    target = _database(target_url, target_files or source.files.root, workstation=source.workstation,
                       keys=source.keys)
    try:
        upgrade(target.engine)
        if not transfer.is_empty(target.engine):
            raise DomainError("the target database already holds data; migrate into a new, empty site database")
        counts = transfer.copy_all(source.engine, target.engine, progress=progress)
        checks = tuple(transfer.compare(source.engine, target.engine))
        target_chain = audit_chain.verify_chain(target)
        copied, missing = _copy_files(source, target)
        report = MigrationReport(counts=counts, checks=checks, source_head=chain.head, target_head=target_chain.head,
                                 target_chain_ok=target_chain.ok, files_copied=copied, files_missing=tuple(missing))
        details = {"from": source.display_url, "to": target.display_url, "rows": sum(counts.values()),
                   "source_chain_head": chain.head, "verified": report.ok}
        with target.write(actor, reason="workstation database migrated to the site server", check_actor=False) as s:
            audit.record_event(s, "MIGRATION", entity="database", new=details)
        with source.write(actor, reason="this database was migrated to the site server") as s:
            audit.record_event(s, "MIGRATION", entity="database", new=details)
        return report
    finally:
        target.engine.dispose()


def _copy_files(source: Database, target: Database) -> tuple[int, list[str]]:
    from sqlalchemy import select

    from app.models import StoredFile
    with source.read() as session:
        hashes = list(session.scalars(select(StoredFile.sha256)))
    if source.files.root.resolve() == target.files.root.resolve():
        return 0, [h for h in hashes if source.files.status(h) is not FileStatus.OK]
    copied, missing = 0, []
    for sha in hashes:
        if target.files.status(sha) is FileStatus.OK:
            continue
        if source.files.status(sha) is not FileStatus.OK:
            missing.append(sha)
            continue
        target.files.put_file(source.files.path_for(sha))
        copied += 1
    return copied, missing
