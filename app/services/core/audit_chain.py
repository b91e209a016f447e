"""Recompute the audit trail's hash chain and name the first row that does not fit."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from sqlalchemy import func, select

from app.models import AuditEvent
from app.services.core.audit import CHAIN_FIELDS, GENESIS_HASH, ROW_FIELDS, iso_utc
from app.services.core.db import Database
from app.services.core.keys import KeyRing

_BATCH = 20_000
__all__ = ["CHAIN_FIELDS", "ChainProblem", "ChainReport", "parse_anchor", "verify_chain", "verify_rows"]


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
    # False when keyed rows were met without the site's keys: only sequence and links were checked.
    keys_checked: bool = True

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
    """Walk the trail in sequence order. Reports the first row whose content does not match its keyed hash
    (edited, or forged without the key), whose sequence number skips (deleted), or whose link to its
    predecessor is broken (inserted or reordered), and any anchor (from a printed report, the file store, a
    backup) that no longer matches, which also catches a truncated tail."""
    ring = db.keyring()
    columns = ", ".join(ROW_FIELDS) + ", hash"
    with db.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(AuditEvent)).scalar() or 0
        if db.dialect == "sqlite":
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            cursor.execute(f"SELECT {columns} FROM audit_event ORDER BY seq")
            batches = iter(lambda: cursor.fetchmany(_BATCH), [])
        else:
            result = conn.exec_driver_sql(f"SELECT {columns} FROM audit_event ORDER BY seq").yield_per(_BATCH)
            batches = result.partitions()
        return _verify_tuples(batches, ring, anchors=anchors, progress=progress, total=total)


def verify_rows(
    rows: Iterable[dict[str, Any]],
    *,
    ring: KeyRing | None,
    anchors: tuple[tuple[int, str], ...] = (),
    progress: Callable[[int, int], None] | None = None,
    total: int = 0,
) -> ChainReport:
    """The chain check over audit rows from anywhere (a backup, an archive), in seq order. Without the site's
    keys (``ring`` None) only the sequence and the links of keyed rows are checked (``keys_checked`` False)."""
    def batches() -> Iterator[list[tuple[Any, ...]]]:
        batch = []
        for data in rows:
            batch.append(tuple(data.get(name) for name in ROW_FIELDS) + (data["hash"],))
            if len(batch) >= _BATCH:
                yield batch
                batch = []
        if batch:
            yield batch
    return _verify_tuples(batches(), ring, anchors=anchors, progress=progress, total=total)


def _verify_tuples(batches: Iterable[Sequence[tuple[Any, ...]]], ring: KeyRing | None, *,
                   anchors: tuple[tuple[int, str], ...], progress: Callable[[int, int], None] | None,
                   total: int) -> ChainReport:
    """The hot loop (hundreds of thousands of rows a second): rows as tuples in ROW_FIELDS order + hash."""
    expected_anchor = dict(anchors)
    keys: dict[int, Callable[[bytes], str]] = {}
    prev_hash, expected_seq, count, problem = GENESIS_HASH, 1, 0, None
    keyed_from: int | None = None
    unkeyed = False
    encode = _fast_json
    sha256 = hashlib.sha256
    for batch in batches:
        for row in batch:
            count += 1
            seq, given, version = row[0], row[15], row[14]
            if problem is None:
                if seq != expected_seq:
                    problem = _sequence_problem(seq, expected_seq)
                else:
                    when = row[1]
                    when = f"{when[:10]}T{when[11:]}+00:00" if isinstance(when, str) else iso_utc(when)
                    payload = [seq, when, *row[2:14]]
                    if version is None:
                        if keyed_from is not None:
                            problem = ChainProblem(seq, "forged", f"an unkeyed row after the keyed rows that begin "
                                                                  f"at {keyed_from}: written without the site's key")
                        computed = sha256(encode(payload).encode("utf-8")).hexdigest()
                    else:
                        keyed_from = keyed_from or seq
                        payload.append(version)
                        mac = keys.get(version)
                        if mac is None and ring is not None:
                            mac = keys[version] = _hmac_hex(ring.key("chain", version))
                        if mac is None:  # no key file here (an archive read elsewhere): links only
                            unkeyed, computed = True, given
                        else:
                            computed = mac(encode(payload).encode("utf-8"))
                    if problem is not None:
                        pass
                    elif computed != given:
                        problem = ChainProblem(seq, "edited", "content does not match its keyed hash (edited, "
                                                              "forged without the key, or moved from elsewhere)")
                    elif row[13] != prev_hash:
                        problem = ChainProblem(seq, "inserted or reordered",
                                               f"does not follow row {seq - 1} (inserted, reordered, or row "
                                               f"{seq - 1} was rewritten)")
                    elif seq in expected_anchor and expected_anchor.pop(seq) != given:
                        problem = ChainProblem(seq, "anchor", "does not match an anchor of the chain head kept "
                                                              "outside the database (history rewritten)")
            prev_hash, expected_seq = given, seq + 1
        if progress is not None:
            progress(count, total)
    if problem is None and expected_anchor:
        seq = min(expected_anchor)
        problem = ChainProblem(seq, "missing", f"rows {expected_seq}-{max(expected_anchor)} named by an anchor kept "
                                               "outside the database are gone (trail truncated)")
    return ChainReport(count=count, head_seq=expected_seq - 1, head_hash=prev_hash, problem=problem,
                       keys_checked=not unkeyed)


def _hmac_hex(key: bytes) -> Callable[[bytes], str]:
    """HMAC-SHA256 with the key's inner and outer states computed once: the same digest as ``hmac``, in half
    the time per row (verification is bound by this)."""
    block = key.ljust(64, b"\0") if len(key) <= 64 else hashlib.sha256(key).digest().ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def mac(message: bytes) -> str:
        first = inner.copy()
        first.update(message)
        second = outer.copy()
        second.update(first.digest())
        return second.hexdigest()
    return mac


def _no_default(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not part of an audit row")


_json_chunks = c_make_encoder(None, _no_default, encode_basestring, None, ":", ",", False, False, True)


def _fast_json(payload: list[Any]) -> str:
    """``canonical_json`` without JSONEncoder's per-call set-up (identical output, checked by a test)."""
    return "".join(_json_chunks(payload, 0))


def _sequence_problem(seq: int, expected_seq: int) -> ChainProblem:
    if seq > expected_seq:
        missing = f"row {expected_seq}" if seq == expected_seq + 1 else f"rows {expected_seq}-{seq - 1}"
        return ChainProblem(expected_seq, "missing", f"{missing} deleted (sequence jumps to {seq})")
    return ChainProblem(seq, "inserted or reordered", "sequence number out of order")
