"""QR tags under the site's key file: which key version tags an issuance's codes, and checking a code's tag
against every version (a code does not say which one made it)."""

from __future__ import annotations

from app.forms.layout import payload as qr_payload
from app.models import Issuance
from app.services.core.keys import KeyRing

# Issuances from before keys left the database were tagged with the site table's key, which became version 1.
LEGACY_VERSION = 1


def version_of(issuance: Issuance) -> int:
    return issuance.key_version or LEGACY_VERSION


def key_for(ring: KeyRing, issuance: Issuance) -> bytes:
    return ring.key("qr", version_of(issuance))


def verify_any(ring: KeyRing, text: str) -> tuple[qr_payload.Payload, int]:
    """The payload and the key version whose key makes its tag; PayloadError if none does (a forged code)."""
    error: qr_payload.PayloadError | None = None
    for version, key in ring.keys_for("qr"):
        try:
            return qr_payload.verify(text, key), version
        except qr_payload.PayloadError as exc:
            error = exc
    assert error is not None
    raise error
