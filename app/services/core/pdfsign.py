"""The site's signing certificate and the PAdES signatures it makes (reports, record copies, archives, released
controlled PDFs), checked again by ``archive verify`` and by any PDF reader.

The certificate is the site's seal, not a person's e-signature (those are Part 11 signatures, manifested in the
page content): it shows that a file came out of this site's Formtrail unchanged. Its key lives beside the
site's other keys, outside the data (``<keys>/<SITE>.signing-key.pem``, 0600) with the certificate beside it
(``<SITE>.signing-cert.pem``). Made for a new site as a self-signed ECDSA P-256 certificate (cheap to make, every
current reader verifies it); a site with a certificate from its own CA imports it as PKCS#12.

PDF signatures are PAdES B-B (ETSI.CAdES.detached), SHA-256, invisible (the people who signed are printed on
the pages; a visible widget would need a font that PDF/A wants embedded), added as an incremental update so the
PDF/A-2b file stays PDF/A. Files that are not PDF (an archive's manifest) get a detached CMS signature
(``.p7s``) that ``openssl cms -verify`` also checks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from asn1crypto import cms as asn1_cms
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:  # pyHanko is imported where a PDF is signed or checked: ~0.27 s every command would pay
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator import ValidationContext

from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, ValidationError
from app.services.core.ondisk import write_private

FIELD = "FormtrailSeal"
# pyHanko logs every untrusted signer with a traceback; the check names the problem itself.
logging.getLogger("pyhanko.sign.validation").setLevel(logging.CRITICAL)
VALID_YEARS = 30  # a self-signed seal outlives the records it seals (retention is often 10-25 years)


class SigningCertificateMissing(DomainError):
    default_code = ErrorCode.SIGNING_CERTIFICATE_MISSING


@dataclasses.dataclass(frozen=True)
class SigningIdentity:
    """The site's signing key and certificate (PEM)."""

    key_pem: bytes
    cert_pem: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)

    def signer(self) -> signers.SimpleSigner:
        from pyhanko.sign import signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        key = serialization.load_pem_private_key(self.key_pem, password=None)
        der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return signers.SimpleSigner(signing_cert=asn1_cert(self.cert_pem),
                                    signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
                                    cert_registry=SimpleCertificateStore())


@dataclasses.dataclass(frozen=True)
class CertificateInfo:
    subject: str
    issuer: str
    serial: str
    not_before: dt.datetime
    not_after: dt.datetime
    sha256: str  # fingerprint of the certificate (DER), hex
    self_signed: bool


def asn1_cert(pem: bytes) -> asn1_x509.Certificate:
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


def describe(cert_pem: bytes) -> CertificateInfo:
    cert = x509.load_pem_x509_certificate(cert_pem)
    der = cert.public_bytes(serialization.Encoding.DER)
    return CertificateInfo(subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
                           serial=format(cert.serial_number, "x"), not_before=cert.not_valid_before_utc,
                           not_after=cert.not_valid_after_utc, sha256=hashlib.sha256(der).hexdigest(),
                           self_signed=cert.issuer == cert.subject)


# -- where the certificate lives ------------------------------------------------------------------------------
def key_path(folder: Path, site: str) -> Path:
    return folder / f"{site}.signing-key.pem"


def cert_path(folder: Path, site: str) -> Path:
    return folder / f"{site}.signing-cert.pem"


def exists(folder: Path, site: str) -> bool:
    return key_path(folder, site).exists() and cert_path(folder, site).exists()


def load(folder: Path, site: str) -> SigningIdentity:
    try:
        return SigningIdentity(key_pem=key_path(folder, site).read_bytes(),
                               cert_pem=cert_path(folder, site).read_bytes())
    except FileNotFoundError:
        raise SigningCertificateMissing(
            f"the signing certificate of site {site} is missing from {folder}: reports and released PDFs cannot be "
            "signed. Import the site's certificate (`formtrail certificate import`) or copy the two "
            f"{site}.signing-*.pem files back from their backup") from None


