"""A QC-WS-014 worksheet filled in by hand on a real issued page: every entry, its initials, the second
person's initials, one tick per yes/no and the signatures, except the GDP slips a test asks for."""

from __future__ import annotations

import numpy as np
from PIL import Image

from app.forms.layout.geometry import FormGeometry
from tests.helpers.handwriting import Pen

VALUES = {"balance_id": "BAL-03", "calibration_valid_until": "31/01/2027", "check_weight_id": "CW-100-07",
          "check_weight_reading": "100.0003", "sample_id": "LOT 24-0117", "sample_weight_1": "0.1002",
          "sample_weight_2": "0.0998", "sample_weight_3": "0.1011", "weighing_time": "09:42", "comments": "NA"}


def fill_worksheet(image: Image.Image, geometry: FormGeometry, *, dpi: int, left_blank: frozenset[str] = frozenset(),
                   no_initials: frozenset[str] = frozenset(), ticked_twice: frozenset[str] = frozenset(),
                   seed: int = 7) -> Image.Image:
    """``image`` (page 1 at ``dpi``) written on: entries of ``left_blank`` stay empty, the done-by cells of
    ``no_initials`` stay empty, both options of ``ticked_twice`` are ticked."""
    pen = Pen(image, dpi, np.random.default_rng(seed))
    for box in geometry.page(1).boxes:
        r, field = box.rect, box.field
        if field in left_blank:
            continue
        if box.part == "entry" and field in VALUES:
            pen.text(VALUES[field].upper(), r.x_mm + 2, r.bottom_mm - 2.2, height_mm=4, width_mm=0.4, grey=35)
        elif box.part == "checked_by" or (box.part == "done_by" and field not in no_initials):
            pen.text("AK" if box.part == "done_by" else "JM", r.x_mm + 2, r.bottom_mm - 2.2, height_mm=3.5,
                     width_mm=0.4, grey=35)
        elif box.part == "option:Yes" or (box.part == "option:No" and field in ticked_twice):
            pen.tick(r.x_mm + r.w_mm / 2, r.y_mm + r.h_mm / 2, size_mm=3.4, width_mm=0.45, grey=25)
        elif box.part.startswith("signature:"):
            pen.scribble(r.x_mm + 20, r.bottom_mm - 3, length_mm=25, height_mm=4, width_mm=0.4, grey=30)
    return pen.done()
