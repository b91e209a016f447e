"""`formtrail verify`: every stored file against its recorded hash, and the audit chain."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from sqlalchemy import func, select

from app.models import StoredFile
from app.services import audit_chain
from app.services.db import Actor, Database
from app.services.filestore import FileStatus
from app.services.permissions import Permission, require


@dataclasses.dataclass(frozen=True)
class FileProblem:
    sha256: str
    name: str
    kind: str
    status: FileStatus
    path: str


@dataclasses.dataclass(frozen=True)
class IntegrityReport:
    files_checked: int
    problems: tuple[FileProblem, ...]
    chain: audit_chain.ChainReport

    @property
    def ok(self) -> bool:
        return not self.problems and self.chain.ok


def verify_everything(db: Database, actor: Actor, *, progress: Callable[[int, int], None] | None = None) -> IntegrityReport:
    require(db, actor, Permission.VIEW_AUDIT)
    problems = []
    with db.read() as session:
        total = session.scalar(select(func.count()).select_from(StoredFile)) or 0
        rows = session.execute(select(StoredFile.sha256, StoredFile.original_name, StoredFile.kind)
                               .order_by(StoredFile.stored_at)).all()
    for done, (sha, name, kind) in enumerate(rows, start=1):
        state = db.files.status(sha)
        if state is not FileStatus.OK:
            problems.append(FileProblem(sha, name, kind, state, str(db.files.path_for(sha))))
        if progress is not None:
            progress(done, total)
    return IntegrityReport(files_checked=len(rows), problems=tuple(problems), chain=audit_chain.verify_chain(db))
