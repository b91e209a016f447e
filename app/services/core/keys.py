"""The site's secret keys, kept outside the data: a key file, not a database column.

Whoever holds a copy of the database (or of a data backup) and the source code must not be able to mint a
valid QR code, rewrite the audit chain, move a signature or re-sign a backup manifest. So every such tag is an
HMAC under a key that lives in its own file (0600, in a 0700 folder), which is never part of a data backup and
has its own export (``formtrail keys export``).

A key *version* holds one random secret; each purpose (``qr``, ``chain``, ``signature``, ``anchor``,
``backup``) uses a key derived from it. Rotating adds a version: new tags use it, older ones keep verifying
with theirs. Version 1 of a site created before keys left the database keeps that site's old QR key for the
``qr`` purpose, so every form printed earlier still verifies.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import secrets
from pathlib import Path
from typing import Any

from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError
from app.services.core.ondisk import write_private

PURPOSES = ("qr", "chain", "signature", "anchor", "backup")
KEYRING_KEY = "formtrail.keyring"  # session.info: a callable giving the site's KeyRing


class KeysMissing(DomainError):
    """The key file of the site is not where it is expected: nothing that needs a key can be done or checked."""

    default_code = ErrorCode.KEYS_MISSING


@dataclasses.dataclass(frozen=True)
class KeyVersion:
    number: int
    secret: bytes
    created_at: str
    explicit: dict[str, bytes] = dataclasses.field(default_factory=dict)  # purpose -> key (the old QR key)

    def key(self, purpose: str) -> bytes:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown key purpose {purpose!r}")
        if purpose in self.explicit:
            return self.explicit[purpose]
        return hmac.digest(self.secret, f"formtrail/{purpose}".encode(), "sha256")


@dataclasses.dataclass(frozen=True)
class KeyRing:
    site: str
    current: int
    versions: dict[int, KeyVersion]

    def key(self, purpose: str, version: int | None = None) -> bytes:
        number = self.current if version is None else version
        try:
            return self.versions[number].key(purpose)
        except KeyError:
            raise KeysMissing(f"key version {number} of site {self.site} is not in the key file; copy the key file "
                              "that holds it (a `formtrail keys export` copy) back into the key folder") from None

    def mac(self, purpose: str, data: bytes, version: int | None = None) -> str:
        """Hex HMAC-SHA256 of ``data`` under the purpose's key (the current version unless given)."""
        return hmac.digest(self.key(purpose, version), data, "sha256").hex()

    def check(self, purpose: str, data: bytes, tag: str, version: int) -> bool:
        if version not in self.versions:
            return False
        return hmac.compare_digest(self.mac(purpose, data, version), tag)

    def keys_for(self, purpose: str) -> list[tuple[int, bytes]]:
        """(version, key) of every version, newest first (for tags that do not say their version)."""
        return [(n, self.versions[n].key(purpose)) for n in sorted(self.versions, reverse=True)]


