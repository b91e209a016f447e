"""The fast verification path computes exactly what the writer computed (same JSON, same HMAC)."""

from __future__ import annotations

import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.core.audit import canonical_json
from app.services.core.audit_chain import _fast_json, _hmac_hex

values = st.one_of(st.none(), st.integers(min_value=-(2**53), max_value=2**53), st.text(), st.booleans())


@given(st.lists(values, min_size=1, max_size=16))
def test_fast_json_equals_the_writers_canonical_json(payload: list) -> None:
    assert _fast_json(payload) == canonical_json(payload)


@pytest.mark.parametrize("key", [b"", b"k" * 32, b"x" * 64, b"long" * 40])
@given(message=st.binary(max_size=600))
def test_precomputed_hmac_equals_hmac(key: bytes, message: bytes) -> None:
    assert _hmac_hex(key)(message) == hmac.digest(key, message, "sha256").hex()
