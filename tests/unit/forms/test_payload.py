import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.forms.layout.payload import Payload, PayloadError, looks_like_ours, parse, verify

KEY = bytes.fromhex("11" * 32)
codes = st.text(alphabet=string.ascii_uppercase + string.digits + "-", min_size=1, max_size=12).filter(
    lambda s: s[0] != "-"
)
payloads = st.builds(
    lambda site, serial, pages, page_frac, template, version: Payload(
        site=site, serial=f"{serial:06d}", page=1 + int(page_frac * (pages - 1)), pages=pages,
        template=template, version=version),
    codes, st.integers(0, 10**9), st.integers(1, 40), st.floats(0, 1), codes, st.integers(1, 999),
)


@given(payloads)
def test_bf03_payload_round_trips(payload):
    text = payload.encode(KEY)
    assert looks_like_ours(text)
    assert verify(text, KEY) == payload


@given(payloads, st.data())
def test_bf03_any_altered_character_fails_the_tag(payload, data):
    text = payload.encode(KEY)
    index = data.draw(st.integers(0, len(text) - 1))
    replacement = data.draw(st.sampled_from(string.ascii_uppercase + string.digits + "|/@-"))
    altered = text[:index] + replacement + text[index + 1:]
    if altered == text:
        return
    with pytest.raises(PayloadError):
        verify(altered, KEY)


def test_wrong_key_fails():
    text = Payload("BSL-01", "000123", 1, 2, "QC-WS-014", 3).encode(KEY)
    with pytest.raises(PayloadError, match="does not verify"):
        verify(text, bytes(32))


def test_foreign_text_is_not_a_payload():
    assert not looks_like_ours("https://example.com")
    with pytest.raises(PayloadError, match="not a Formtrail"):
        parse("https://example.com")


def test_bad_fields_refused():
    with pytest.raises(PayloadError):
        Payload("bsl|01", "000123", 1, 1, "X", 1).encode(KEY)
    with pytest.raises(PayloadError):
        Payload("BSL", "000123", 3, 2, "X", 1).encode(KEY)
