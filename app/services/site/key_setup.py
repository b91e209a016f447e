"""Key life cycle: the key file of a new site, adopting the QR key of a site from before keys left the
database, rotation, export and import — each act audited (the keys themselves never are)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import func, select

from app.models import AuditEvent, Site
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.errors import DomainError
from app.services.core.keys import KEYRING_KEY, KeyRing, KeysMissing, fingerprint
from app.services.identity.permissions import Permission, require


@dataclasses.dataclass(frozen=True)
class KeyInfo:
    site: str
    current: int
    versions: tuple[tuple[int, str], ...]  # (version, created at)
    fingerprint: str
    path: Path


def adopt_legacy_key(db: Database) -> None:
    """A site set up before keys left the database has its QR key in the site table and no key file: move
    the key into a new key file (version 1, so printed forms keep verifying), start version 2 for everything
    new, and blank the column. Never done when keyed audit rows exist: then a missing key file is a loss to
    report, not something to recreate."""
    if db.keys is None:
        return
    with db.read() as session:
        site = session.scalar(select(Site))
        if site is None or db.keys.exists(site.code) or not site.qr_key:
            return
        keyed = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.key_version.is_not(None)))
        code, old_key = site.code, bytes.fromhex(site.qr_key)
    if keyed:
        return  # the key file was lost: KeysMissing will say so at the first act that needs it
    db.keys.create(code, qr_key=old_key)
    ring = db.keys.rotate(code)
    with db.write(audit_actor(), reason="keys moved out of the database") as session:
        session.info[KEYRING_KEY] = lambda: ring
        site = session.scalar(select(Site))
        if site is None:  # it was read above; a site row is never deleted
            raise DomainError("the site disappeared while its key was being moved out of the database")
        site.qr_key = ""  # redacted in the trail; it stays valid (as key version 1) for forms printed before
        audit.record_event(session, "KEYS_INSTALLED", entity="site", entity_id=code,
                           new={"versions": sorted(ring.versions), "current": ring.current,
                                "fingerprint": fingerprint(ring)})


def create_for_new_site(db: Database, code: str) -> KeyRing:
    """The key file of a site being set up (before its first audit event, which it keys). One left by a set-up
    that failed after creating it is used again, never replaced."""
    if db.keys is None:
        raise KeysMissing("no key folder is configured")
    if db.keys.exists(code):
        return db.keys.ring(code)
    return db.keys.create(code)


def audit_actor() -> Actor:
    return Actor.system("formtrail keys")


def info(db: Database, actor: Actor) -> KeyInfo:
    require(db, actor, Permission.MANAGE_SETTINGS)
    ring = db.keyring()
    assert db.keys is not None
    return KeyInfo(site=ring.site, current=ring.current,
                   versions=tuple((n, v.created_at) for n, v in sorted(ring.versions.items())),
                   fingerprint=fingerprint(ring), path=db.keys.path(ring.site))


def rotate(db: Database, actor: Actor, *, reason: str) -> KeyInfo:
    """A new key version for everything signed from now on (administrators; audited)."""
    require(db, actor, Permission.MANAGE_SETTINGS)
    before = db.keyring()
    assert db.keys is not None
    ring = db.keys.rotate(before.site)
    with db.write(actor, reason=reason) as session:
        audit.record_event(session, "KEYS_ROTATED", entity="site", entity_id=ring.site,
                           old={"current": before.current}, new={"current": ring.current,
                                                                 "fingerprint": fingerprint(ring)})
    return info(db, actor)


def export(db: Database, actor: Actor, dest: Path, *, reason: str) -> Path:
    require(db, actor, Permission.MANAGE_SETTINGS)
    ring = db.keyring()
    assert db.keys is not None
    if dest.exists():
        raise KeysMissing(f"{dest} already exists; export the keys to a new file") from None
    db.keys.export(ring.site, dest)
    with db.write(actor, reason=reason) as session:
        audit.record_event(session, "KEYS_EXPORTED", entity="site", entity_id=ring.site,
                           new={"file": str(dest), "fingerprint": fingerprint(ring)})
    return dest
