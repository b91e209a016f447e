"""Where each field's row is printed on its page, as fractions of the page: the scan viewer zooms to the row of
the field being transcribed. The numbers come from the renderer itself (``measure_pages`` draws every page onto
a scratch canvas and reports each row it draws), so the viewer and the paper cannot disagree."""

from __future__ import annotations

import dataclasses
from functools import lru_cache

from app.forms.layout.layout import FieldDef, TemplateLayout
from app.forms.render.render_base import geometry
from app.forms.render.render_layout import measure_pages


@dataclasses.dataclass(frozen=True)
class FieldPlace:
    """The row of field ``name`` on page ``page``: left, top, width and height as fractions (0..1) of the page,
    measured from its top-left corner, as an image of the page (a scan) is addressed."""

    name: str
    page: int
    x: float
    y: float
    w: float
    h: float


def field_places(layout: TemplateLayout) -> dict[str, FieldPlace]:
    """Every field's row rectangle on its page, in the layout's order."""
    return dict(_measured(layout))


@lru_cache(maxsize=64)  # layouts are frozen, hashable plain data; a snippet asks for every field it crops
def _measured(layout: TemplateLayout) -> tuple[tuple[str, FieldPlace], ...]:
    geom = geometry(layout.paper)
    places: dict[str, FieldPlace] = {}

    def heard(field: FieldDef, x: float, bottom: float, width: float, height: float) -> None:
        places[field.name] = FieldPlace(
            name=field.name, page=field.page, x=x / geom.width, y=(geom.height - bottom - height) / geom.height,
            w=width / geom.width, h=height / geom.height)

    measure_pages(layout, on_row=heard)
    return tuple((f.name, places[f.name]) for f in layout.fields if f.name in places)