def store(folder: Path, site: str, identity: SigningIdentity) -> None:
    """Write the key (owner only) and the certificate; the key first, so a crash never leaves a certificate whose
    key is another one's."""
    write_private(key_path(folder, site), identity.key_pem, folder_mode=0o700)
    write_private(cert_path(folder, site), identity.cert_pem, folder_mode=0o700)


def create(site: str, *, now: dt.datetime | None = None) -> SigningIdentity:
    """A new self-signed ECDSA P-256 certificate naming the site."""
    now = now or dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Formtrail site {site} signing"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"Formtrail site {site}")])
    usage = x509.KeyUsage(digital_signature=True, content_commitment=True, key_cert_sign=True, crl_sign=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))  # a workstation a little behind still accepts it
            .not_valid_after(now + dt.timedelta(days=365 * VALID_YEARS))
            # A CA flag lets readers take it as the trust anchor it is (its own root).
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return SigningIdentity(
        key_pem=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM))


def from_pkcs12(data: bytes, password: str | None) -> SigningIdentity:
    """The key and certificate of a PKCS#12 file; refused (CERTIFICATE_IMPORT_INVALID) unless they belong together
    and the certificate is valid now."""
    try:
        key, cert, _chain = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except ValueError as exc:
        raise ValidationError(f"the PKCS#12 file cannot be read (wrong password or not PKCS#12): {exc}",
                              code=ErrorCode.CERTIFICATE_IMPORT_INVALID) from None
    if key is None or cert is None:
        raise ValidationError("the PKCS#12 file must hold a private key and its certificate",
                              code=ErrorCode.CERTIFICATE_IMPORT_INVALID)
    public = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*public) != cert.public_key().public_bytes(*public):
        raise ValidationError("the private key in the PKCS#12 file is not the certificate's",
                              code=ErrorCode.CERTIFICATE_IMPORT_INVALID)
    now = dt.datetime.now(dt.UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise ValidationError(f"the certificate is not valid now (valid {cert.not_valid_before_utc:%Y-%m-%d} to "
                              f"{cert.not_valid_after_utc:%Y-%m-%d})", code=ErrorCode.CERTIFICATE_IMPORT_INVALID)
    return SigningIdentity(
        key_pem=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM))


