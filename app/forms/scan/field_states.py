"""What is in each box of a scanned page: writing or none, ticked or not (``readings``), for paper review by
exception (issue 15).

:func:`read_scan_page` registers the page to its template's geometry by its two codes (``registration``) and
reads every box of it; :func:`snippet` cuts a box out upright for display beside its entry.

Each box is cut out on its own at about 150 dpi, its printed edges found near where the registration puts them
(``box_sample``). Ink is what is clearly darker than the paper around the box; lone pixels are dropped. Then
(``box_rules``):

* only the inside of a box counts, ``CELL_INSET_MM`` (``TICK_INSET_MM`` for tick boxes) inside its printed
  edges and clear of its masks (a printed hint, caption or writing line);
* a writing box is cut into 1 mm windows, inked when ink covers more than 6 % of them, and the inked windows
  are grouped: a group at least 2.5 mm long is writing; one that enters over the box's edge (ink unbroken
  from inside to 0.9 mm beyond the printed edge) and stays within 3 mm of it is a stroke from next door
  running over (blank, noted "stroke overruns the box"); short groups with little ink are dust. Writing
  means ``ink``; only dust, ``blank``; a group of 1.6-2.5 mm, ``unclear``;
* a tick box goes by the share of its inside that is inked: under 3 % (or ink spanning under 0.8 mm: a
  speck) unchecked, from 5 % checked, from 65 % unclear, and from 80 % with no part of it left light, inked
  over: a correction (unchecked, noted "filled: a correction"). A faint stroke entering over its edge (the
  arm of a tick in the box below) is unclear.

``confidence`` is 0.5 at a threshold and 1.0 well beyond it; unclear readings have 0.25 or less.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from app.forms.layout.geometry import Box, FormGeometry, PageBoxes, Rect
from app.forms.layout.payload import parse
from app.forms.scan.box_rules import NOTE_FILLED, NOTE_FOREIGN, NOTE_OVERRUN, tick_reading, writing_reading
from app.forms.scan.box_sample import affine_for, ink_of, page_contrast, sample_box, working_factor
from app.forms.scan.readings import BoxReading, PageReading
from app.forms.scan.registration import PageLike, Registration, RegistrationError, as_grey, register

__all__ = ["CELL_INSET_MM", "NOTE_FILLED", "NOTE_FOREIGN", "NOTE_OVERRUN", "TICK_INSET_MM", "read_page",
           "read_scan_page", "snippet"]

CELL_INSET_MM = 0.7  # printed rules are ~0.2 mm wide and found to a pixel (0.17 mm)
TICK_INSET_MM = 0.55  # a tick box is only 3.5 mm


def read_scan_page(image: PageLike, geometry: FormGeometry, page_number: int,
                   payload_text: str | None) -> PageReading:
    """Register and read page ``page_number`` of a form of ``geometry`` on ``image`` (a PIL image of any mode, a
    2-D uint8 array or a ``scan_pages.PageImage``): plain data in and out, for a worker process.
    ``payload_text``: the text intake decoded for this page (None: any code of ours, of this template and page).
    A page that cannot be registered (codes missing, another template's or page's, an unusable image) comes
    back with ``error`` set and no boxes."""
    try:
        page = geometry.page(page_number)
    except KeyError:
        return PageReading(page=page_number, boxes=(), residual_mm=None,
                           error=f"template {geometry.code} has no page {page_number}")
    try:
        grey = as_grey(image)
        registration = register(grey, page, payload_text=payload_text)
        template = parse(registration.text)[0].template
        if template != geometry.code:
            raise RegistrationError("wrong-template", f"the page is of template {template}, not {geometry.code}")
    except RegistrationError as exc:
        return PageReading(page=page_number, boxes=(), residual_mm=None, error=str(exc))
    return read_page(grey, page, registration)


def read_page(image: PageLike, page: PageBoxes, registration: Registration) -> PageReading:
    """Every box of ``page`` on ``image``, registered by ``registration``, in the order of ``page.boxes``; with
    the registration as ``placement`` (in fractions of the image's width and height)."""
    grey = as_grey(image)
    factor, contrast = working_factor(registration), page_contrast(grey)
    readings = tuple(_read_box(grey, registration, box, factor=factor, contrast=contrast) for box in page.boxes)
    a, b, c, d, e, f = registration.matrix
    width, height = grey.size
    placement = (a / width, b / width, c / width, d / height, e / height, f / height)
    return PageReading(page=page.page, boxes=readings, residual_mm=round(registration.residual_mm, 3),
                       placement=placement)


def _read_box(source: Image.Image, registration: Registration, box: Box, *, factor: int,
              contrast: float) -> BoxReading:
    inset = TICK_INSET_MM if box.tick else CELL_INSET_MM
    sample = sample_box(source, registration, box, inset_mm=inset, factor=factor, contrast=contrast)
    if box.tick:
        return tick_reading(box, sample, ink=ink_of(sample))
    return writing_reading(box, sample, ink=ink_of(sample))


def snippet(image: Image.Image | np.ndarray, registration: Registration, rect: Rect, *,
            margin_mm: float = 2.0) -> Image.Image:
    """``rect`` and ``margin_mm`` around it, cut out upright at the scan's own resolution, for display: "L" for a
    greyscale or bitonal scan, "RGB" for a colour one; white where the page's image ends."""
    if isinstance(image, np.ndarray):
        image = as_grey(image)
    elif image.mode not in ("L", "RGB"):
        image = image.convert("RGB") if image.mode in ("RGBA", "P", "CMYK", "YCbCr") else as_grey(image)
    k = registration.scale
    x0, y0 = rect.x_mm - margin_mm, rect.y_mm - margin_mm
    size = (max(1, round((rect.w_mm + 2 * margin_mm) * k)), max(1, round((rect.h_mm + 2 * margin_mm) * k)))
    return image.transform(size, Image.Transform.AFFINE, affine_for(registration, (x0, y0), px_per_mm=k),
                           resample=Image.Resampling.BILINEAR, fillcolor=255 if image.mode == "L" else (255,) * 3)
