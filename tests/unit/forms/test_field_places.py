"""Where each field's row is printed (app.forms.render.field_places), checked against the issued PDF itself:
the field's label is printed inside its rectangle and the table's rules run along its top and bottom edges."""

from __future__ import annotations

import dataclasses
import io

import pypdfium2 as pdfium
import pytest

from app.forms.layout.layout import Paper, TemplateLayout, load_layout
from app.forms.render.field_places import field_places
from app.forms.render.render import render_issued
from app.forms.resources import resource
from tests.unit.forms.test_render import KEY, copies, issue

DPI = 100


def _sample(code: str) -> TemplateLayout:
    return load_layout(resource("templates", f"{code}.yaml"))


def _text_in(page: pdfium.PdfPage, x: float, y: float, w: float, h: float) -> str:
    """The text printed inside a rectangle given as page fractions from the top-left, whitespace collapsed."""
    width, height = page.get_size()
    text = page.get_textpage().get_text_bounded(left=x * width, bottom=(1 - y - h) * height,
                                                  right=(x + w) * width, top=(1 - y) * height)
    return " ".join(text.split())


@pytest.mark.parametrize("code", ["QC-WS-014", "PRD-BR-102"])
def test_each_rows_rectangle_holds_its_label_and_lies_on_the_printed_rules(code: str) -> None:
    layout = _sample(code)
    out = io.BytesIO()
    render_issued(out, layout, issue(), copies(count=1), key=KEY)
    document = pdfium.PdfDocument(out.getvalue())
    places = field_places(layout)
    assert list(places) == [f.name for f in layout.fields]
    numbers = {f.name: n for n, f in enumerate(layout.fields, start=1)}
    for field in layout.fields:
        place = places[field.name]
        assert place.page == field.page
        assert 0 < place.x < place.x + place.w < 1 and 0 < place.y < place.y + place.h < 1
        page = document[field.page - 1]
        # The row's number and whole label are printed inside it, and nothing of the rows above or below.
        text = _text_in(page, place.x, place.y, place.w, place.h)
        assert text.startswith(f"{numbers[field.name]} ") and " ".join(field.label.split()) in text, text
        others = [f.label for f in layout.fields if f is not field and f.page == field.page]
        assert not any(" ".join(label.split()) in text for label in others), text

        # The rules of the table run along the row's top and bottom edges: dark pixels across the row there.
        image = page.render(scale=DPI / 72).to_pil().convert("L")
        x0, x1 = round(place.x * image.width) + 4, round((place.x + place.w) * image.width) - 4
        for edge in (place.y, place.y + place.h):
            y = round(edge * image.height)
            darkest = [min(image.getpixel((x, yy)) for yy in range(y - 1, y + 2)) for x in range(x0, x1, 7)]
            assert sum(d < 160 for d in darkest) > 0.9 * len(darkest), (field.name, numbers[field.name], edge)
    document.close()


def test_letter_paper_and_rows_in_order_down_the_page() -> None:
    layout = _sample("QC-WS-014")
    letter = dataclasses.replace(layout, paper=Paper.LETTER)
    for sample in (layout, letter):
        places = list(field_places(sample).values())
        for upper, lower in zip(places, places[1:], strict=False):
            assert upper.y + upper.h == pytest.approx(lower.y)  # the rows touch, top to bottom
    a4, us = field_places(layout)["balance_id"], field_places(letter)["balance_id"]
    assert a4.w != pytest.approx(us.w)  # fractions of each paper's own size
