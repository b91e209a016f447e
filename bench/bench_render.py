"""Benchmark: render 1,000 controlled copies of a one-page form, against the naive reportlab route.

Fast route (``render_issued``): static layout drawn once as a form XObject, QR matrix from zxing-cpp drawn as
one vector path, each page streamed to the file. Naive route (same content): the static layout redrawn on
every page and reportlab's own ``QrCodeWidget`` (pure-Python encoder) per page, on a plain Canvas that keeps
every page until ``save()``. Peak memory is measured with tracemalloc for two sizes of issuance, to show that
the fast route does not grow with the number of copies.

Run: ``python -m bench.bench_render [--copies 1000] [--naive-copies 200]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import tempfile
import time
import tracemalloc
from pathlib import Path

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.forms.layout.layout import TemplateLayout, load_layout
from app.forms.layout.payload import Payload
from app.forms.render.fonts import MONO, SANS_BOLD, register_fonts
from app.forms.render.qr import qr_matrix
from app.forms.render.render import CopyInfo, IssueInfo, _issue_head, render_issued
from app.forms.render.render_base import INK, QR_SLOT, geometry, slots
from app.forms.render.render_layout import draw_foot_serial, draw_static_page
from app.forms.resources import resource

KEY = bytes(range(32))
TEMPLATE = "QC-WS-014"  # one page


def _issue() -> IssueInfo:
    return IssueInfo(
        site_code="BSL-01", site_name="Basel Solids", version=3, effective_date=dt.date(2025, 1, 15),
        issued_to="Jörg Øster", issued_by_name="Anna Müller", issued_by_username="amueller",
        issued_at=dt.datetime(2025, 3, 4, 13, 7, tzinfo=dt.UTC), purpose="Benchmark batch",
        reference="BENCH-0001", due_date=dt.date(2025, 3, 11), issuance_id=1,
    )


def _copies(count: int, first: int = 100000):
    return (CopyInfo(serial=f"{first + i:06d}", copy_no=i + 1, copy_count=count) for i in range(count))


def fast(layout: TemplateLayout, issue: IssueInfo, copies: int, out: Path) -> float:
    start = time.perf_counter()
    pages = render_issued(out, layout, issue, _copies(copies), key=KEY)
    elapsed = time.perf_counter() - start
    assert pages == copies * layout.pages
    return elapsed


def naive(layout: TemplateLayout, issue: IssueInfo, copies: int, out: Path) -> float:
    """The same pages the straightforward way: everything drawn per page, reportlab's QR widget."""
    register_fonts()
    geom = geometry(layout.paper)
    where = slots(geom)
    head = _issue_head(layout, issue)
    start = time.perf_counter()
    canvas = Canvas(str(out), pagesize=(geom.width, geom.height))
    for copy in _copies(copies):
        copy_text = f"Copy {copy.copy_no} of {copy.copy_count}"
        for page in range(1, layout.pages + 1):
            draw_static_page(canvas, layout, page, head)
            payload = Payload(issue.site_code, copy.serial, page, layout.pages, layout.code, issue.version)
            text = payload.encode(KEY)
            widget = QrCodeWidget(text, barLevel="Q", barWidth=QR_SLOT, barHeight=QR_SLOT, barBorder=4)
            drawing = Drawing(QR_SLOT, QR_SLOT)
            drawing.add(widget)
            renderPDF.draw(drawing, canvas, *where.qr_top)
            renderPDF.draw(drawing, canvas, *where.qr_bottom)
            canvas.setFillColor(INK)
            canvas.setFont(MONO, where.serial_size)
            canvas.drawRightString(where.serial_right, where.serial_y, copy.serial)
            canvas.setFont(SANS_BOLD, 8.5)
            canvas.drawRightString(where.copy_right, where.copy_y, copy_text)
            draw_foot_serial(canvas, geom, copy.serial, copy_text)
            canvas.showPage()
    canvas.save()
    return time.perf_counter() - start


def peak_memory(layout: TemplateLayout, issue: IssueInfo, copies: int, out: Path) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        render_issued(out, layout, issue, _copies(copies), key=KEY)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def qr_encode_ms(count: int = 1000) -> float:
    start = time.perf_counter()
    for i in range(count):
        qr_matrix(Payload("BSL-01", f"{i:06d}", 1, 1, TEMPLATE, 3).encode(KEY))
    return (time.perf_counter() - start) * 1000 / count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_render", description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=1000, help="copies for the fast route (default 1000)")
    parser.add_argument("--naive-copies", type=int, default=200,
                        help="copies for the naive route (default 200; it is slow, the rate is per page)")
    args = parser.parse_args(argv)
    layout = load_layout(resource("templates", f"{TEMPLATE}.yaml"))
    issue = _issue()
    with tempfile.TemporaryDirectory(prefix="formtrail-bench-") as tmp:
        folder = Path(tmp)
        fast(layout, issue, 5, folder / "warm.pdf")  # imports, font registration
        naive(layout, issue, 2, folder / "warm-naive.pdf")
        fast_s = fast(layout, issue, args.copies, folder / "fast.pdf")
        fast_size = (folder / "fast.pdf").stat().st_size
        naive_s = naive(layout, issue, args.naive_copies, folder / "naive.pdf")
        naive_size = (folder / "naive.pdf").stat().st_size
        small, large = max(1, args.copies // 5), args.copies * 2
        memory_small = peak_memory(layout, issue, small, folder / "mem-small.pdf")
        memory_large = peak_memory(layout, issue, large, folder / "mem-large.pdf")
    fast_rate = args.copies / fast_s
    naive_rate = args.naive_copies / naive_s
    matrix = qr_matrix(Payload("BSL-01", "100000", 1, 1, TEMPLATE, 3).encode(KEY))
    module = min(0.8 * mm, QR_SLOT / (matrix.size + 8))
    print(f"render_issued: {args.copies} copies of {TEMPLATE} (1 page each)")
    print(f"  fast route : {fast_s:7.3f} s  {fast_rate:8.0f} pages/s  {1000 / fast_rate:6.3f} ms/page"
          f"  {fast_size / args.copies / 1024:5.1f} KiB/page")
    print(f"  naive route: {naive_s:7.3f} s  {naive_rate:8.0f} pages/s  {1000 / naive_rate:6.3f} ms/page"
          f"  {naive_size / args.naive_copies / 1024:5.1f} KiB/page  ({args.naive_copies} copies)")
    print(f"  ratio      : {fast_rate / naive_rate:7.1f}x faster"
          f" (goals: >= 15x the naive route, well above 500 pages/s)")
    print(f"  QR encode  : {qr_encode_ms():.3f} ms per code (zxing-cpp, ECC Q)")
    print(f"  QR symbol  : {matrix.size} modules, module {module / mm:.2f} mm, "
          f"{(matrix.size + 8) * module / mm:.1f} mm with the 4-module quiet zone, ECC Q, 2 per page")
    print(f"  peak memory: {memory_small / 1e6:6.1f} MB for {small} copies, {memory_large / 1e6:6.1f} MB for "
          f"{large} copies (tracemalloc)")


if __name__ == "__main__":
    main()
