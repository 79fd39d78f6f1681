"""No Garmin token ever reaches a log record, the console, an error message or a repr.

A full sync with a token refresh runs with every logger (urllib3 and garth included) at DEBUG;
then an auth failure is raised on purpose. Every secret the run saw -- the OAuth1 token and
secret, access and refresh tokens before and after the refresh -- is searched for everywhere.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from sync.db.models import SyncRun
from sync.db.tx import keep_progress
from sync.garmin.errors import GarminAuthError
from sync.garmin.tokens import DITokens, GarthTokens, PersonalApiTokens, Tokens, unseal
from sync.garmin_sync import sync_account
from testkit.factories import sqlite_only
from testkit.garmin_fixtures import GarminEnv


def secrets_of(tokens: Tokens) -> set[str]:
    """Every secret string a token set holds (JWT signatures on their own as well)."""
    if isinstance(tokens, GarthTokens):
        found = {tokens.oauth1["oauth_token"], tokens.oauth1["oauth_token_secret"]}
        found |= {tokens.oauth2[k] for k in ("access_token", "refresh_token") if tokens.oauth2.get(k)}
    elif isinstance(tokens, PersonalApiTokens):  # the key, and the bearer token with its signature
        found = {tokens.api_key}
        if tokens.access_token:
            found |= {tokens.access_token, tokens.access_token.rsplit(".", 1)[1]}
    else:
        assert isinstance(tokens, DITokens)
        found = {tokens.di_token, tokens.di_refresh_token, tokens.di_token.rsplit(".", 1)[1]}
    assert all(len(s) >= 12 for s in found)  # long enough that a match is no accident
    return found


def error_chain(exc: BaseException | None) -> list[str]:
    """str() and repr() of an error and of every error behind it."""
    out: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        out += [str(exc), repr(exc), *map(str, exc.args)]
        exc = exc.__cause__ or exc.__context__
    return out


@sqlite_only
@pytest.mark.parametrize("kind", ["garth", "di"])
def test_no_token_in_logs_output_errors_or_reprs(
    garmin_env: GarminEnv,
    kind: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    env = garmin_env
    caplog.set_level(logging.DEBUG)  # the root logger: every logger without its own level
    for name in ("urllib3", "requests", "garth", "oauthlib", "requests_oauthlib", "sync"):
        caplog.set_level(logging.DEBUG, logger=name)
    tokens = env.sandbox.issue_garth_tokens() if kind == "garth" else env.sandbox.issue_di_tokens()
    account = env.link(env.athlete(), tokens)
    env.sandbox.expire_all_tokens()  # the sync must refresh first
    client = env.client(account)
    report = sync_account(
        env.session, account, client, settings=env.settings, checkpoint=keep_progress(env.session)
    )
    assert report.status == "ok", report.message
    fresh = unseal(env.settings, kind, account.tokens_encrypted)
    secrets = secrets_of(tokens) | secrets_of(fresh)
    assert secrets_of(fresh) != secrets_of(tokens)  # a refresh did happen
    # A refused refresh: the error raised to the caller.
    env.sandbox.revoke_refresh()
    env.sandbox.expire_all_tokens()
    with pytest.raises(GarminAuthError) as info:
        client.profile()
    failed = env.sync(account)
    assert failed.status == "needs_reauth"

    assert any(r.name.startswith("urllib3") for r in caplog.records)  # DEBUG really was on
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    texts = [formatter.format(r) for r in caplog.records]
    out, err = capfd.readouterr()
    texts += [out, err]
    texts += [str(x) for x in (account, tokens, fresh, client, report, failed)]
    texts += [repr(x) for x in (account, tokens, fresh, client, report, failed)]
    texts += [str(report.summary()), str(failed.summary())]
    texts += error_chain(info.value)
    texts += [str(run.summary) for run in env.session.scalars(select(SyncRun))]
    leaks = [(secret[:6], text[:120]) for text in texts for secret in secrets if secret in text]
    assert not leaks
