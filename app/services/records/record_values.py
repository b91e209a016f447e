"""Checking a value against its field: type, unit, required, limits (RC-04). Values are kept as the text
the user confirmed, normalised (e.g. "12.50" stays "12.50"; a unit typed after a number is accepted)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import re

from app.forms.layout.layout import FieldDef, FieldType
from app.services.core.errors import ValidationError

_INITIALS = re.compile(r"^[A-Za-zÀ-ÿ]{2,4}$")
_YES = {"yes", "y", "true", "1", "x", "checked"}
_NO = {"no", "n", "false", "0", "unchecked"}


@dataclasses.dataclass(frozen=True)
class Checked:
    value: str
    out_of_limits: bool
    limits: str | None  # "10 – 30 Pa", for messages


def limits_text(field: FieldDef) -> str | None:
    """The limits as printed on the form ("99.9990 – 100.0010 g": the field's decimals, not Python's)."""
    if field.low is None and field.high is None:
        return None
    unit = f" {field.unit}" if field.unit else ""
    decimals = getattr(field, "decimals", None)
    number = (lambda v: f"{v:.{decimals}f}") if decimals is not None else (lambda v: f"{v:g}")  # noqa: E731
    if field.low is not None and field.high is not None:
        return f"{number(field.low)} – {number(field.high)}{unit}"
    return f"≥ {number(field.low)}{unit}" if field.low is not None else f"≤ {number(field.high)}{unit}"


def check(field: FieldDef, raw: str) -> Checked:
    """Validate ``raw`` for ``field``; raises ValidationError with what to type instead."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError(f"{field.label}: enter a value, or mark the field NA with a reason")
    kind = field.type
    if kind is FieldType.NUMBER:
        return _number(field, text)
    if kind is FieldType.DATE:
        try:
            return Checked(dt.date.fromisoformat(text).isoformat(), False, None)
        except ValueError:
            raise ValidationError(f"{field.label}: {text!r} is not a date; write YYYY-MM-DD") from None
    if kind is FieldType.TIME:
        try:
            return Checked(dt.time.fromisoformat(text).strftime("%H:%M"), False, None)
        except ValueError:
            raise ValidationError(f"{field.label}: {text!r} is not a time; write HH:MM (24 h)") from None
    if kind is FieldType.CHOICE:
        for choice in field.choices:
            if text.casefold() == choice.casefold():
                return Checked(choice, False, None)
        raise ValidationError(f"{field.label}: choose one of {', '.join(field.choices)}")
    if kind is FieldType.CHECKBOX:
        if text.casefold() in _YES:
            return Checked("yes", False, None)
        if text.casefold() in _NO:
            return Checked("no", False, None)
        raise ValidationError(f"{field.label}: answer yes or no")
    if kind is FieldType.INITIALS:
        if not _INITIALS.match(text):
            raise ValidationError(f"{field.label}: initials are 2 to 4 letters")
        return Checked(text.upper(), False, None)
    return Checked(text, False, None)


def _number(field: FieldDef, text: str) -> Checked:
    number_text = text
    if field.unit and number_text.endswith(field.unit):
        number_text = number_text[: -len(field.unit)].strip()
    if "," in number_text and "." not in number_text and re.fullmatch(r"-?\d+,\d+", number_text):
        raise ValidationError(f"{field.label}: write the decimal point as '.', e.g. {number_text.replace(',', '.')}")
    try:
        value = decimal.Decimal(number_text)
    except decimal.InvalidOperation:
        raise ValidationError(f"{field.label}: {text!r} is not a number") from None
    if not value.is_finite():
        raise ValidationError(f"{field.label}: {text!r} is not a number")
    low = decimal.Decimal(str(field.low)) if field.low is not None else None
    high = decimal.Decimal(str(field.high)) if field.high is not None else None
    outside = (low is not None and value < low) or (high is not None and value > high)
    return Checked(number_text, outside, limits_text(field))
