"""The Personal API's pure pieces: token expiry, the key's gate, the sealed credential."""

from __future__ import annotations

import base64
import json

import pytest

from sync.garmin.personal.gate import MAX_IN_FLIGHT, KeyGate, gate_for, key_id
from sync.garmin.personal.transport import token_expiry
from sync.garmin.tokens import PersonalApiTokens, TokenFormatError, from_json, personal_api_from_key


def _jwt(payload: dict) -> str:
    def seg(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'RS256'})}.{seg(payload)}.c2lnbmF0dXJl"


def test_the_token_expiry_is_its_exp_else_24_hours() -> None:
    assert token_expiry(_jwt({"exp": 1_800_000_000}), issued_at=1.0) == 1_800_000_000
    assert token_expiry("not-a-jwt", issued_at=1000.0) == 1000.0 + 86400
    assert token_expiry(_jwt({"exp": "tomorrow"}), issued_at=10.0) == 10.0 + 86400


def test_a_gate_never_allows_more_than_two() -> None:
    assert MAX_IN_FLIGHT == 2 and KeyGate(max_in_flight=12).max_in_flight == 2
    assert gate_for("GCDC_one") is gate_for("GCDC_one") and gate_for("GCDC_one") is not gate_for("GCDC_two")
    assert "GCDC_one" not in key_id("GCDC_one")


def test_the_credential_never_shows_and_round_trips() -> None:
    tokens = personal_api_from_key("  GCDC_secret-key-value \n", key_expires_at=1.5e9)
    assert tokens.api_key == "GCDC_secret-key-value"
    fresh = tokens.with_access(_jwt({"exp": 2_000_000_000}), 2e9)
    assert "GCDC_secret" not in repr(fresh) and fresh.access_token not in repr(fresh)  # type: ignore[operator]
    again = from_json("personal_api", fresh.to_json())
    assert again == fresh and isinstance(again, PersonalApiTokens) and again.expires_at == 2e9
    with pytest.raises(TokenFormatError) as bad:
        personal_api_from_key("GCDC_half key")
    assert "GCDC_half" not in str(bad.value)
    with pytest.raises(TokenFormatError):
        personal_api_from_key("   ")