def to_pkcs12(identity: SigningIdentity, password: str, *, name: str) -> bytes:
    """The key and certificate as a password-protected PKCS#12 file (its backup, or for another installation)."""
    if len(password) < 8:
        raise ValidationError("protect the exported key with a password of at least 8 characters",
                              code=ErrorCode.INVALID_INPUT)
    key = serialization.load_pem_private_key(identity.key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValidationError("the site's signing key cannot be exported as PKCS#12")
    return pkcs12.serialize_key_and_certificates(name.encode(), key, identity.certificate, None,
                                                 serialization.BestAvailableEncryption(password.encode()))


# -- signing ---------------------------------------------------------------------------------------------------
def sign_pdf(data: bytes, identity: SigningIdentity, *, reason: str, location: str = "") -> bytes:
    """``data`` with an invisible PAdES B-B signature added as an incremental update."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    meta = signers.PdfSignatureMetadata(field_name=_free_field(writer), subfilter=fields.SigSeedSubFilter.PADES,
                                        md_algorithm="sha256", reason=reason, location=location or None)
    out = signers.sign_pdf(writer, meta, signer=identity.signer())
    return out.getvalue()


def _free_field(writer: IncrementalPdfFileWriter) -> str:
    """A field name not taken yet (a file sealed again, say a released copy, gets a second signature)."""
    from pyhanko.sign import fields

    taken = {name for name, _value, _ref in fields.enumerate_sig_fields(writer)}
    name, n = FIELD, 1
    while name in taken:
        n += 1
        name = f"{FIELD}{n}"
    return name


def sign_pdf_file(path: Path, identity: SigningIdentity, *, reason: str, location: str = "") -> None:
    """Sign the PDF at ``path`` in place (a new file under a temporary name, then renamed over it)."""
    signed = sign_pdf(path.read_bytes(), identity, reason=reason, location=location)
    part = path.with_name(path.name + ".signing")
    part.write_bytes(signed)
    part.replace(path)


def sign_detached(data: bytes, identity: SigningIdentity) -> bytes:
    """A detached CMS (PKCS#7) signature over ``data``, DER."""
    signed = asyncio.run(identity.signer().async_sign_general_data(data, "sha256", detached=True))
    return bytes(signed.dump())


# -- checking --------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SignatureCheck:
    """What the check of one file's signatures found: ``problems`` empty means every signature is intact,
    covers the whole file (nothing added after the last one) and was made by the expected certificate."""

    signatures: int
    signers: tuple[str, ...]  # subject of each signer certificate
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.signatures > 0 and not self.problems


def _context(trusted: Sequence[bytes]) -> ValidationContext:
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(trust_roots=[asn1_cert(pem) for pem in trusted], allow_fetching=False)


def _by_site(cert: asn1_x509.Certificate | None, trusted: Sequence[bytes]) -> bool:
    return cert is not None and hashlib.sha256(cert.dump()).hexdigest() in {describe(p).sha256 for p in trusted}


def verify_pdf(data: bytes, trusted: Sequence[bytes]) -> SignatureCheck:
    """Check every signature of a PDF: intact, valid, covering the file, and made with one of the ``trusted``
    certificates (PEM: the site's, the trust roots; empty: only intact and valid)."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError) as exc:
        return SignatureCheck(0, (), (f"not a readable PDF ({exc})",))
    if not embedded:
        return SignatureCheck(0, (), ("not signed",))
    problems: list[str] = []
    subjects = []
    for index, sig in enumerate(embedded, start=1):
        label = f"signature {index} ({sig.field_name})"
        cert = sig.signer_cert
        subjects.append(cert.subject.human_friendly if cert is not None else "?")
        try:
            status = validate_pdf_signature(sig, _context(trusted))
        except (SignatureValidationError, PdfError, ValueError) as exc:
            problems.append(f"{label}: cannot be validated ({exc})")
            continue
        if not status.intact:
            problems.append(f"{label}: BROKEN, the signed bytes were changed after signing")
        elif not status.valid:
            problems.append(f"{label}: INVALID, the signature value does not verify")
        elif trusted and not _by_site(cert, trusted):
            problems.append(f"{label}: not signed by the site certificate (signer: {subjects[-1]})")
        elif trusted and not status.trusted:
            problems.append(f"{label}: the signer certificate is not trusted")
    last = embedded[-1]
    if last.coverage is not None and last.coverage.name != "ENTIRE_FILE":
        problems.append("bytes were added after the last signature (the file was changed after signing)")
    return SignatureCheck(len(embedded), tuple(subjects), tuple(problems))


def verify_detached(data: bytes, signature: bytes, trusted: Sequence[bytes]) -> tuple[str, ...]:
    """The problems of a detached CMS signature over ``data`` (empty: valid, and by a trusted certificate)."""
    from pyhanko.sign.validation import async_validate_detached_cms
    from pyhanko.sign.validation.errors import SignatureValidationError

    try:
        content = asn1_cms.ContentInfo.load(signature)
        status = asyncio.run(async_validate_detached_cms(data, content["content"],
                                                         signer_validation_context=_context(trusted)))
    except (ValueError, TypeError, KeyError, SignatureValidationError) as exc:
        return (f"the signature cannot be read ({exc})",)
    if not status.intact:
        return ("BROKEN, the signed file was changed after signing",)
    if not status.valid:
        return ("INVALID, the signature value does not verify",)
    if trusted and not _by_site(status.signing_cert, trusted):
        return (f"not signed by the site certificate (signer: {status.signing_cert.subject.human_friendly})",)
    if trusted and not status.trusted:
        return ("the signer certificate is not trusted",)
    return ()
