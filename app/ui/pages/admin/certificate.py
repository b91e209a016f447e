"""Admin → Signing certificate: the certificate the site signs its reports, record copies, archives and released
controlled PDFs with (PAdES), the build signing them (SE-02); administrators import the site's own certificate
(PKCS#12, audited); anyone who reads GMP data checks whether a PDF is intact and signed by the site."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QInputDialog, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.services.core.pdfsign import SignatureCheck
from app.services.identity.permissions import Permission
from app.services.site import key_setup
from app.services.site.key_setup import CertificateView
from app.ui.kit import file_dialogs, messages
from app.ui.kit.dialogs import open_dialog
from app.ui.kit.flow_layout import FlowLayout
from app.ui.kit.operations import run_query
from app.ui.kit.reason import ReasonDialog
from app.ui.kit.widgets import hint
from app.ui.pages.registry import PageContext, register_page


class CertificatePage(QWidget):
    def __init__(self, ctx: PageContext) -> None:
        super().__init__()
        self._ctx = ctx
        self.view: CertificateView | None = None
        self.dialog: ReasonDialog | None = None
        self.last_check: SignatureCheck | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(hint("Reports, record copies, archives and released controlled PDFs carry this site's "
                              "signature (PAdES, invisible): any PDF reader shows whether a file was changed after "
                              "Formtrail made it. The people who signed are printed on the pages themselves."))
        form = QFormLayout()
        self.fields = {name: QLabel() for name in ("Subject", "Issuer", "Valid", "SHA-256", "Files", "Replaced",
                                                    "Build")}
        for name, label in self.fields.items():
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{name}:", label)
        layout.addLayout(form)
        bar = FlowLayout()
        self.check_button = QPushButton("Check a PDF…")
        self.check_button.clicked.connect(lambda: self.check())
        self.import_button = QPushButton("Import the site's certificate…")
        self.import_button.clicked.connect(lambda: self.import_certificate())
        self.import_button.setVisible(False)  # until the view says the user may
        bar.addWidget(self.check_button)
        bar.addWidget(self.import_button)
        layout.addLayout(bar)
        layout.addStretch(1)
        self.reload()

    def page_shown(self) -> None:
        self.reload()

    def reload(self) -> None:
        ctx = self._ctx
        run_query(self, lambda: key_setup.certificate(ctx.db, ctx.actor), key="certificate", on_done=self._shown)

    def _shown(self, view: CertificateView) -> None:
        self.view = view
        info = view.info
        self.fields["Subject"].setText(info.subject)
        self.fields["Issuer"].setText(info.issuer + (" (self-signed)" if info.self_signed else ""))
        self.fields["Valid"].setText(f"{PageContext.when(info.not_before)} to {PageContext.when(info.not_after)}")
        self.fields["SHA-256"].setText(info.sha256)
        self.fields["Files"].setText(f"{view.cert_path} (the key beside it, readable by its owner only)")
        self.fields["Replaced"].setText("; ".join(f"{r.subject} (SHA-256 {r.sha256[:16]}…)" for r in view.retired)
                                        or "none")
        self.fields["Build"].setText(f"Formtrail {view.build}")
        self.import_button.setVisible(view.may_import)

    # -- checking a PDF ------------------------------------------------------------------------------------------
    def ask_pdf(self) -> Path | None:
        """The PDF to check (a file dialog; tests replace this method)."""
        return file_dialogs.ask_open_file(self, "Check a PDF's signature", purpose="exports",
                                          filters="PDF (*.pdf)")

    def check(self) -> None:
        path = self.ask_pdf()
        if path is None:
            return
        ctx = self._ctx
        run_query(self, lambda: key_setup.check_pdf(ctx.db, ctx.actor, path), key="check",
                  on_done=lambda check: self._checked(path, check))

    def _checked(self, path: Path, check: SignatureCheck) -> None:
        self.last_check = check
        if check.ok:
            messages.info(self, f"{path.name}: {check.signatures} signature(s), intact, made with the site's "
                                "certificate.", title="Signature check")
        else:
            messages.warning(self, f"{path.name} DOES NOT VERIFY:\n" + "\n".join(check.problems),
                             title="Signature check")

    # -- importing the site's own certificate ----------------------------------------------------------------------
    def ask_pkcs12(self) -> tuple[Path, str] | None:
        """The PKCS#12 file and its password (dialogs; tests replace this method)."""
        path = file_dialogs.ask_open_file(self, "The site's certificate and key", purpose="certificates",
                                          filters="PKCS#12 (*.p12 *.pfx)")
        if path is None:
            return None
        password, ok = QInputDialog.getText(self, "PKCS#12 password", f"Password of {path.name}:",
                                            QLineEdit.EchoMode.Password)
        return (path, password) if ok else None

    def import_certificate(self) -> None:
        chosen = self.ask_pkcs12()
        if chosen is None:
            return
        path, password = chosen
        ctx = self._ctx

        def perform(reason: str) -> CertificateView:
            return key_setup.import_certificate(ctx.db, ctx.actor, path, password=password or None, reason=reason)
        self.dialog = ReasonDialog(self, heading="Import the site's signing certificate",
                                   explanation=f"Replace the site's signing certificate with the one in {path.name}. "
                                               "Files signed before keep verifying with the replaced certificate.",
                                   action_text="Import", perform=perform,
                                   placeholder="e.g. 'certificate from the company CA, change CC-2026-014'")
        self.dialog.accepted.connect(self.reload)
        open_dialog(self.dialog)


def certificate_page(ctx: PageContext) -> QWidget:
    return CertificatePage(ctx)


register_page("certificate", certificate_page, title="Signing certificate", icon="settings",
              permissions=(Permission.MANAGE_SETTINGS, Permission.VIEW_AUDIT), order=88,
              description="The certificate the site signs its PDFs and archives with; check a PDF's signature; "
                          "import the site's own certificate.")
