"""The serial format setting's grammar (issue 14, item 5): every format accepted gives labels that end with the
number after a separator, so every label reads back as its number; anything else is refused when set."""

from __future__ import annotations

import pytest

from app.services.core.error_codes import ErrorCode
from app.services.core.errors import ValidationError
from app.services.core.setting_specs import SPECS
from app.services.site import serial_format
from app.services.site.serial_format import checked, label, split

SAMPLE = dict(site="BSL-01", template="QC-WS-014", version=3, year=2026)


@pytest.mark.parametrize(("fmt", "number", "printed"), [
    ("{site}-{seq:06}", 123, "BSL-01-000123"),
    ("{site}-{template}-{seq:06}", 1, "BSL-01-QC-WS-014-000001"),
    ("{seq:06}", 42, "000042"),
    ("{seq}", 42, "42"),
    ("{year}/{template}_v{version}.{seq:08d}", 7, "2026/QC-WS-014_v3.00000007"),
    ("SN-{seq:0>5}", 12, "SN-00012"),
    ("{site}-{year}-{seq:06}", 1_000_000, "BSL-01-2026-1000000"),  # past its padding: more digits, same number
])
def test_a_good_format_labels_every_number_so_that_it_reads_back(fmt, number, printed):
    assert checked(f"  {fmt} ") == fmt
    assert label(fmt, number=number, **SAMPLE) == printed
    assert split(printed)[1] == number
    assert split(printed.lower())[1] == number


@pytest.mark.parametrize(("fmt", "why"), [
    ("{site}-{template}", "no {seq}"),
    ("{site}", "no {seq}"),
    ("{seq}-{seq:06}", "more than once"),
    ("{seq:06}-{site}", "must come last"),
    ("{site}-{seq:06}X", "must come last"),
    ("{site}-{seq:06}-", "must come last"),
    ("{site}-{lot}-{seq:06}", "{lot} is not a field"),
    ("{0}-{seq:06}", "{0} is not a field"),
    ("{}-{seq:06}", "names no field"),
    ("{site.upper}-{seq:06}", "is not a field"),
    ("{site!r}-{seq:06}", "may only have a format"),
    ("{site}-{seq:{width}}", "may only have a format"),
    ("{template}{seq:06}", "runs straight into {seq}"),
    ("{site}N{seq:06}", "'N' stands right before"),
    ("{site}:{seq:06}", "':' stands right before"),
    ("{site}-{seq:6}", "digits only"),  # pads with spaces
    ("{site}-{seq:x}", "digits only"),  # hexadecimal
    ("{site}-{seq:,}", "digits only"),  # grouped
    ("{site}-{seq:+}", "digits only"),
    ("{site}-{version:s}-{seq:06}", "cannot be used"),  # a number formatted as text
    ("{site} {seq:06}", "space"),
    ("{site}-{seq:06", "braces"),
    ("", "empty"),
    ("X" * 60 + "-{seq}", "at most 60"),
])
def test_a_format_whose_labels_would_not_read_back_is_refused_with_its_code(fmt, why):
    with pytest.raises(ValidationError) as refused:
        checked(fmt)
    assert refused.value.code == ErrorCode.SERIAL_FORMAT_INVALID
    assert why in str(refused.value)


def test_no_format_is_the_bare_number_as_printed_before_the_setting():
    assert label(None, number=123, **SAMPLE) == "000123"


@pytest.mark.parametrize(("typed", "prefix", "number"), [
    ("000123", "", 123),
    (" 123 ", "", 123),
    ("BSL-01-000123", "BSL-01-", 123),
    ("BSL-01-QC-WS-014-000123", "BSL-01-QC-WS-014-", 123),
    ("2026/QC_v3.00000007", "2026/QC_v3.", 7),
])
def test_a_typed_label_splits_into_its_prefix_and_number(typed, prefix, number):
    assert split(typed) == (prefix, number)


@pytest.mark.parametrize("typed", ["", "abc", "BSL-01-", "12 3", "BSL-01-12a", "BSL01:000123", "１２３"])
def test_a_text_that_does_not_end_with_a_number_after_a_separator_is_no_serial(typed):
    with pytest.raises(ValidationError):
        split(typed)


def test_the_setting_defaults_to_the_site_code_and_six_digits():
    spec = SPECS[serial_format.KEY]
    assert spec.default == serial_format.DEFAULT == "{site}-{seq:06}"
    assert checked(spec.default) == spec.default
