"""QR codes for the printed forms: zxing-cpp's encoder for the matrix, drawn on a reportlab canvas as vectors.

The whole code is ONE filled path of rectangles, one per horizontal run of dark modules, in module units under
a single transformation matrix: crisp on any printer, small in the file, and two identical codes on a page
compress to almost nothing (the second path is the same text). Nothing is cached here; callers encode a page's
text once and draw the matrix as often as they need.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

import zxingcpp

if TYPE_CHECKING:  # the encoder runs in helper processes that never draw: keep their start-up light
    from reportlab.pdfgen.canvas import Canvas

EC_LEVEL = "Q"
QUIET_MODULES = 4  # the quiet zone the QR specification asks for, on every side
_DARK_RUN = re.compile(rb"\x00+")  # zxing-cpp images: 0 = dark module, 255 = light


@dataclasses.dataclass(frozen=True)
class QrMatrix:
    """One symbol, ``size`` × ``size``: dark runs as (row, first column, length), row 0 on top."""

    size: int
    runs: tuple[tuple[int, int, int], ...]

    def is_dark(self, row: int, col: int) -> bool:
        return any(r == row and c <= col < c + n for r, c, n in self.runs)

    def path_code(self) -> str:
        """PDF path operators for the dark runs, in module units, y growing downwards (see ``draw_qr``)."""
        return " re ".join(f"{c} {r} {n} 1" for r, c, n in self.runs) + " re f"


def qr_matrix(text: str, *, ec_level: str = EC_LEVEL) -> QrMatrix:
    """Encode ``text`` (byte mode, the smallest symbol version that holds it) at this error correction."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=ec_level)
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    height, width = image.shape
    if height != width:
        raise ValueError(f"unexpected QR image shape {image.shape}")
    data = bytes(memoryview(image))  # type: ignore[arg-type]  # has the buffer protocol; zxingcpp's stub omits it
    runs: list[tuple[int, int, int]] = []
    for row in range(height):
        start = row * width
        for match in _DARK_RUN.finditer(data, start, start + width):
            runs.append((row, match.start() - start, match.end() - match.start()))
    return QrMatrix(size=width, runs=tuple(runs))


def symbol_size(matrix: QrMatrix, module: float, *, quiet: int = QUIET_MODULES) -> float:
    """Side of the code including its quiet zone, in points."""
    return (matrix.size + 2 * quiet) * module


def draw_qr(canvas: Canvas, matrix: QrMatrix, x: float, y: float, module: float, *,
            quiet: int = QUIET_MODULES, path_code: str | None = None) -> float:
    """Draw the code with its lower-left quiet-zone corner at (x, y); returns the side with the quiet zone.

    The quiet zone is painted white so the code stays readable even over a watermark or a tint. A caller that
    draws the same matrix twice passes ``path_code=matrix.path_code()`` to build the path text once.
    """
    return draw_path(canvas, matrix.size, path_code if path_code is not None else matrix.path_code(), x, y,
                     module, quiet=quiet)


def draw_path(canvas: Canvas, size: int, code: str, x: float, y: float, module: float, *,
              quiet: int = QUIET_MODULES) -> float:
    """``draw_qr`` for a symbol already turned into its path (``QrMatrix.path_code``), e.g. by a helper process."""
    side = (size + 2 * quiet) * module
    top = y + side - quiet * module
    left = x + quiet * module
    # q … Q keeps the canvas's own graphics-state bookkeeping valid; "cm" flips y so row r runs downwards.
    canvas.addLiteral(
        f"q 1 g {_num(x)} {_num(y)} {_num(side)} {_num(side)} re f "
        f"0 g {_num(module)} 0 0 {_num(-module)} {_num(left)} {_num(top)} cm {code} Q"
    )
    return side


def _num(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"
