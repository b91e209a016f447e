"""The geometry of a template's writing boxes, measured from the renderer itself (``measure_pages`` draws every
page onto a scratch canvas and reports each box it draws), in the contract of ``app.forms.layout.geometry``.
Every issued copy of a template version draws the same static page, so one geometry serves all its copies."""

from __future__ import annotations

from functools import lru_cache

from reportlab.lib.units import mm

from app.forms.layout.geometry import Box, FormGeometry, Mark, PageBoxes, Rect
from app.forms.layout.layout import TemplateLayout
from app.forms.render.render import MODULE_MAX
from app.forms.render.render_base import QR_SLOT, geometry
from app.forms.render.render_layout import measure_pages
from app.forms.render.render_table import BoxSink


def form_geometry(layout: TemplateLayout) -> FormGeometry:
    """Every writing box and both QR slots of every page of ``layout``, in millimetres from the top-left."""
    return _measure(layout)


@lru_cache(maxsize=64)  # layouts are frozen, hashable plain data; intake reads many pages of few versions
def _measure(layout: TemplateLayout) -> FormGeometry:
    geom = geometry(layout.paper)
    height = geom.height

    def rect(x: float, y: float, w: float, h: float) -> Rect:
        return Rect(x / mm, (height - y - h) / mm, w / mm, h / mm)

    boxes: dict[int, list[Box]] = {p: [] for p in range(1, layout.pages + 1)}

    def sink_for(page: int) -> BoxSink:
        def heard(field: str | None, part: str, x: float, y: float, w: float, h: float,
                  masks: tuple[tuple[float, float, float, float], ...]) -> None:
            boxes[page].append(Box(field=field, part=part, rect=rect(x, y, w, h),
                                   masks=tuple(rect(*m) for m in masks), tick=part.startswith("option:")))
        return heard

    measure_pages(layout, on_box=sink_for)
    marks = (Mark("top-right", rect(*geom.top_qr, QR_SLOT, QR_SLOT), MODULE_MAX / mm),
             Mark("bottom-left", rect(*geom.bottom_qr, QR_SLOT, QR_SLOT), MODULE_MAX / mm))
    return FormGeometry(code=layout.code, width_mm=geom.width / mm, height_mm=geom.height / mm,
                        pages=tuple(PageBoxes(page=p, boxes=tuple(b), marks=marks) for p, b in boxes.items()))
