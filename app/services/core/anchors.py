"""Anchors of the audit chain kept outside the database: a keyed chain proves no row was rewritten, but a
trail cut short after row N is still a valid chain. An anchor records "the trail had reached row N with hash
H at time T"; a later trail that stops before N, or holds another hash at N, is named by ``formtrail verify``.

Anchors are written, each one keyed (so a hand-edited anchor is refused rather than believed):
* to ``ledger/anchors-<site>.jsonl`` in the file store, after a write when the last anchor is older than
  ``ANCHOR_EVERY`` (so at least every 10 minutes of activity), and whenever a backup is taken;
* into every backup manifest and on every printed report (the chain head);
* optionally to an append-only file the site names (setting ``integrity.anchor_file``), e.g. on another
  server or a WORM share.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select

from app.models import AuditEvent
from app.services.core.keys import KeyRing
from app.services.core.ledger import ledger_folder

ANCHOR_EVERY = dt.timedelta(minutes=10)


@dataclasses.dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: str  # ISO UTC time the anchor was taken
    workstation: str
    source: str  # where it was found (file name, backup folder)
    genuine: bool  # its own MAC verifies under the site's anchor key


def anchor_name(site: str) -> str:
    return f"anchors-{site}.jsonl"


def anchor_file(files_root: Path, site: str) -> Path:
    return ledger_folder(files_root) / anchor_name(site)


def _line(ring: KeyRing, seq: int, digest: str, at: str, workstation: str) -> str:
    body = {"seq": seq, "hash": digest, "at": at, "workstation": workstation, "key_version": ring.current}
    body["mac"] = ring.mac("anchor", f"{seq}:{digest}:{at}:{workstation}".encode(), ring.current)
    return json.dumps(body, sort_keys=True)


def write(ring: KeyRing, files_root: Path, *, seq: int, digest: str, workstation: str,
          extra: Path | None = None) -> None:
    """Append an anchor of the chain head ``seq:digest`` to the file store (and to ``extra``)."""
    if seq == 0:
        return
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    line = _line(ring, seq, digest, at, workstation) + "\n"
    for path in (anchor_file(files_root, ring.site), *([extra] if extra else [])):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)


def last_written(files_root: Path, site: str) -> dt.datetime | None:
    """When the store's anchor file was last appended to (its modification time)."""
    try:
        return dt.datetime.fromtimestamp(anchor_file(files_root, site).stat().st_mtime, dt.UTC)
    except FileNotFoundError:
        return None


def read(ring: KeyRing, path: Path) -> Iterator[Anchor]:
    """The anchors of a file; a line that is damaged or whose MAC does not verify is returned as not genuine."""
    with contextlib.suppress(FileNotFoundError), path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                data = json.loads(line)
                seq, digest = int(data["seq"]), str(data["hash"])
                at, station = str(data["at"]), str(data["workstation"])
                genuine = ring.check("anchor", f"{seq}:{digest}:{at}:{station}".encode(), str(data["mac"]),
                                     int(data["key_version"]))
            except (ValueError, KeyError, TypeError):
                yield Anchor(0, "", "", "", str(path), False)
                continue
            yield Anchor(seq, digest, at, station, str(path), genuine)


def maybe_write(db, *, force: bool = False) -> None:  # noqa: ANN001 - Database (imported by db itself)
    """After a committed write: anchor the chain head in the file store if the last anchor is older than
    ANCHOR_EVERY. Never raises: a store that cannot be written must not undo the work just committed (the
    next write tries again, and `verify` reports a trail longer than its newest anchor only as a warning)."""
    with contextlib.suppress(Exception):
        ring = db.keyring()
        root = db.files.root
        last = last_written(root, ring.site)
        now = dt.datetime.now(dt.UTC)
        if not force and last is not None and now - last < ANCHOR_EVERY:
            return
        with db.engine.connect() as conn:
            row = conn.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
        if row is not None:
            write(ring, root, seq=row.seq, digest=row.hash, workstation=db.workstation,
                  extra=_site_anchor_file(db))


def _site_anchor_file(db) -> Path | None:  # noqa: ANN001
    from app.services.core import setting_specs as settings  # not settings: it imports the database layer
    with db.read() as session:
        value = settings.get(session, "integrity.anchor_file")
    return Path(value) if value else None
