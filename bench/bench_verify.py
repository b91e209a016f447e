"""`audit verify` over 1,000,000 events."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from app.models import AuditEvent
from app.services.core import audit_chain
from app.services.core.audit import compute_hash
from bench.common import Row, site


def fill(db, total: int) -> None:  # noqa: ANN001
    """Append ``total`` well-formed keyed events after the existing chain (fast: Core inserts, no ORM)."""
    head_seq, head_hash = audit_chain.verify_chain(db).head_seq, audit_chain.verify_chain(db).head_hash
    ring = db.keyring()
    key = ring.key("chain")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    seq, prev = head_seq, head_hash
    batch = []
    with db.engine.begin() as conn:
        for i in range(total):
            seq += 1
            row = dict(seq=seq, occurred_at=start + dt.timedelta(milliseconds=i), user_id=2, username="dc",
                       full_name="Dora Control", workstation="BENCH", action="UPDATE", entity="issued_form",
                       entity_id=f"{i % 100000:06d}", field="state", old_value="issued", new_value="returned",
                       reason="all pages scanned and linked", prev_hash=prev, key_version=ring.current)
            row["hash"] = prev = compute_hash(row, key)
            batch.append(row)
            if len(batch) == 20000:
                conn.execute(insert(AuditEvent), batch)
                batch.clear()
        if batch:
            conn.execute(insert(AuditEvent), batch)


def run(total: int = 1_000_000) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        db, _seed = site(Path(tmp), with_template=None)
        fill(db, total)
        start = time.perf_counter()
        report = audit_chain.verify_chain(db)
        elapsed = time.perf_counter() - start
        assert report.ok, report.problem
        db.engine.dispose()
    return [Row("audit chain verify (keyed), 1,000,000 events", report.count / elapsed, "events/s",
                f"{elapsed:.1f} s for {report.count:,} events (SQLite); goal >= 200,000")]


def main() -> None:
    for row in run():
        print(f"{row.name}: {row.figure:,.0f} {row.unit} ({row.detail})")


if __name__ == "__main__":
    main()
