"""No athlete cut off without warning, for each credential kind (garth, DI, Personal API).

Each account learns when its credential ends as it is linked; the morning emails 14, 7 and 1
days before say so with a connect link (and 15 days before they do not); at the end the sync
marks the account `needs_reauth` without a request to Garmin, and the athlete gets exactly one
re-auth email over the following mornings. Time is the injected `now`, never a sleep.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from sync.config import Settings, get_settings
from sync.credential_end import ends_on
from sync.db.models import Athlete, GarminAccount
from sync.db.session import session_scope
from sync.db.tx import keep_progress
from sync.garmin.lifetime import DI_REFRESH_IDLE
from sync.garmin_sync.accounts import add_tokens, connect_personal_api
from sync.garmin_sync.now import AccountNeedsReauth, sync_account_now
from sync.morning_email import dispatch_due_emails
from sync.sandbox import Sandbox
from sync.scheduling import local_moment
from testkit.factories import make_athlete
from testkit.garmin_fixtures import garmin_settings_for
from testkit.smtp_server import SmtpServer

TZ = "Europe/Berlin"


def _link(kind: str, sandbox: Sandbox) -> Callable[..., GarminAccount]:
    def link(session, athlete: Athlete, settings: Settings) -> GarminAccount:  # noqa: ANN001
        if kind == "garth":
            return add_tokens(session, athlete, sandbox.issue_garth_tokens(), settings)
        if kind == "di":
            return add_tokens(session, athlete, sandbox.issue_di_tokens(), settings)
        key = sandbox.issue_personal_api_key(expires_in_days=30)
        return connect_personal_api(session, athlete, key, 30, settings)

    return link


def _morning(day, minutes: int = 1) -> datetime:  # noqa: ANN001 - a date
    return local_moment(day, time(6, 30), TZ) + timedelta(minutes=minutes)


@pytest.mark.parametrize("kind", ["garth", "di", "personal_api"])
def test_warned_14_7_1_days_before_then_exactly_one_reauth_email(
    kind: str, db_settings: Settings, smtp_server: SmtpServer, sandbox: Sandbox
) -> None:
    get_settings.cache_clear()  # the SMTP variables are set by now
    base = get_settings().model_copy(update={"report_secret": SecretStr("warn-secret")})
    settings = garmin_settings_for(base, sandbox)
    linked_at = datetime.now(UTC)
    with session_scope(settings) as session:
        ana = make_athlete(session, "ana", email="ana@example.org", timezone=TZ)
        account = _link(kind, sandbox)(session, ana, settings)
        account_id, ends = account.id, account.credential_ends_at
    assert ends is not None  # every kind knows its end from the moment it is linked
    expected = {
        # The sandbox token's mfa_expiration_timestamp: a year after a login 90 days ago.
        "garth": linked_at + timedelta(days=365 - 90),
        "di": linked_at + DI_REFRESH_IDLE,  # the refresh token issued with the access JWT
        "personal_api": linked_at + timedelta(days=30),  # the expiry chosen for the key
    }[kind]
    assert abs(ends - expected) < timedelta(minutes=5)

    end_day = ends_on(ends, TZ)
    for before in (15, 14, 7, 1):
        dispatch_due_emails(_morning(end_day - timedelta(days=before)), settings=settings)
    mornings = [m.get_body(("plain",)).get_content() for m in smtp_server.recorder.messages]
    assert len(mornings) == 4
    assert "Your Garmin connection ends" not in mornings[0] and "key ends" not in mornings[0]
    for text, when in zip(mornings[1:], ("in 14 days", "in 7 days", "tomorrow"), strict=True):
        assert f"ends {when} ({end_day.isoformat()})" in text
        assert "Connect with a Personal API key: http" in text and "/join/" in text
    html = smtp_server.recorder.messages[1].get_body(("html",)).get_content()
    assert 'id="reconnect"' in html and "/join/" in html

    # The end: the sync stops before calling Garmin, the account needs re-authentication.
    requests_before = len(sandbox.log)
    with pytest.raises(AccountNeedsReauth) as stopped:  # raised: the worker ends the task
        sync_account_now(account_id, settings=settings, now=ends + timedelta(minutes=1))
    assert stopped.value.status == "needs_reauth"
    assert len(sandbox.log) == requests_before
    assert sync_account_now(account_id, settings=settings, now=ends + timedelta(hours=2)).status == "skipped"
    with session_scope(settings) as session:
        stored = session.scalar(select(GarminAccount))
        assert stored is not None and stored.status == "needs_reauth"
        assert stored.status_reason and end_day.isoformat() in stored.status_reason

    for after in (1, 2, 3):  # three mornings after the end: one email, never a loop
        dispatch_due_emails(_morning(end_day + timedelta(days=after)), settings=settings)
    (told,) = smtp_server.recorder.messages[4:]
    assert "reconnect Garmin" in told["Subject"]
    text = told.get_body(("plain",)).get_content()
    assert "/join/" in text and "Personal API Token" in text


def test_the_email_alone_tells_once_when_no_sync_ran_at_the_end(
    db_settings: Settings, smtp_server: SmtpServer, sandbox: Sandbox
) -> None:
    """Without a sync after the end (worker down), the dispatcher still sees the end: one email."""
    get_settings.cache_clear()
    settings = garmin_settings_for(
        get_settings().model_copy(update={"report_secret": SecretStr("s")}), sandbox
    )
    with session_scope(settings) as session:
        ana = make_athlete(session, "ana", email="ana@example.org", timezone=TZ)
        ends = _link("personal_api", sandbox)(session, ana, settings).credential_ends_at
    assert ends is not None
    for after in (1, 2, 3):
        dispatch_due_emails(_morning(ends_on(ends, TZ) + timedelta(days=after)), settings=settings)
    (told,) = smtp_server.recorder.messages
    assert "reconnect Garmin" in told["Subject"]
    assert "Personal API key expired on" in told.get_body(("plain",)).get_content()


def test_both_status_commands_show_when_the_credential_ends(
    settings: Settings, sandbox: Sandbox, child_env: dict[str, str]
) -> None:
    from sync.db.migrate import upgrade
    from testkit.helpers import legday_process

    upgrade(settings)
    linked = garmin_settings_for(settings, sandbox)
    with session_scope(linked) as session:
        ana = make_athlete(session, "ana", timezone=TZ)
        ends = _link("personal_api", sandbox)(session, ana, linked).credential_ends_at
    assert ends is not None
    env = {**child_env, "LEGDAY_SECRET_KEY": linked.secret_key.get_secret_value(), "COLUMNS": "250"}  # type: ignore[union-attr]
    as_json = legday_process("status", "--json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    (row,) = json.loads(as_json.stdout)
    assert row["credential_kind"] == "personal_api" and row["credential_days_left"] in (29, 30)
    assert row["credential_ends_at"].startswith(ends.date().isoformat())
    table = legday_process("garmin", "status", env=env)
    assert table.returncode == 0, table.stderr
    assert "credential ends" in table.stdout and ends.strftime("%Y-%m-%d") in table.stdout


def test_accounts_stored_before_learn_their_end_from_the_migration_or_the_next_sync(
    settings: Settings, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import time as dt_time

    from cryptography.fernet import Fernet
    from sqlalchemy import MetaData

    from sync.db.migrate import upgrade
    from sync.db.session import engine_for
    from sync.garmin.tokens import seal
    from sync.garmin_sync import open_client

    monkeypatch.setenv("LEGDAY_SECRET_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    configured = garmin_settings_for(get_settings(), sandbox)
    upgrade(configured, revision="0005_personal_api")
    # Rows as a 0005 database holds them: written against the tables of that revision (the
    # models describe head, whose later columns that database does not have yet).
    engine = engine_for(configured.sqlalchemy_url)
    old = MetaData()
    old.reflect(engine, only=["athlete", "garmin_account"])
    with engine.begin() as conn:
        for name in ("ana", "bo"):
            athlete_id = conn.execute(
                old.tables["athlete"]
                .insert()
                .values(
                    name=name,
                    timezone=TZ,
                    send_time=dt_time(6, 30),
                    sex="female",
                    thresholds={},
                    email_enabled=True,
                    created_at=datetime.now(UTC),
                )
            ).inserted_primary_key[0]
            conn.execute(
                old.tables["garmin_account"]
                .insert()
                .values(
                    athlete_id=athlete_id,
                    token_kind="garth",
                    tokens_encrypted=seal(configured, sandbox.issue_garth_tokens()),
                    status="ok",
                    backoff_s=0.0,
                )
            )
    upgrade(configured)  # 0006 backfills from the tokens
    recorded = None
    with session_scope(configured) as session:
        accounts = session.scalars(select(GarminAccount).order_by(GarminAccount.id)).all()
        recorded = accounts[0].credential_ends_at  # garth's mfa_expiration_timestamp, in UTC
        assert recorded is not None and abs(recorded - datetime.now(UTC) - timedelta(days=275)) < timedelta(
            hours=1
        )
        assert accounts[1].credential_ends_at == recorded
        accounts[1].credential_ends_at = None  # as if the key had not been at hand
    with session_scope(configured) as session:
        account = session.scalars(select(GarminAccount).order_by(GarminAccount.id)).all()[1]
        open_client(
            session, account, configured, checkpoint=keep_progress(session)
        )  # what every sync does first
    with session_scope(configured) as session:
        assert session.scalars(select(GarminAccount.credential_ends_at)).all() == [recorded, recorded]
