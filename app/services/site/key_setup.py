"""Key life cycle: the key file of a new site, adopting the QR key of a site from before keys left the
database, rotation, export and import — each act audited (the keys themselves never are). Also the site's
signing certificate (``app.services.core.pdfsign``): made with the keys of a new site, replaced by importing the
site's own certificate (PKCS#12, audited), and read by whatever signs an output."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from sqlalchemy import func, select

from app import buildinfo
from app.models import AuditEvent, Site
from app.services.core import audit, pdfsign
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, ValidationError
from app.services.core.keys import KEYRING_KEY, KeyRing, KeysMissing, fingerprint
from app.services.core.ondisk import write_private
from app.services.identity.permissions import Permission, allowed, require, require_any


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
    if not pdfsign.exists(db.keys.folder, code):  # the site's seal on reports and released PDFs, beside the keys
        pdfsign.store(db.keys.folder, code, pdfsign.create(code, now=db.clock.now()))
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


# -- the signing certificate -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class CertificateView:
    site: str
    info: pdfsign.CertificateInfo
    cert_path: Path
    key_path: Path
    retired: tuple[pdfsign.CertificateInfo, ...]  # certificates replaced by an import: still trusted for old files
    build: str = ""  # the build signing with it (SE-02), as report footers print it
    may_import: bool = False  # whether the actor may replace it (administrators)


def _folder(db: Database) -> Path:
    if db.keys is None:
        raise KeysMissing("no key folder is configured")
    return db.keys.folder


def signing_identity(db: Database) -> pdfsign.SigningIdentity:
    """The site's signing key and certificate. A site set up before outputs were signed gets its certificate
    made now, once, and the act is audited (no transaction may be open: this writes)."""
    folder, site = _folder(db), db.keyring().site
    if not pdfsign.exists(folder, site):
        pdfsign.store(folder, site, pdfsign.create(site, now=db.clock.now()))
        # Read back: when two workstations made one at the same moment, the one on disk is the site's.
        identity = pdfsign.load(folder, site)
        with db.write(audit_actor(), reason="signing certificate made for signed outputs") as session:
            audit.record_event(session, "CERTIFICATE_CREATED", entity="site", entity_id=site,
                               new=_cert_fields(identity.cert_pem))
        return identity
    return pdfsign.load(folder, site)


def seal_pdf(db: Database, path: Path, *, reason: str) -> float:
    """Sign the finished PDF at ``path`` with the site certificate (invisible PAdES B-B, an incremental update:
    a PDF/A stays PDF/A). For every service that writes a PDF, whatever its layer (reports, disposal
    certificates, the validation pack). No transaction may be open. Returns the seconds the signature took."""
    identity = signing_identity(db)
    started = time.perf_counter()
    pdfsign.sign_pdf_file(path, identity, reason=reason, location=db.keyring().site)
    return time.perf_counter() - started


def trusted_certificates(folder: Path, site: str) -> list[bytes]:
    """The site's certificate and those it replaced (PEM): files signed before an import still verify."""
    current = pdfsign.cert_path(folder, site)
    found = [current.read_bytes()] if current.exists() else []
    found += [p.read_bytes() for p in sorted(folder.glob(f"{site}.signing-cert.retired-*.pem"))]
    return found


def certificate(db: Database, actor: Actor) -> CertificateView:
    """The site's signing certificate: for those who manage it, and for those who check what it signed."""
    require_any(db, actor, Permission.MANAGE_SETTINGS, Permission.VIEW_DATA)
    folder, site = _folder(db), db.keyring().site
    identity = pdfsign.load(folder, site)
    retired = [pdfsign.describe(pem) for pem in trusted_certificates(folder, site)[1:]]
    return CertificateView(site=site, info=pdfsign.describe(identity.cert_pem),
                           cert_path=pdfsign.cert_path(folder, site), key_path=pdfsign.key_path(folder, site),
                           retired=tuple(retired), build=buildinfo.text(),
                           may_import=allowed(actor, Permission.MANAGE_SETTINGS))


def check_pdf(db: Database, actor: Actor, path: Path) -> pdfsign.SignatureCheck:
    """The signatures of the PDF at ``path`` checked against the site's certificates (current and replaced)."""
    view = certificate(db, actor)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror or exc}") from None
    return pdfsign.verify_pdf(data, trusted_certificates(view.cert_path.parent, view.site))


def import_certificate(db: Database, actor: Actor, source: Path, *, password: str | None,
                       reason: str) -> CertificateView:
    """Replace the site's signing certificate with its own (PKCS#12: key + certificate), audited. The replaced
    certificate is kept (retired) so that what it signed keeps verifying; its key is not kept."""
    require(db, actor, Permission.MANAGE_SETTINGS)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read {source}: {exc.strerror or exc}",
                              code=ErrorCode.CERTIFICATE_IMPORT_INVALID) from None
    identity = pdfsign.from_pkcs12(data, password)
    folder, site = _folder(db), db.keyring().site
    old = pdfsign.load(folder, site).cert_pem if pdfsign.exists(folder, site) else None
    if old is not None and old != identity.cert_pem:  # the same one again (a restored backup): nothing retires
        retired = folder / f"{site}.signing-cert.retired-{pdfsign.describe(old).sha256[:16]}.pem"
        write_private(retired, old)
    pdfsign.store(folder, site, identity)
    with db.write(actor, reason=reason) as session:
        audit.record_event(session, "CERTIFICATE_IMPORTED", entity="site", entity_id=site,
                           old=_cert_fields(old) if old else None, new=_cert_fields(identity.cert_pem))
    return certificate(db, actor)


def export_certificate(db: Database, actor: Actor, dest: Path, *, password: str, reason: str) -> Path:
    """The site's signing key and certificate as a password-protected PKCS#12 file (administrators; audited):
    its backup, kept apart from the data backups like the key file."""
    require(db, actor, Permission.MANAGE_SETTINGS)
    folder, site = _folder(db), db.keyring().site
    if dest.exists():
        raise ValidationError(f"{dest} already exists; export to a new file", code=ErrorCode.FILE_EXISTS)
    identity = pdfsign.load(folder, site)
    write_private(dest, pdfsign.to_pkcs12(identity, password, name=f"Formtrail site {site} signing"))
    with db.write(actor, reason=reason) as session:
        audit.record_event(session, "CERTIFICATE_EXPORTED", entity="site", entity_id=site,
                           new={"file": str(dest), **_cert_fields(identity.cert_pem)})
    return dest


def _cert_fields(pem: bytes) -> dict[str, str]:
    info = pdfsign.describe(pem)
    return {"subject": info.subject, "issuer": info.issuer, "sha256": info.sha256,
            "valid_until": info.not_after.date().isoformat()}
