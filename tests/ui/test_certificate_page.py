"""Admin → Signing certificate: the site's certificate and the build are shown; a PDF the site signed checks, a
changed copy is named as broken; an administrator imports the site's own certificate with a reason (audited),
while QA sees no import button."""

from __future__ import annotations

import io
from pathlib import Path

from app.forms.render.report import ReportMeta, Text, render_report
from app.services.core import pdfsign
from app.services.site import key_setup
from app.ui.pages.admin.certificate import CertificatePage
from tests.helpers.signing import pkcs12_file
from tests.ui.conftest import settle


def _signed_pdf(seed, folder: Path) -> tuple[Path, Path]:  # noqa: ANN001
    buffer = io.BytesIO()
    render_report(buffer, ReportMeta(title="Check", site="X", printed_by="A (a)", printed_at="now"), [Text("x")])
    signed = pdfsign.sign_pdf(buffer.getvalue(), key_setup.signing_identity(seed.db), reason="test")
    good, bad = folder / "good.pdf", folder / "bad.pdf"
    good.write_bytes(signed)
    changed = bytearray(signed)
    changed[changed.index(b"/Type /Page") + 7] = ord("X")
    bad.write_bytes(bytes(changed))
    return good, bad


def test_the_page_shows_the_certificate_and_checks_pdfs(qtbot, seed, ctx_for, boxes, tmp_path, monkeypatch):
    page = CertificatePage(ctx_for("qa"))
    qtbot.addWidget(page)
    settle(qtbot)
    assert f"Formtrail site {seed.db.keyring().site} signing" in page.fields["Subject"].text()
    assert page.fields["Build"].text().startswith("Formtrail ") and "build" in page.fields["Build"].text()
    assert not page.import_button.isVisibleTo(page)  # QA checks PDFs; administrators import certificates
    good, bad = _signed_pdf(seed, tmp_path)
    for path in (good, bad):
        monkeypatch.setattr(page, "ask_pdf", lambda path=path: path)
        page.check_button.click()
        settle(qtbot)
    assert boxes.infos == ["good.pdf: 1 signature(s), intact, made with the site's certificate."]
    assert len(boxes.errors) == 1 and boxes.errors[0].startswith("bad.pdf DOES NOT VERIFY:")
    assert "BROKEN" in boxes.errors[0]


def test_an_administrator_imports_the_sites_certificate_with_a_reason(qtbot, seed, ctx_for, boxes, tmp_path,
                                                                      trail, monkeypatch):
    page = CertificatePage(ctx_for("admin"))
    qtbot.addWidget(page)
    settle(qtbot)
    assert page.import_button.isVisibleTo(page)
    p12 = tmp_path / "site.p12"
    pkcs12_file(p12, common_name="Company CA seal", password="p12-Pw")
    monkeypatch.setattr(page, "ask_pkcs12", lambda: (p12, "p12-Pw"))
    page.import_button.click()
    dialog = page.dialog
    assert dialog is not None and not dialog.action_button.isEnabled()  # a reason first
    dialog.reason.setPlainText("company CA certificate, change CC-2026-014")
    dialog.action_button.click()
    settle(qtbot)
    assert "Company CA seal" in page.fields["Subject"].text() and page.fields["Replaced"].text() != "none"
    [event] = trail(action="CERTIFICATE_IMPORTED")
    assert event.reason == "company CA certificate, change CC-2026-014"
