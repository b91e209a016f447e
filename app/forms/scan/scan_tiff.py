"""Multi-page TIFF files to page images, and telling a cut-off TIFF (still being written) from a damaged one."""

from __future__ import annotations

import io
import struct
import warnings
from collections.abc import Callable, Iterator

from PIL import Image

from app.forms.scan.scan_image import (
    RASTER_FILE,
    PageError,
    PageImage,
    SourceError,
    SourceInput,
    file_dpi,
    reason_of,
    to_grey,
)


def open_tiff(src: SourceInput) -> tuple[Image.Image, int]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Corrupt EXIF data" and the like: we decide below
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(src.stream())
            count = getattr(image, "n_frames", 1)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise SourceError("too-large", f"{src.name}: {exc}") from exc
    except Exception as exc:  # Pillow raises OSError, EOFError, TypeError, ... for a broken IFD chain
        reason = "truncated" if reason_of(exc) == "truncated" or _tiff_cut_off(src) else "corrupt"
        raise SourceError(reason, f"{src.name}: the TIFF cannot be read ({exc})") from exc
    if count < 1:
        image.close()
        raise SourceError("no-pages", f"{src.name}: the TIFF has no pages")
    if _tiff_cut_off(src):
        image.close()
        raise SourceError("truncated", f"{src.name}: the TIFF ends early (its directories point beyond the end "
                                       "of the file); it may still be being written, or was cut off")
    return image, count


def _tiff_cut_off(src: SourceInput) -> bool:
    """Whether a (classic) TIFF's directories or image data point beyond the end of the file."""
    try:
        if src.data is not None:
            return _tiff_walk(io.BytesIO(src.data), src.size)
        with open(src.path or "", "rb") as fh:
            return _tiff_walk(fh, src.size)
    except (OSError, struct.error):
        return False


def _tiff_walk(fh: io.BufferedIOBase | io.BytesIO, size: int) -> bool:
    def read(offset: int, n: int) -> bytes | None:
        if offset + n > size:
            return None
        fh.seek(offset)
        return fh.read(n)

    header = read(0, 8) or b""
    endian = "<" if header[:2] == b"II" else ">"
    if header[2:4] not in (b"*\x00", b"\x00*"):
        return False  # BigTIFF: not checked
    (offset,) = struct.unpack(endian + "I", header[4:8])
    seen: set[int] = set()
    while offset and offset not in seen and len(seen) < 100000:
        seen.add(offset)
        raw_count = read(offset, 2)
        if raw_count is None:
            return True
        (count,) = struct.unpack(endian + "H", raw_count)
        body = read(offset + 2, 12 * count + 4)
        if body is None:
            return True
        entries = {}
        for i in range(count):
            tag, typ, n, value = struct.unpack(endian + "HHII", body[12 * i:12 * i + 12])
            entries[tag] = (typ, n, value)
        for offsets_tag, counts_tag in ((273, 279), (324, 325)):
            if offsets_tag in entries and counts_tag in entries:
                starts = _tiff_values(read, endian, *entries[offsets_tag])
                lengths = _tiff_values(read, endian, *entries[counts_tag])
                if starts is None or lengths is None:
                    return True
                if any(a + b > size for a, b in zip(starts, lengths, strict=False)):  # a hostile file may differ
                    return True
        (offset,) = struct.unpack(endian + "I", body[-4:])
    return False


def _tiff_values(read: Callable[[int, int], bytes | None], endian: str, typ: int, n: int,
                 value: int) -> list[int] | None:
    width = {3: 2, 4: 4}.get(typ)
    if width is None or n > 1_000_000:
        return []
    raw: bytes | None
    if n * width <= 4:
        raw = struct.pack(endian + "I", value)[: n * width]
    else:
        raw = read(value, n * width)
        if raw is None:
            return None
    return list(struct.unpack(endian + ("H" if width == 2 else "I") * n, raw))


def tiff_pages(image: Image.Image, count: int, src: SourceInput, wanted: list[int] | None,
                max_pixels: int) -> Iterator[PageImage]:
    try:
        for index in (range(count) if wanted is None else [i for i in wanted if 0 <= i < count]):
            try:
                image.seek(index)
                mode, (w, h) = image.mode, image.size
                if w * h > max_pixels:
                    yield PageImage(index=index, method=RASTER_FILE, width=w, height=h, mode=mode,
                                    error=PageError("too-large", f"page {index + 1}: {w}x{h} pixels"))
                    continue
                dpi, dpi_source = file_dpi(image.info, w, h)
                grey = to_grey(image)
                if grey is image:
                    grey = image.copy()  # the next seek() reuses the frame's memory
            except Exception as exc:
                yield PageImage(index=index, method=RASTER_FILE,
                                error=PageError(reason_of(exc), f"page {index + 1} cannot be decoded ({exc})"))
                continue
            yield PageImage(index=index, method=RASTER_FILE, width=w, height=h, dpi=dpi, dpi_source=dpi_source,
                            mode=mode, image=grey, scale=1.0)
    finally:
        image.close()
