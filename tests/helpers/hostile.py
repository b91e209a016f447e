"""Hostile and broken scan files, and folders mixing them with good scans (issue 12): each file is real, made
the way the problem was met (a cut-off PNG, a decompression bomb, a PDF page 200 inches wide...)."""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from tests.helpers import scanlike as sl


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_bomb(width: int = 40000, height: int = 40000) -> bytes:
    """A PNG that says it is ``width`` x ``height`` grey pixels (1.6 gigapixels by default): a few hundred bytes
    that would ask for gigabytes if decoded. Its data is a valid start of an all-white image."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress((b"\x00" + b"\xff" * width) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")


def big_png(side: int = 5000) -> bytes:
    """A real, complete, blank PNG of ``side`` x ``side`` pixels (25 megapixels by default: Pillow decodes it,
    only a site limit refuses it)."""
    buf = io.BytesIO()
    Image.new("L", (side, side), 255).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def huge_page_pdf(side_pt: float) -> bytes:
    """A one-page vector PDF whose page is ``side_pt`` points square (14400 pt = 200 inches, the PDF maximum)."""
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(side_pt, side_pt))
    canvas.setFont("Helvetica", 48)
    canvas.drawString(100, side_pt - 200, "a poster, not a form")
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def many_pages_pdf(pages: int) -> bytes:
    """A vector PDF of ``pages`` small, empty-looking pages."""
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(200, 200))
    for n in range(pages):
        canvas.drawString(20, 100, f"page {n + 1}")
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def garbage(size: int = 5000, *, seed: int = 7) -> bytes:
    import random

    return random.Random(seed).randbytes(size)


def cut_png(good_png: bytes, length: int = 20000) -> bytes:
    """``head -c 20000 good.png``."""
    return good_png[:length]


# Every hostile file of the issue, by name: (bytes, the file-level outcome, its code). Pages of a file that opens
# but whose one page is too large come back as a page line: outcome "unreadable-page", code "too-large".
def hostile_files(good_png: bytes) -> dict[str, tuple[bytes, str, str]]:
    return {
        "cut.png": (cut_png(good_png), "unreadable-file", "truncated"),
        "bomb.png": (png_bomb(), "too-large", "too-large"),
        "poster-14400pt.pdf": (huge_page_pdf(14400), "unreadable-page", "too-large"),
        "poster-20000pt.pdf": (huge_page_pdf(20000), "unreadable-page", "too-large"),
        "locked.pdf": (sl.encrypted_pdf_bytes(), "unreadable-file", "encrypted"),
        "noise.pdf": (garbage(), "unreadable-file", "corrupt"),
        "empty.jpg": (b"", "unreadable-file", "empty-file"),
        "letter.tif": (b"PK\x03\x04" + bytes(100), "unreadable-file", "corrupt"),
    }


def make_fifo(path: Path) -> bool:
    """A named pipe at ``path``; False where the platform has none."""
    if not hasattr(os, "mkfifo"):
        return False
    os.mkfifo(path)
    return True


def hostile_entries(folder: Path, good: Path) -> dict[str, tuple[str, str]]:
    """Entries no import may read as a file, made in ``folder``; ``good`` is a good scan elsewhere, reached
    through a symbolic link. {name: (outcome, code)} of each."""
    made: dict[str, tuple[str, str]] = {}
    (folder / "sub").mkdir()
    (folder / "sub" / "inner.png").write_bytes(good.read_bytes())
    made["sub"] = ("skipped", "sub-folder")
    (folder / ".hidden.png").write_bytes(b"hidden")
    made[".hidden.png"] = ("skipped", "hidden-file")
    (folder / "notes.txt").write_text("not a scan", encoding="utf-8")
    made["notes.txt"] = ("skipped", "not-a-scan-file")
    steps: list[tuple[str, Callable[[], object], tuple[str, str]]] = [
        ("pipe.pdf", lambda: make_fifo(folder / "pipe.pdf"), ("skipped", "not-a-regular-file")),
        ("dangling.png", lambda: (folder / "dangling.png").symlink_to(folder / "nowhere.png"),
         ("skipped", "broken-symlink")),
        ("to-folder.pdf", lambda: (folder / "to-folder.pdf").symlink_to(folder / "sub"), ("skipped", "sub-folder")),
    ]
    for name, make, expected in steps:
        if make() is not False:
            made[name] = expected
    if (folder / "pipe.pdf").exists():
        (folder / "to-pipe.pdf").symlink_to(folder / "pipe.pdf")
        made["to-pipe.pdf"] = ("skipped", "not-a-regular-file")
    return made
