import io
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
import zxingcpp
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.forms.render.pdfstream import StreamingCanvas
from app.forms.render.qr import QUIET_MODULES, draw_qr, qr_matrix, symbol_size
from tests.helpers.processes import alive, wait_gone

TEXT = "FT1|BSL-01|000123|1/2|QC-WS-014@3|ABCDEFGHIJKLMNOP"


def test_matrix_runs_rebuild_the_encoder_image_exactly():
    matrix = qr_matrix(TEXT)
    barcode = zxingcpp.create_barcode(TEXT, zxingcpp.BarcodeFormat.QRCode, ec_level="Q")
    reference = np.array(barcode.to_image(scale=1, add_quiet_zones=False)) == 0  # 0 = dark module
    rebuilt = np.zeros((matrix.size, matrix.size), dtype=bool)
    for row, col, length in matrix.runs:
        assert length >= 1
        rebuilt[row, col:col + length] = True
    assert reference.shape == (matrix.size, matrix.size)
    assert (rebuilt == reference).all()
    assert matrix.is_dark(0, 0) and not matrix.is_dark(7, 7)  # finder pattern corner, separator
    # Runs are maximal: no two runs of one row touch.
    by_row = {}
    for row, col, length in matrix.runs:
        by_row.setdefault(row, []).append((col, length))
    for spans in by_row.values():
        for (c1, n1), (c2, _) in zip(spans, spans[1:], strict=False):
            assert c1 + n1 < c2


def test_path_is_one_fill_of_rectangles():
    matrix = qr_matrix(TEXT)
    code = matrix.path_code()
    assert code.endswith(" re f")
    assert code.count(" re") == len(matrix.runs)
    assert len(matrix.runs) < matrix.size * matrix.size / 3  # merged runs, not one square per module


def test_error_correction_level_changes_the_symbol():
    assert qr_matrix(TEXT, ec_level="Q").size >= qr_matrix(TEXT, ec_level="L").size
    with pytest.raises((ValueError, RuntimeError)):
        qr_matrix(TEXT, ec_level="X")


@pytest.mark.parametrize("canvas_class", [Canvas, StreamingCanvas])
def test_drawn_code_decodes(canvas_class):
    matrix = qr_matrix(TEXT)
    out = io.BytesIO()
    canvas = canvas_class(out)
    canvas.setFillColorRGB(0.8, 0.2, 0.2)
    # A tint under the code: the quiet zone is painted white.
    canvas.rect(0, 0, 200 * mm, 200 * mm, stroke=0, fill=1)
    side = draw_qr(canvas, matrix, 20 * mm, 20 * mm, 0.75 * mm)
    canvas.drawString(10, 10, "after the code the canvas state is unchanged")
    canvas.showPage()
    canvas.save()
    assert side == pytest.approx(symbol_size(matrix, 0.75 * mm)) == pytest.approx(
        (matrix.size + 2 * QUIET_MODULES) * 0.75 * mm)
    image = pdfium.PdfDocument(out.getvalue())[0].render(scale=150 / 72, grayscale=True).to_pil()
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCodeModel2)
    assert [b.text for b in found] == [TEXT]


def test_codes_encoded_in_a_helper_process_equal_those_encoded_here():
    from app.forms.render.qr_batch import encoded
    texts = [f"FT1|BSL-01|{i:06d}|1/2|QC-WS-014@1|TAG{i}" for i in range(250)]
    here = list(encoded(texts, helper=False))
    there = list(encoded(texts, helper=True))
    assert there == here and len(here) == 250
    assert here[0][0] >= 21 and " re " in here[0][1]


def test_a_cancelled_batch_stops_the_helper():
    from app.forms.render.qr_batch import encoded
    texts = [f"FT1|BSL-01|{i:06d}|1/1|QC-WS-014@1|T" for i in range(5000)]
    codes = encoded(texts, helper=True)
    first = next(codes)
    codes.close()  # what a cancelled rendering does: the generator is closed, the pool shut down
    assert first[0] >= 21


def test_the_helper_ends_when_the_issuing_process_is_killed():
    """Killed mid-issue (SIGKILL, no clean-up), the issuing process must not leave its QR helper behind: the
    helper holds both ends of its queues, so without its own watch it would wait for ever."""
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc")
    issuing = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import multiprocessing, time
        from app.forms.render.qr_batch import encoded
        codes = encoded([f"FT1|BSL-01|{i:06d}|1/1|QC-WS-014@1|T" for i in range(5000)], helper=True)
        next(codes)
        print(*[p.pid for p in multiprocessing.active_children()], flush=True)
        time.sleep(600)
    """)], cwd=Path(__file__).resolve().parents[3], stdout=subprocess.PIPE, text=True)
    helpers = [int(p) for p in issuing.stdout.readline().split()]
    assert helpers and all(alive(p) for p in helpers)
    issuing.kill()
    issuing.wait()
    assert wait_gone(helpers, 10.0), [p for p in helpers if alive(p)]
