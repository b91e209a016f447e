"""Time to first paint of the screens that hold the most rows: the register with 100,000 issued forms and the
reconciliation screen of an issuance of 1,000 forms (offscreen Qt, the real page widgets)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select, update

from bench.common import Row, site

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _many_forms(db, seed, total: int) -> None:  # noqa: ANN001
    """``total`` issued forms in issuances of 1,000, inserted directly (their PDFs do not matter here)."""
    from app.models import (
        ControlledPdf,
        FormState,
        Issuance,
        IssuanceState,
        IssuedForm,
        SerialCounter,
        Site,
        TemplateVersion,
    )
    from app.services.issuance import issuance
    real = issuance.issue_forms(db, seed.dc, code="QC-WS-014", copies=1, purpose="seed", reference=None,
                                issued_to="Line 1", due=dt.date(2099, 1, 1))
    with db.read() as s:
        site_id = s.scalar(select(Site.id))
        version_id = s.scalar(select(TemplateVersion.id))
        sha = s.get(ControlledPdf, real.pdf_id).sha256
    now = dt.datetime.now(dt.timezone.utc)
    serial = 2
    with db.engine.begin() as conn:
        for n in range(total // 1000):
            issuance_id = conn.execute(insert(Issuance).values(
                site_id=site_id, template_version_id=version_id, copies=1000, purpose=f"Batch {n:05d} weighing",
                reference=f"LOT {n:05d}", issued_to=f"Area {n % 12}", issued_by_id=seed.dc.user_id, issued_by="dc",
                issued_by_name="Dora Control", issued_at=now - dt.timedelta(hours=n), due_date=dt.date(2026, 1, 1)
                + dt.timedelta(days=n % 400), state=IssuanceState.OPEN)).inserted_primary_key[0]
            pdf_id = conn.execute(insert(ControlledPdf).values(
                issuance_id=issuance_id, sha256=sha, pages=1000, first_serial=f"{serial:06d}",
                last_serial=f"{serial + 999:06d}", created_at=now)).inserted_primary_key[0]
            conn.execute(insert(IssuedForm), [dict(
                issuance_id=issuance_id, site_id=site_id, serial_no=serial + i, serial=f"{serial + i:06d}",
                copy_no=i + 1, pages=1, state=FormState.ISSUED if i % 7 else FormState.RETURNED, pdf_id=pdf_id)
                for i in range(1000)])
            serial += 1000
        conn.execute(update(SerialCounter).values(next_serial=serial))  # keep later issuing gap-free


def _first_paint(app, widget, viewport, ready=lambda: True) -> float:  # noqa: ANN001
    """Seconds from ``widget.show()`` until ``viewport`` has painted once ``ready()`` (rows are there)."""
    from PySide6.QtCore import QEvent, QObject

    painted: list[float] = []

    class Watch(QObject):
        def eventFilter(self, obj, event):  # noqa: ANN001, ANN202, N802
            if event.type() == QEvent.Type.Paint and not painted and ready():
                painted.append(time.perf_counter())
            return False

    watch = Watch()
    viewport.installEventFilter(watch)
    start = time.perf_counter()
    widget.show()
    while not painted and time.perf_counter() - start < 30:
        app.processEvents()
        if ready() and not painted:
            viewport.update()
    viewport.removeEventFilter(watch)
    return painted[0] - start if painted else float("nan")


def run(forms: int = 100_000) -> list[Row]:
    from PySide6.QtWidgets import QApplication

    from app.services.issuance import issuance
    from app.services.site import setup
    from app.ui.kit import style
    from app.ui.pages.issuance.register import RegisterPage
    from app.ui.pages.reconciliation.reconcile import ReconcilePage
    from app.ui.pages.registry import PageContext
    from app.ui.shell import gui_gc

    app = QApplication.instance() or QApplication([])
    style.apply(app)
    gui_gc.install(app)  # as the application does
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        db, seed = site(Path(tmp))
        _many_forms(db, seed, forms)
        ctx = PageContext(db=db, actor=seed.qa, site=setup.site_info(db))
        start = time.perf_counter()
        page = RegisterPage(ctx)
        page.resize(1280, 800)
        paint = _first_paint(app, page, page.table.viewport(), ready=lambda: page.model.loaded > 0)
        rows.append(Row("register with 100,000 issued forms: first paint", (time.perf_counter() - start) * 1000,
                        "ms", f"page built and painted; rows loaded {page.model.loaded} of {page.model.total}; "
                              f"paint {paint * 1000:.0f} ms after show"))
        page.close()
        big = issuance.issue_forms(db, seed.dc, code="QC-WS-014", copies=1000, purpose="recon bench",
                                   reference=None, issued_to="Line 9", due=dt.date(2099, 1, 1))
        start = time.perf_counter()
        recon = ReconcilePage(ctx)
        recon.resize(1280, 800)
        recon.reload(issuance=big.issuance_id)  # the list and the issuance are read in the background
        _first_paint(app, recon, recon.forms.viewport(),
                     ready=lambda: recon.view is not None and recon.view.issuance_id == big.issuance_id)
        rows.append(Row("reconciliation screen, issuance of 1,000 forms", (time.perf_counter() - start) * 1000,
                        "ms", f"page built, list and issuance read in the background, {recon.form_model.rowCount()} "
                              "forms painted"))
        recon.close()
        db.engine.dispose()
    return rows


def main() -> None:
    for row in run():
        print(f"{row.name}: {row.figure:.0f} {row.unit} ({row.detail})")


if __name__ == "__main__":
    main()
