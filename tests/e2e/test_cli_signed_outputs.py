"""Signed outputs through the real command line: `init` makes the site certificate, `certificate show|check`,
`--version` names the build (SE-02), and `archive verify` names a changed byte in a signed archive (BK-04)."""

from __future__ import annotations

import io

import pytest

from app import buildinfo
from app.forms.render.report import ReportMeta, Text, render_report
from app.services.core import pdfsign
from app.services.reports import archive
from tests.helpers.cli import CliRunner
from tests.helpers.signing import signed_record

ADMIN_PW = "Adm1n-Secret!"


def test_init_on_a_fresh_site_makes_its_signing_certificate(tmp_path):
    cli = CliRunner(tmp_path / "home")
    cli.run("init", "--site", "LAB-7", "--site-name", "Lab seven", "--admin", "admin", new_password=ADMIN_PW)
    keys = tmp_path / "home" / "keys"
    assert pdfsign.exists(keys, "LAB-7")
    shown = cli.run("certificate", "show", user="admin", password=ADMIN_PW).stdout
    assert "Signing certificate of site LAB-7" in shown and "CN=Formtrail site LAB-7 signing" in shown
    assert "(self-signed)" in shown and pdfsign.describe(pdfsign.load(keys, "LAB-7").cert_pem).sha256 in shown
    pem = cli.run("certificate", "show", "--pem", user="admin", password=ADMIN_PW).stdout
    assert pem.startswith("-----BEGIN CERTIFICATE-----")

    # A PDF the site signed checks; the same with one byte changed does not.
    buffer = io.BytesIO()
    render_report(buffer, ReportMeta(title="Check", site="LAB-7", printed_by="A (a)", printed_at="now"),
                  [Text("signed by the site")])
    signed = pdfsign.sign_pdf(buffer.getvalue(), pdfsign.load(keys, "LAB-7"), reason="test")
    (tmp_path / "good.pdf").write_bytes(signed)
    checked = cli.run("certificate", "check", str(tmp_path / "good.pdf"), user="admin", password=ADMIN_PW)
    assert "good.pdf: 1 signature(s), intact, by the certificate of site LAB-7." in checked.stdout
    changed = bytearray(signed)
    changed[changed.index(b"/Type /Page") + 7] = ord("X")
    (tmp_path / "changed.pdf").write_bytes(bytes(changed))
    checked = cli.run("certificate", "check", str(tmp_path / "changed.pdf"), user="admin", password=ADMIN_PW,
                      check=False)
    assert checked.returncode == 1 and "BROKEN" in checked.stdout and "changed.pdf: DOES NOT VERIFY." in checked.stdout


@pytest.mark.compliance
def test_se02_version_names_the_build(tmp_path):
    """SE-02: `formtrail --version` shows the version and build hash, as every report footer does."""
    out = CliRunner(tmp_path / "home").run("--version").stdout.strip()
    buildinfo.current.cache_clear()  # the same files as the child read (other work may have changed them since)
    assert out == f"formtrail {buildinfo.text()}" and buildinfo.current().build in out


@pytest.mark.sqlite_only
@pytest.mark.compliance
def test_bk04_archive_verify_on_a_tampered_archive_names_the_file_and_its_broken_signature(seed, tmp_path):
    form = signed_record(seed, tmp_path)
    out = archive.export_archive(seed.db, seed.qa, out=tmp_path / "arch", issuance_id=form.issuance_id).path
    # The seed's home (its key folder holds the site certificate) and database.
    cli = CliRunner(tmp_path / "home", db_url=seed.db.engine.url.render_as_string(hide_password=False))
    done = cli.run("archive", "verify", str(out))
    assert "Archive verified" in done.stdout and "against the certificate of site" in done.stdout

    name = f"records/{form.serials[0]}.pdf"
    data = bytearray((out / name).read_bytes())
    at = data.index(b"/Type /Page") + 7
    data[at] = ord("X")
    (out / name).write_bytes(bytes(data))
    done = cli.run("archive", "verify", str(out), check=False)
    assert done.returncode == 1 and "ARCHIVE DOES NOT VERIFY." in done.stdout
    assert f"PROBLEM: {name}: altered" in done.stdout
    assert f"PROBLEM: {name}: signature 1 (FormtrailSeal): BROKEN" in done.stdout
