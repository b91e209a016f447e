"""Length limits of free text, declared once: a purpose of 120,000 characters is a mistake (a paste gone wrong),
prints as nonsense, and once held the database's write lock for minutes while the PDF was laid out."""

from __future__ import annotations

from app.services.core.errors import ValidationError

# field: (what the user calls it, maximum length in characters)
LIMITS: dict[str, tuple[str, int]] = {
    "purpose": ("the purpose", 300),
    "reference": ("the reference", 120),
    "issued_to": ("“issued to”", 200),
    "reason": ("a reason", 2000),
    "value": ("a value", 4000),
    "comment": ("a comment", 4000),
    "full_name": ("a full name", 200),
    "location": ("a location", 500),
}


def checked(field: str, value: str | None, *, required: str | None = None) -> str:
    """``value`` stripped; ValidationError (code ``text-too-long``) if it is longer than the field allows, or
    with the ``required`` message if it is empty and that message is given."""
    text = (value or "").strip()
    if required is not None and not text:
        raise ValidationError(required)
    what, maximum = LIMITS[field]
    if len(text) > maximum:
        raise ValidationError(f"{what} is {len(text):,} characters long; at most {maximum:,} are allowed. "
                              "Shorten it (long texts belong in the referenced document).", code="text-too-long")
    return text
