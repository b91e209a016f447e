"""The printed label of a serial number: the site's setting ``issuance.serial_format`` (e.g. ``{site}-{seq:06}``).

The serial NUMBER (one gap-free sequence per site, ``IssuedForm.serial_no``) never depends on the format; the
format only decides how the number is printed beside the QR code, e.g. "BSL-01-QC-WS-014-000123". Every label
ends with the number's digits after one of SEPARATORS, so any label reads back as its number (``split``)
whatever the format was when it was printed. Here live the grammar and its check; the label of an issued
form is made by ``app.services.issuance.labels`` from the format stored on its issuance.
"""

from __future__ import annotations

import re
import string

from app.services.core.error_codes import ErrorCode
from app.services.core.errors import ValidationError

KEY = "issuance.serial_format"
DEFAULT = "{site}-{seq:06}"
BARE = "{seq:06}"  # the label of forms issued before the setting existed: the number alone
FIELDS = ("site", "template", "version", "year", "seq")
SEPARATORS = "-_/."  # what may stand right before the number (typed labels are split there)
MAX_LENGTH = 60  # the format; the issuance column holds 80
# Sample values a format is tried with when it is set: the longest site code, a long template code, numbers of
# several sizes (a spec that pads with spaces, groups digits or changes the base shows up on one of them).
_SAMPLE = {"site": "ABCDEFGHIJKLMNOP", "template": "QC-WS-014", "version": 12, "year": 2026}
_SAMPLE_NUMBERS = (1, 42, 123456, 1_000_000_007)
_LABEL = re.compile(r"(.*[" + re.escape(SEPARATORS) + r"])?([0-9]+)", re.DOTALL)


def _refused(fmt: str, why: str) -> ValidationError:
    return ValidationError(
        f"serial format {fmt!r}: {why}. Use the fields {{site}}, {{template}}, {{version}} and {{year}} with text "
        f"between them, and end with the number, e.g. {{site}}-{{template}}-{{seq:06}} (the number must come last, "
        f"after one of {' '.join(SEPARATORS)})", code=ErrorCode.SERIAL_FORMAT_INVALID)


def checked(fmt: str) -> str:
    """``fmt`` stripped when it is a format every label of which reads back as its number; ValidationError
    (code serial-format-invalid) naming what is wrong otherwise."""
    fmt = str(fmt).strip()
    if not fmt:
        raise _refused(fmt, "it is empty")
    if len(fmt) > MAX_LENGTH:
        raise _refused(fmt, f"it is {len(fmt)} characters long; at most {MAX_LENGTH} are allowed")
    if any(c.isspace() for c in fmt):
        raise _refused(fmt, "it contains a space (a label is typed in search boxes and commands)")
    try:
        parts = list(string.Formatter().parse(fmt))
    except ValueError as exc:
        raise _refused(fmt, f"its braces do not pair up ({exc})") from None
    fields = [(literal, name, spec, conversion) for literal, name, spec, conversion in parts if name is not None]
    for _literal, name, spec, conversion in fields:
        if name not in FIELDS:
            raise _refused(fmt, f"{{{name}}} is not a field" if name else "{} names no field")
        if conversion is not None or (spec and "{" in spec):
            raise _refused(fmt, f"{{{name}}} may only have a format such as :06 after it")
    seqs = [f for f in fields if f[1] == "seq"]
    if len(seqs) != 1:
        raise _refused(fmt, "it has no {seq}" if not seqs else "it has {seq} more than once")
    if parts[-1][1] != "seq":
        raise _refused(fmt, "text or a field follows {seq}: the number must come last")
    before = parts[-1][0]
    if len(parts) > 1 and not before:
        raise _refused(fmt, "a field runs straight into {seq}: put a separator between them")
    if before and before[-1] not in SEPARATORS:
        raise _refused(fmt, f"{before[-1]!r} stands right before {{seq}}")
    for number in _SAMPLE_NUMBERS:
        try:
            label = fmt.format(**_SAMPLE, seq=number)
        except (ValueError, TypeError) as exc:
            raise _refused(fmt, f"a field's format cannot be used ({exc})") from None
        digits = _tail(label)
        if digits is None or int(digits) != number or any(c.isspace() for c in label):
            raise _refused(fmt, f"number {number} would print as {label!r}: {{seq}} must print digits only")
    return fmt


def _tail(label: str) -> str | None:
    match = _LABEL.fullmatch(label)
    return match.group(2) if match else None


def label(fmt: str | None, *, site: str, template: str, version: int, year: int, number: int) -> str:
    """The label of serial ``number`` under ``fmt`` (None: the bare number, as before the setting existed)."""
    return (fmt or BARE).format(site=site, template=template, version=version, year=year, seq=number)


def split(text: str) -> tuple[str, int]:
    """(prefix, number) of a label as typed or printed: "BSL-01-QC-WS-014-000123" -> ("BSL-01-QC-WS-014-", 123),
    "000123" -> ("", 123). ValidationError when the text does not end with digits after a separator."""
    typed = text.strip()
    match = _LABEL.fullmatch(typed)
    if match is None:
        raise ValidationError(f"{text!r} is not a serial number (digits, or the serial label as printed beside "
                              "the QR code)")
    return match.group(1) or "", int(match.group(2))
