"""Recompute the audit trail's hash chain and name the first row that does not fit."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func, select

from app.models import AuditEvent
from app.services.audit import CHAIN_FIELDS, GENESIS_HASH, compute_hash
from app.services.db import Database

_BATCH = 5_000


@dataclasses.dataclass(frozen=True)
class ChainProblem:
    seq: int
    kind: str  # "edited", "missing", "inserted or reordered", "anchor"
    detail: str

    def __str__(self) -> str:
        return f"audit row {self.seq}: {self.detail}"


@dataclasses.dataclass(frozen=True)
class ChainReport:
    count: int
    head_seq: int
    head_hash: str
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def head(self) -> str:
        """The anchor printed on reports: "<number of events>:<hash of the last>"."""
        return f"{self.head_seq}:{self.head_hash}"


def parse_anchor(text: str) -> tuple[int, str]:
    seq, _, digest = text.strip().partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise ValueError(f"an anchor looks like 1234:<64 hex digits>, not {text!r}")
    return int(seq), digest.lower()


def verify_chain(
    db: Database,
    *,
    anchors: tuple[tuple[int, str], ...] = (),
    progress: Callable[[int, int], None] | None = None,
) -> ChainReport:
    """Walk the trail in sequence order. Reports the first row whose content does not match its hash
    (edited), whose sequence number skips (deleted), or whose link to its predecessor is broken
    (inserted or reordered), and any anchor taken from a printed report that no longer matches
    (which also catches a truncated tail)."""
    with db.read() as session:
        total = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        columns = [getattr(AuditEvent, name) for name in CHAIN_FIELDS] + [AuditEvent.hash]
        result = session.execute(select(*columns).order_by(AuditEvent.seq).execution_options(yield_per=_BATCH))
        return verify_rows((row._asdict() for row in result), anchors=anchors, progress=progress, total=total)


def verify_rows(
    rows: Iterable[dict[str, Any]],
    *,
    anchors: tuple[tuple[int, str], ...] = (),
    progress: Callable[[int, int], None] | None = None,
    total: int = 0,
) -> ChainReport:
    """The chain check over audit rows from anywhere (the live database, a backup, an archive), in seq order."""
    expected_anchor = dict(anchors)
    prev_hash, expected_seq, count, problem = GENESIS_HASH, 1, 0, None
    last_seq = 0
    for data in rows:
        count += 1
        seq = data["seq"]
        if problem is None:
            problem = _check_row(data, expected_seq, prev_hash)
            if problem is None and seq in expected_anchor and expected_anchor.pop(seq) != data["hash"]:
                problem = ChainProblem(seq, "anchor", "does not match the chain head printed on a report")
        prev_hash, expected_seq, last_seq = data["hash"], seq + 1, seq
        if progress is not None and count % _BATCH == 0:
            progress(count, total)
    if problem is None and expected_anchor:
        seq = min(expected_anchor)
        problem = ChainProblem(seq, "missing", f"row {seq} named by a printed anchor is gone (trail truncated)")
    if progress is not None:
        progress(count, total)
    return ChainReport(count=count, head_seq=last_seq, head_hash=prev_hash, problem=problem)


def _check_row(data: dict, expected_seq: int, prev_hash: str) -> ChainProblem | None:
    seq = data["seq"]
    if seq > expected_seq:
        missing = f"row {expected_seq}" if seq == expected_seq + 1 else f"rows {expected_seq}-{seq - 1}"
        return ChainProblem(expected_seq, "missing", f"{missing} deleted (sequence jumps to {seq})")
    if seq < expected_seq:
        return ChainProblem(seq, "inserted or reordered", "sequence number out of order")
    if compute_hash(data) != data["hash"]:
        return ChainProblem(seq, "edited", "content does not match its hash (edited, or moved from elsewhere)")
    if data["prev_hash"] != prev_hash:
        return ChainProblem(
            seq, "inserted or reordered",
            f"does not follow row {seq - 1} (inserted, reordered, or row {seq - 1} was rewritten)",
        )
    return None
