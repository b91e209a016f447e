"""Serials are never issued twice: one issuer at a time, and a high-water mark kept outside the database.

**One issuer at a time.** Numbering, rendering and recording an issuance must see one serial counter, but the
rendering (seconds for thousands of pages) must not hold the database's write lock, or every other user's
log-in, import and entry waits behind it. So issuers take a lock of their own first: an advisory lock on the
PostgreSQL server (released by the server if the workstation dies), or an OS file lock beside the SQLite file
(released by the OS if the process dies). Under it they read the counter, render, and commit in a short
transaction that checks the counter did not move.

**A high-water mark outside the data.** A restored database brings back an old counter, while the paper
issued after the backup point exists. Every issuance first raises a mark in the file store (which a restore
never rolls back), so a restore can move the counter past every serial ever released.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.services.core.db import Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError
from app.services.core.ledger import ledger_folder
from app.services.core.ondisk import advisory_key, try_lock, unlock, write_private

LOCK_WAIT_S = 600.0
_POLL_S = 0.05
_LOCAL = threading.Lock()  # an in-memory database has no file to lock


class IssuerBusy(DomainError):
    """Another issuer held the serial lock for longer than we could wait."""

    default_code = ErrorCode.ISSUER_BUSY


@contextlib.contextmanager
def issuing(db: Database, *, wait_s: float = LOCK_WAIT_S,
            waiting: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the site's issuing lock for the block; ``waiting()`` is called once if another issuer has it."""
    if db.dialect == "postgresql":
        with _advisory(db, "issuing", wait_s=wait_s, waiting=waiting):
            yield
        return
    database = make_url(db.engine.url).database
    if not database or database == ":memory:":
        with _LOCAL:
            yield
        return
    with _file_lock(Path(f"{database}.issuing.lock"), wait_s=wait_s, waiting=waiting):
        yield


@contextlib.contextmanager
def _advisory(db: Database, name: str, *, wait_s: float, waiting: Callable[[], None] | None) -> Iterator[None]:
    key = advisory_key(f"formtrail:{name}".encode())
    with db.engine.connect() as conn:  # a session of its own: the lock lives as long as this connection
        deadline = time.monotonic() + wait_s
        told = False
        while not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            conn.rollback()
            if not told and waiting is not None:
                waiting()
                told = True
            if time.monotonic() > deadline:
                raise IssuerBusy(f"another workstation has been issuing for more than {wait_s:.0f} s; try again")
            time.sleep(_POLL_S)
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


@contextlib.contextmanager
def _file_lock(path: Path, *, wait_s: float, waiting: Callable[[], None] | None) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_s
        told = False
        while not try_lock(fd):
            if not told and waiting is not None:
                waiting()
                told = True
            if time.monotonic() > deadline:
                raise IssuerBusy(f"another program has been issuing for more than {wait_s:.0f} s; try again")
            time.sleep(_POLL_S)
        try:
            yield
        finally:
            unlock(fd)
    finally:
        os.close(fd)


# -- the high-water mark ---------------------------------------------------------------------------------------

def mark_path(files_root: Path, site_code: str) -> Path:
    return ledger_folder(files_root) / f"serials-{site_code}.json"


def high_water(files_root: Path, site_code: str) -> int:
    """The highest serial number ever issued at the site as recorded in the file store (0 if none)."""
    try:
        data = json.loads(mark_path(files_root, site_code).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return 0
    except (OSError, ValueError) as exc:
        raise DomainError(f"the serial high-water mark {mark_path(files_root, site_code)} cannot be read ({exc}); "
                          "restore it from the file store's backup before issuing") from exc
    return int(data.get("last_serial", 0))


def raise_high_water(files_root: Path, site_code: str, last_serial: int, *, workstation: str) -> None:
    """Record that serials up to ``last_serial`` are (about to be) issued. Called under the issuing lock,
    BEFORE the issuing transaction commits: a mark that runs ahead of the database only ever skips numbers
    after a restore (and the restore report names them); one that lagged behind would let a serial repeat."""
    if last_serial <= high_water(files_root, site_code):
        return
    body = json.dumps({"site": site_code, "last_serial": last_serial, "workstation": workstation,
                       "updated_at": dt.datetime.now(dt.UTC).isoformat()}, sort_keys=True)
    write_private(mark_path(files_root, site_code), body.encode("utf-8"))
