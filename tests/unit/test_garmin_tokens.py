"""Token parsing, sealing and redaction; backoff arithmetic; the FIT time shift."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from sync.config import Settings
from sync.errors import ConfigError
from sync.fit import decode_fit
from sync.garmin import crypto
from sync.garmin.backoff import next_429_backoff, parse_retry_after, retry_delay
from sync.garmin.tokens import (
    DITokens,
    GarthTokens,
    TokenFormatError,
    di_from_path,
    garth_from_dir,
    garth_from_string,
    seal,
    unseal,
)
from sync.sandbox.fitshift import shift_fit_days
from testkit.helpers import LEG_DAY_FIT
from tests.conftest import require_shared

TEMPLATES = Path(__file__).resolve().parents[2] / "sync" / "sandbox" / "templates"


def settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path, **kw)  # type: ignore[arg-type]


def test_garth_dumps_string_and_directory_parse_alike(tmp_path: Path) -> None:
    from_string = garth_from_string((TEMPLATES / "garth_dumps_token.txt").read_text())
    (tmp_path / "oauth1_token.json").write_text((TEMPLATES / "garth_oauth1_token.json").read_text())
    (tmp_path / "oauth2_token.json").write_text((TEMPLATES / "garth_oauth2_token.json").read_text())
    from_dir = garth_from_dir(tmp_path)
    assert from_string.oauth1 == from_dir.oauth1 and from_string.oauth2 == from_dir.oauth2
    assert from_dir.domain == "garmin.com" and from_dir.expires_at == 1773905487


def test_di_store_parses_from_file_and_dir(tmp_path: Path) -> None:
    (tmp_path / "garmin_tokens.json").write_text((TEMPLATES / "garmin_tokens.json").read_text())
    tokens = di_from_path(tmp_path)
    assert tokens == di_from_path(tmp_path / "garmin_tokens.json")
    assert tokens.expires_at == 1790086399 and tokens.di_client_id.endswith("2025Q2")


@pytest.mark.parametrize("bad", ["", "not base64!", "W10=", "bm90IGpzb24="])
def test_bad_garth_strings_are_refused_without_echo(bad: str) -> None:
    with pytest.raises(TokenFormatError) as info:
        garth_from_string(bad)
    assert bad not in str(info.value) or not bad


def test_di_token_must_be_a_signed_jwt() -> None:
    with pytest.raises(TokenFormatError, match="JWT"):
        DITokens(di_token="abc", di_refresh_token="r", di_client_id="c")
    unsigned = "eyJhbGciOiJub25lIn0.eyJleHAiOjF9.x"
    with pytest.raises(TokenFormatError, match="alg none"):
        DITokens(di_token=unsigned, di_refresh_token="r", di_client_id="c")


def test_seal_roundtrip_and_redacted_repr(tmp_path: Path) -> None:
    s = settings(tmp_path, secret_key=SecretStr(Fernet.generate_key().decode()))
    tokens = garth_from_string((TEMPLATES / "garth_dumps_token.txt").read_text())
    blob = seal(s, tokens)
    assert b"PLACEHOLDER" not in blob
    again = unseal(s, "garth", blob)
    assert isinstance(again, GarthTokens) and again.oauth2 == tokens.oauth2
    assert "PLACEHOLDER" not in repr(again)
    other = settings(tmp_path, secret_key=SecretStr(Fernet.generate_key().decode()))
    with pytest.raises(ConfigError, match="cannot be decrypted") as info:
        unseal(other, "garth", blob)
    assert "PLACEHOLDER" not in str(info.value)


def test_key_file_is_created_0600_only_for_the_embedded_default(tmp_path: Path) -> None:
    embedded = settings(tmp_path / "a")
    key = crypto.resolve_key(embedded)
    path = crypto.key_file(embedded)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert crypto.resolve_key(embedded).get_secret_value() == key.get_secret_value()
    service = settings(tmp_path / "b", database_url="postgresql://x/y")
    with pytest.raises(ConfigError, match="Fernet.generate_key"):
        crypto.resolve_key(service)


def test_backoff_arithmetic() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    waits = []
    prev = 0.0
    for _ in range(8):
        prev = next_429_backoff(prev, None, base_s=1800, cap_s=86400)
        waits.append(prev)
    assert waits[:3] == [1800, 3600, 7200] and waits[-1] == 86400
    assert next_429_backoff(7200, 5.0, base_s=1800, cap_s=86400) == 5.0
    assert all(0.25 <= retry_delay(2, base_s=0.25) <= 0.5 for _ in range(20))


def test_fit_shift_keeps_the_file_valid() -> None:
    data = LEG_DAY_FIT.read_bytes()
    shifted = shift_fit_days(data, 30)
    assert len(shifted) == len(data) and shifted != data
    before = [s.start for s in decode_fit(data).sessions]
    after = [s.start for s in decode_fit(shifted).sessions]
    assert before and [(b - a).days for a, b in zip(before, after, strict=True)] == [30] * len(before)


def test_sample_tokens_match_the_shared_samples() -> None:
    samples = require_shared("garmin-connect/samples")  # skips locally, fails under CI=true
    for name in ("garth_oauth1_token.json", "garmin_tokens.json", "token_exchange.json"):
        assert json.loads((samples / name).read_text()) == json.loads((TEMPLATES / name).read_text())


def _di_store() -> dict[str, str]:
    return json.loads((TEMPLATES / "garmin_tokens.json").read_text())


@pytest.mark.parametrize("field", ["di_token", "di_refresh_token", "di_client_id"])
@pytest.mark.parametrize("where", ["end", "start", "middle"])
@pytest.mark.parametrize("junk", ["\n", "\r\n", " ", "\t", "\x00", "\x7f", "\u00e9"])
def test_di_store_with_stray_whitespace_is_refused_naming_the_field(
    tmp_path: Path, field: str, where: str, junk: str
) -> None:
    # A token ending in "\n" used to pass jwt_claims, then requests raised InvalidHeader with
    # "Bearer <token>" in its message, printed in a traceback by add-tokens.
    store = _di_store()
    value = store[field]
    store[field] = {"end": value + junk, "start": junk + value, "middle": value[:5] + junk + value[5:]}[where]
    (tmp_path / "garmin_tokens.json").write_text(json.dumps(store))
    with pytest.raises(TokenFormatError, match=field) as info:
        di_from_path(tmp_path)
    message = str(info.value)
    assert "whitespace" in message
    for secret in _di_store().values():
        for part in secret.split("."):
            assert part not in message


def test_di_store_file_may_end_with_a_newline(tmp_path: Path) -> None:
    # Whitespace around the JSON is fine; only the token values themselves must be clean.
    (tmp_path / "garmin_tokens.json").write_text("\n  " + json.dumps(_di_store()) + "\n\n")
    assert di_from_path(tmp_path).di_token == _di_store()["di_token"]


@pytest.mark.parametrize(
    ("part", "field"),
    [
        ("oauth1", "oauth_token"),
        ("oauth1", "oauth_token_secret"),
        ("oauth1", "mfa_token"),
        ("oauth2", "access_token"),
        ("oauth2", "refresh_token"),
        ("oauth2", "token_type"),
    ],
)
@pytest.mark.parametrize("junk", ["\n", " ", "\x0b"])
def test_garth_tokens_with_stray_whitespace_are_refused_naming_the_field(
    tmp_path: Path, part: str, field: str, junk: str
) -> None:
    oauth = {
        "oauth1": json.loads((TEMPLATES / "garth_oauth1_token.json").read_text()),
        "oauth2": json.loads((TEMPLATES / "garth_oauth2_token.json").read_text()),
    }
    oauth[part][field] = oauth[part][field] + junk
    (tmp_path / "oauth1_token.json").write_text(json.dumps(oauth["oauth1"]))
    (tmp_path / "oauth2_token.json").write_text(json.dumps(oauth["oauth2"]))
    with pytest.raises(TokenFormatError, match=f"{part}.*{field}") as info:
        garth_from_dir(tmp_path)
    assert oauth[part][field].strip() not in str(info.value)
    dumped = base64.b64encode(json.dumps([oauth["oauth1"], oauth["oauth2"]]).encode()).decode()
    with pytest.raises(TokenFormatError, match=field):
        garth_from_string(dumped + "\n")  # whitespace around the string itself is fine


def test_garth_scope_may_hold_spaces(tmp_path: Path) -> None:
    # OAuth2's scope is a space-separated list, not a credential: it is not checked.
    tokens = garth_from_string((TEMPLATES / "garth_dumps_token.txt").read_text())
    assert tokens.oauth2 is not None and " " in tokens.oauth2["scope"]
