"""Embedded Unicode fonts, so names such as "Müller" or "Øster" print on every form and report."""

from __future__ import annotations

import functools

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from app.forms.resources import resource

SANS = "DejaVuSans"
SANS_BOLD = "DejaVuSans-Bold"
CONDENSED = "DejaVuSansCondensed"
CONDENSED_BOLD = "DejaVuSansCondensed-Bold"
MONO = "DejaVuSansMono"


@functools.cache
def register_fonts() -> None:
    for name in (SANS, SANS_BOLD, CONDENSED, CONDENSED_BOLD, MONO):
        pdfmetrics.registerFont(TTFont(name, str(resource("fonts", f"{name}.ttf"))))
    # Let <b> in Paragraph markup pick the bold face.
    addMapping(SANS, 0, 0, SANS)
    addMapping(SANS, 1, 0, SANS_BOLD)
    addMapping(CONDENSED, 0, 0, CONDENSED)
    addMapping(CONDENSED, 1, 0, CONDENSED_BOLD)
