"""Helpers for the signed-outputs tests: a signed record to print, page texts, a PKCS#12 file, and what a
standard reader (poppler's ``pdfsig``) says about a PDF's signatures."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pypdfium2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from app.models import SignatureMeaning as M
from app.services.records import records
from app.services.scans import intake
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.records import fill, verify_critical
from tests.helpers.scans import issued_page_images, write
from tests.helpers.seed import PASSWORD

DPI = 150


def signed_record(seed, tmp_path: Path):  # noqa: ANN001, ANN201 - the seed fixture's Seed, an IssuanceResult
    """QC-WS-014 issued twice; the first copy scanned back, filled in, verified and signed as reviewed by QA."""
    effective_template(seed)
    form = issue(seed, copies=2)
    image = issued_page_images(seed.db, form.pdf_sha256, dpi=DPI)[0]
    back = write(tmp_path / "in", "back.png", sl.png_bytes(sl.scanned(image), dpi=DPI))
    assert intake.import_files(seed.db, seed.op, [back]).linked == 1
    serial = form.serials[0]
    fill(seed, serial)
    verify_critical(seed, serial)
    records.sign_record(seed.db, seed.qa, serial=serial, meaning=M.REVIEWED, username="qa", password=PASSWORD)
    return form


def page_texts(path: Path) -> list[str]:
    """The text of each page, as a reader extracts it (pdfium)."""
    doc = pypdfium2.PdfDocument(str(path))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def pkcs12_file(path: Path, *, common_name: str, password: str) -> bytes:
    """A PKCS#12 file with a new key and a certificate from a small CA of its own; returns the certificate PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"site", key, cert, None, serialization.BestAvailableEncryption(password.encode())))
    return cert.public_bytes(serialization.Encoding.PEM)


def pdfsig_available() -> bool:
    return shutil.which("pdfsig") is not None and shutil.which("certutil") is not None


def pdfsig(pdf: Path, trusted_pem: bytes, work: Path) -> str:
    """What poppler's ``pdfsig`` reports, with ``trusted_pem`` as the one trusted certificate (its own NSS db)."""
    nss = work / "nss"
    if not nss.exists():
        nss.mkdir(parents=True)
        (work / "trusted.pem").write_bytes(trusted_pem)
        subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
        subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "site", "-t", "CT,C,C", "-i",
                        str(work / "trusted.pem")], check=True, capture_output=True)
    done = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], capture_output=True, text=True, check=False)
    return done.stdout + done.stderr