class KeyStore:
    """The folder that holds the key files (one per site): ``<data directory>/keys`` unless configured."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cache: dict[str, KeyRing] = {}

    def path(self, site: str) -> Path:
        return self.folder / f"{site}.keys.json"

    def exists(self, site: str) -> bool:
        return self.path(site).exists()

    def ring(self, site: str) -> KeyRing:
        ring = self._cache.get(site)
        if ring is None:
            ring = self._cache[site] = self._load(site)
        return ring

    def _load(self, site: str) -> KeyRing:
        path = self.path(site)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeysMissing(
                f"the key file of site {site} is missing ({path}). Without it no form can be issued or "
                "verified and the audit trail cannot be checked. Copy it back from its own backup (the file "
                f"`formtrail keys export` wrote) to {path}, or point FORMTRAIL_KEYS at the folder that holds "
                "it.") from None
        except (OSError, ValueError) as exc:
            raise KeysMissing(f"the key file {path} cannot be read ({exc}); restore it from its backup") from exc
        if data.get("site") != site:
            raise KeysMissing(f"{path} holds the keys of site {data.get('site')!r}, not {site!r}")
        return _ring_from(site, data)

    def create(self, site: str, *, qr_key: bytes | None = None) -> KeyRing:
        """The first key version of a new site (``qr_key``: the QR key a site already prints with)."""
        if self.exists(site):
            raise DomainError(f"site {site} already has a key file ({self.path(site)}); it is never replaced")
        version = _new_version(1, explicit={"qr": qr_key} if qr_key else {})
        ring = KeyRing(site=site, current=1, versions={1: version})
        self._write(ring)
        return ring

    def rotate(self, site: str) -> KeyRing:
        """Add a version and make it current; earlier versions stay for what they signed."""
        ring = self.ring(site)
        number = max(ring.versions) + 1
        rotated = KeyRing(site=site, current=number, versions={**ring.versions, number: _new_version(number)})
        self._write(rotated)
        return rotated

    def export(self, site: str, dest: Path) -> Path:
        """A copy of the key file (0600): keep it apart from the data backups."""
        self.ring(site)  # readable and for this site
        write_private(dest, self.path(site).read_bytes())
        return dest

    def import_file(self, site: str, source: Path) -> KeyRing:
        """Install a key file exported earlier; an existing one is only ever extended, never replaced."""
        data = json.loads(source.read_text(encoding="utf-8"))
        if data.get("site") != site:
            raise DomainError(f"{source} holds the keys of site {data.get('site')!r}, not {site!r}")
        incoming = _ring_from(site, data)
        if not self.exists(site):
            self._write(incoming)
            return incoming
        current = self.ring(site)
        for number, version in incoming.versions.items():
            known = current.versions.get(number)
            if known is not None and known.secret != version.secret:
                raise DomainError(f"{source} has a different key version {number} than this site: refused")
        # Extended: versions made since the export (a rotation) stay, and so does the newer current one.
        merged = KeyRing(site=site, current=max(current.current, incoming.current),
                         versions={**incoming.versions, **current.versions})
        self._write(merged)
        return merged

    def _write(self, ring: KeyRing) -> None:
        body = {"site": ring.site, "current": ring.current, "versions": {
            str(n): {"secret": v.secret.hex(), "created_at": v.created_at,
                     **({"explicit": {k: key.hex() for k, key in v.explicit.items()}} if v.explicit else {})}
            for n, v in sorted(ring.versions.items())}}
        write_private(self.path(ring.site), json.dumps(body, indent=1).encode(), folder_mode=0o700)
        self._cache[ring.site] = ring


def _ring_from(site: str, data: dict[str, Any]) -> KeyRing:
    versions = {
        int(number): KeyVersion(number=int(number), secret=bytes.fromhex(entry["secret"]),
                                created_at=entry.get("created_at", ""),
                                explicit={k: bytes.fromhex(v) for k, v in entry.get("explicit", {}).items()})
        for number, entry in data["versions"].items()
    }
    return KeyRing(site=site, current=int(data["current"]), versions=versions)


def _new_version(number: int, *, explicit: dict[str, bytes] | None = None) -> KeyVersion:
    return KeyVersion(number=number, secret=secrets.token_bytes(32),
                      created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                      explicit=explicit or {})


def fingerprint(ring: KeyRing) -> str:
    """A short public name of the current key version (shown by `keys list`, never enough to forge)."""
    digest = hashlib.sha256(ring.key("anchor")).digest()
    return f"v{ring.current}:" + base64.b32encode(digest).decode()[:10]


def ring_of(session: Any) -> KeyRing:
    """The site's keys from inside a session opened by ``Database.read``/``write``."""
    provider = session.info.get(KEYRING_KEY)
    if provider is None:
        raise KeysMissing("no key folder is configured for this database session")
    return provider()
