"""Reading the boxes of linked pages: which pages, against which geometry, on which workers; the readings and
the paper findings they raise are stored by ``paper_review``.

Three steps, each short: one read transaction gathers the pages (stored file, page, template version); the
pages are read outside any transaction (in the intake's worker processes when there are some, else here);
one audited write per group of pages stores readings and findings. Intake reads the pages it linked, a manual
link reads its page, and "Read the boxes again" reads any linked page.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.enums import ScanOutcome
from app.forms.layout.geometry import FormGeometry
from app.forms.pdfium_lock import PDFIUM_LOCK
from app.forms.render.boxes import form_geometry
from app.forms.scan.read_worker import ReadResult, ReadTask, read_pages
from app.forms.scan.readings import PageReading
from app.models import Issuance, IssuedForm, ScanPage, ScanReading, ScanSource, TemplateVersion
from app.services.core.db import Actor, Database
from app.services.identity.permissions import Permission, require
from app.services.issuance.issuance import form_by_serial
from app.services.scans import paper_review
from app.services.scans.intake_pool import WorkerPool
from app.services.templates.templates import layout_of

CHUNK = 8  # pages per worker task, as for decoding
STORE_PAGES = 64  # pages whose readings are stored in one transaction
TASK_S = 120.0  # a task's deadline (generous: a loaded machine is slow)

Cancelled = Callable[[], bool]


@dataclasses.dataclass(frozen=True)
class ReadSummary:
    pages: int  # pages read
    unread: int  # pages that could not be registered (each is a finding)
    findings: int  # open findings raised


def read_linked(db: Database, actor: Actor, *, scan_page_ids: Iterable[int] = (), source_ids: Iterable[int] = (),
                pool: WorkerPool | None = None, cancelled: Cancelled | None = None) -> ReadSummary:
    """Read the boxes of the current linked pages among ``scan_page_ids`` and of the sources ``source_ids``."""
    tasks, extra = _gather(db, list(scan_page_ids), list(source_ids))
    if not tasks and not extra:
        return ReadSummary(0, 0, 0)
    results = _run(tasks, pool, cancelled) + extra
    pages = unread = findings = 0
    for start in range(0, len(results), STORE_PAGES):
        group = results[start:start + STORE_PAGES]
        stored = paper_review.store_readings(db, actor, [(r.key, r.reading) for r in group])
        pages += stored.pages
        unread += stored.unread
        findings += stored.findings
    return ReadSummary(pages, unread, findings)


def read_form(db: Database, actor: Actor, serial: str) -> ReadSummary:
    """Read the boxes of a form's current linked pages again (to check a doubtful reading, or after the
    reader improved): open findings it no longer finds are superseded, resolved ones stay as resolved."""
    require(db, actor, Permission.IMPORT_SCANS)
    with db.read() as session:
        form = form_by_serial(session, serial)
        ids = list(session.scalars(select(ScanPage.id).where(ScanPage.issued_form_id == form.id)))
    return read_linked(db, actor, scan_page_ids=ids)


def read_unread(db: Database, actor: Actor, *, pool: WorkerPool | None = None) -> ReadSummary:
    """Read every current linked page that has no reading yet (an import stopped between linking and reading,
    or pages linked before paper review existed)."""
    require(db, actor, Permission.IMPORT_SCANS)
    return read_linked(db, actor, scan_page_ids=unread_pages(db), pool=pool)


def unread_pages(db: Database, *, source_ids: Iterable[int] | None = None) -> list[int]:
    """The current linked pages without a reading (of the sources ``source_ids`` only, when given)."""
    with db.read() as session:
        query = select(ScanPage.id).where(
            ScanPage.outcome == ScanOutcome.LINKED, ScanPage.superseded_by_id.is_(None),
            ScanPage.id.not_in(select(ScanReading.scan_page_id)))
        if source_ids is not None:
            query = query.where(ScanPage.source_id.in_(list(source_ids)))
        return list(session.scalars(query.order_by(ScanPage.id)))


def _gather(db: Database, page_ids: list[int], source_ids: list[int]) -> tuple[list[ReadTask], list[ReadResult]]:
    """The pages to read, and the readings of extra pages (BF-02) made here: an extra page has no template boxes,
    so nothing on it can be checked automatically and a person reads it (a finding, as for a page not read)."""
    if not page_ids and not source_ids:
        return [], []
    with db.read() as session:
        query = (select(ScanPage, ScanSource, IssuedForm, Issuance.template_version_id)
                 .join(ScanSource, ScanSource.id == ScanPage.source_id)
                 .join(IssuedForm, IssuedForm.id == ScanPage.issued_form_id)
                 .join(Issuance, Issuance.id == IssuedForm.issuance_id)
                 .where(ScanPage.outcome == ScanOutcome.LINKED, ScanPage.superseded_by_id.is_(None)))
        wanted = []
        if page_ids:
            wanted.append(ScanPage.id.in_(page_ids))
        if source_ids:
            wanted.append(ScanPage.source_id.in_(source_ids))
        rows = session.execute(query.where(or_(*wanted)).order_by(ScanPage.id)).all()
        geometries = _geometries(session, {version_id for *_rest, version_id in rows})
        tasks = [ReadTask(key=page.id, path=str(db.files.path_for(source.sha256)), name=source.original_name,
                          index=page.page_index, page_no=page.page_no or 1, geometry=geometries[version_id],
                          payload_text=page.decoded_text)
                 for page, source, _form, version_id in rows
                 if (page.page_no or 1) <= len(geometries[version_id].pages)]
        extra = [ReadResult(page.id, PageReading(page=page.page_no or 1, boxes=(), residual_mm=None, error=(
            f"an extra page added to {form.serial} after it was issued (a continuation sheet without template "
            "boxes)")), 0.0)
                 for page, _source, form, version_id in rows
                 if (page.page_no or 1) > len(geometries[version_id].pages)]
        return tasks, extra


def _geometries(session: Session, version_ids: set[int]) -> dict[int, FormGeometry]:
    versions = session.scalars(select(TemplateVersion).where(TemplateVersion.id.in_(version_ids)))
    return {v.id: form_geometry(layout_of(v)) for v in versions}


def _run(tasks: Sequence[ReadTask], pool: WorkerPool | None, cancelled: Cancelled | None) -> list[ReadResult]:
    chunks = [list(tasks[i:i + CHUNK]) for i in range(0, len(tasks), CHUNK)]
    if pool is None or len(chunks) < 2:
        out: list[ReadResult] = []
        for chunk in chunks:
            if cancelled is not None and cancelled():
                break
            with PDFIUM_LOCK:  # other threads of this process (the page viewer) may be using PDFium too
                out.extend(read_pages(chunk))
        return out
    waiting: dict[int, list[ReadTask]] = {}
    done: dict[int, list[ReadResult]] = collections.defaultdict(list)
    for n, chunk in enumerate(chunks):
        waiting[n] = chunk
        pool.submit(("read", n), read_pages, (chunk,), timeout=TASK_S)
    while waiting:  # not cut short on cancel: a result left in the pool would reach the next import's decoder
        result = pool.next_result(timeout=0.5)
        if result is None or not isinstance(result.task_id, tuple) or result.task_id[0] != "read":
            continue
        n = result.task_id[1]
        chunk = waiting.pop(n)
        if result.ok:
            done[n] = result.value
        elif result.broken:  # no worker process can be started: read the pages here instead
            with PDFIUM_LOCK:
                done[n] = read_pages(chunk)
        else:  # a page that kills the reader must not kill this process: a person reads these pages
            done[n] = [ReadResult(t.key, PageReading(page=t.page_no, boxes=(), residual_mm=None,
                                                     error="the reader stopped on this page; read it by eye"), 0.0)
                       for t in chunk]
    return [r for n in sorted(done) for r in done[n]]
