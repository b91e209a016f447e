"""A scanner page's JPEG, decoded only as far as needed.

Decoding the whole 300-dpi page is most of the time a scanned page costs (even DCT-scaled), yet our code is
usually found in the top-right corner, within the top third of the page. A baseline JPEG is stored top row
first, so those rows can be decoded alone: :func:`top_rows` gives exactly the pixels the whole decode would
give there (DCT scaling included), about four times faster. It uses Pillow's decoder object directly (the
public API decodes whole images only) and returns None whenever that is not possible, so callers always
have the whole decode to fall back on.
"""

from __future__ import annotations

import io

from PIL import Image, ImageFile

_FEED = 1 << 16


def open_draft(jpeg: bytes, factor: int) -> tuple[ImageFile.ImageFile, str, tuple[int, int]]:
    """The JPEG opened and set to decode DCT-scaled by 1/``factor`` (nothing decoded yet):
    (image, the original mode, the original size). Raises OSError if it is not a JPEG."""
    im = Image.open(io.BytesIO(jpeg))
    if im.format not in ("JPEG", "MPO"):
        raise OSError("the DCTDecode stream is not a JPEG")
    size, mode = im.size, im.mode
    # Pillow scales only while the result stays at least the size asked: ceil() of an odd side asked more
    # than a half (or quarter) has, and the image was decoded whole (2481 px wide at 300 dpi).
    im.draft("L", (max(1, size[0] // factor), max(1, size[1] // factor)))
    return im, mode, size


def ends_complete(jpeg: bytes) -> bool:
    """Whether the JPEG ends with its end-of-image marker. Decoding only the top rows would not notice a file
    cut off further down (a scanner still writing it), so only a complete one is decoded that way."""
    return jpeg.rstrip(b"\x00\r\n\t ")[-2:] == b"\xff\xd9"


def top_rows(jpeg: bytes, factor: int, rows: int) -> Image.Image | None:
    """The top ``rows`` rows of the DCT-scaled image, greyscale, without decoding the rest; None if this
    cannot be done here (the caller decodes the whole image)."""
    try:
        im, _mode, _size = open_draft(jpeg, factor)
        width, height = im.size
        rows = min(rows, height)
        if len(im.tile) != 1 or rows <= 0:
            return None
        name, _extents, offset, args = im.tile[0]
        out = Image.new(im.mode, (width, rows))
        decoder = Image._getdecoder(im.mode, name, args, im.decoderconfig)  # private, see the module doc
        decoder.setimage(out.im, (0, 0, width, rows))
        # Fed like ImageFile.load feeds it: what the decoder did not consume is given again with more.
        data, position, pending = memoryview(jpeg), offset, b""
        try:
            while True:
                chunk = bytes(data[position:position + _FEED])
                if not chunk:
                    return None  # the data ended before the rows were complete
                position += len(chunk)
                pending += chunk
                consumed, _error = decoder.decode(pending)
                if consumed < 0:
                    break  # the region is full: the decoder stops here (and says the stream was cut short)
                pending = pending[consumed:]
        finally:
            decoder.cleanup()
    except Exception:  # noqa: BLE001 - any surprise means: decode the whole image instead
        return None
    return out if out.mode == "L" else out.convert("L")
