"""Garmin's Personal API end to end: connect a key, sync, verdict and email, over real HTTP.

The sandbox serves the Personal API on its own host and fails any test whose requests went
beyond the API's limits (page size, range caps, the ZIP Accept type, more than two requests
of one key at once): see testkit/garmin_fixtures.py.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from sync.config import Settings, get_settings
from sync.db.models import Activity, GarminAccount, StrengthSet, WellnessDay
from sync.db.session import session_scope
from sync.db.tx import keep_progress
from sync.garmin.errors import PersonalApiKeyRejected
from sync.garmin.personal.client import PersonalApiClient
from sync.garmin.tokens import personal_api_from_key, unseal
from sync.garmin_sync import open_client, sync_account
from sync.garmin_sync.accounts import connect_personal_api
from sync.morning_email import dispatch_due_emails
from sync.sandbox import Sandbox
from sync.sandbox.personal_api import PERSONAL_API_HOST
from sync.verdicts.compute import compute_verdict
from testkit import local_http
from testkit.factories import make_athlete, sqlite_only
from testkit.garmin_fixtures import GarminEnv, garmin_settings_for
from testkit.smtp_server import SmtpServer


def count(env: GarminEnv, model: type, *where: object) -> int:
    return env.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def personal_requests(sandbox: Sandbox) -> list:
    return [r for r in sandbox.log if r.host == PERSONAL_API_HOST]


def test_connect_first_sync_verdict_and_email(
    smtp_server: SmtpServer, db_settings: Settings, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite and PostgreSQL: a key connects, the first sync brings activities and wellness,
    and the verdict and the email say what the Personal API cannot know."""
    get_settings.cache_clear()  # the SMTP variables are set by now
    settings = garmin_settings_for(get_settings(), sandbox)
    key = sandbox.issue_personal_api_key(expires_in_days=90)
    moment = datetime.now(UTC)
    with session_scope(settings) as s:
        ana = make_athlete(s, "ana", email="ana@example.org")
        ana.push_workouts = True  # on, but impossible on this API: the email says why
        account = connect_personal_api(s, ana, key, 90, settings, now=moment)
        assert account.token_kind == "personal_api" and account.status == "ok"
        assert account.credential_ends_at == moment + timedelta(days=90)
        # The check was one exchange and one profile-settings call, on the Personal API host.
        assert [(r.method, r.path) for r in sandbox.log] == [
            ("POST", "/personalapitoken-service/personal-api/personal-api-key/token"),
            ("GET", "/userprofile-service/userprofile/settings"),
        ]
        stored = unseal(settings, "personal_api", account.tokens_encrypted)
        assert stored.api_key == key and stored.access_token  # type: ignore[union-attr]
        assert key.encode() not in account.tokens_encrypted
        sandbox.clear_log()

        report = sync_account(
            s,
            account,
            open_client(s, account, settings, checkpoint=keep_progress(s)),
            settings=settings,
            checkpoint=keep_progress(s),
        )
        assert report.status == "ok", report.message
        assert report.activities_imported == 4 and report.garmin_sets == 0
        # Every request went to the Personal API host, with the cached token: no new exchange.
        assert report.requests == len(sandbox.log) == len(personal_requests(sandbox))
        assert sandbox.personal_api_tokens_issued() == 1
        assert not sandbox.requests("exerciseSets|trainingreadiness|socialProfile")
        fit_sets = s.scalars(select(StrengthSet)).all()
        assert fit_sets and {x.source for x in fit_sets} == {"fit"}  # the watch's own sets
        days = s.scalars(select(WellnessDay).where(WellnessDay.athlete_id == ana.id)).all()
        assert len(days) >= settings.garmin_initial_days - 3
        assert all(d.training_readiness is None for d in days)
        assert sum(d.resting_hr is not None for d in days) >= len(days) - 3
        assert sum(d.hrv_last_night_ms is not None for d in days) >= len(days) - 3
        assert sum(d.sleep_seconds is not None for d in days) >= len(days) - 3
        assert (ana.max_hr, ana.rest_hr) == (185, 42)  # from the Personal API's HR zones

        today = datetime.now(UTC).date()
        verdict = compute_verdict(s, ana, today)
        assert "garmin_sets" in verdict.unknown and "garmin_recovery" in verdict.unknown
        line = next(n for n in verdict.to_json_dict()["notes"] if n.startswith("Not known"))
        assert "Garmin readiness and recovery time (not available on Garmin's Personal API)" in line
        assert "Garmin-edited exercise sets (not available on the Personal API" in line
        assert s.scalar(select(func.count()).select_from(Activity)) >= 4  # a multisport FIT is two

    noon = datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=12)
    sent = dispatch_due_emails(noon, settings=settings)
    assert sent.sent == 1, sent.line()
    (mail,) = smtp_server.recorder.messages
    text = mail.get_body(("plain",)).get_content()
    assert "not available on Garmin's Personal API" in text
    assert "Garmin's Personal API is read-only" in text  # push is on: why nothing is on the watch
    assert not sandbox.requests("workout-service")
    assert key not in text and str(stored.access_token) not in text  # type: ignore[union-attr]


@sqlite_only
def test_a_wrong_or_revoked_key_stores_nothing(garmin_env: GarminEnv) -> None:
    env = garmin_env
    ana = env.athlete("ana")
    with pytest.raises(PersonalApiKeyRejected) as wrong:
        connect_personal_api(env.session, ana, "GCDC_not-a-key-at-all", 90, env.settings)
    assert "GCDC_not-a-key-at-all" not in str(wrong.value) and "\n" not in str(wrong.value)
    key = env.sandbox.issue_personal_api_key()
    env.sandbox.revoke_personal_api_key(key)
    with pytest.raises(PersonalApiKeyRejected):
        connect_personal_api(env.session, ana, key, 90, env.settings)
    expired = env.sandbox.issue_personal_api_key(expires_in_days=30)
    env.sandbox.clock.advance(31 * 86400)
    with pytest.raises(PersonalApiKeyRejected):
        connect_personal_api(env.session, ana, expired, 30, env.settings)
    assert count(env, GarminAccount) == 0
    # One exchange per try, never a retry loop on a refused key.
    assert len(env.sandbox.requests("personal-api-key/token")) == 3


@sqlite_only
def test_a_key_replaces_an_older_credential(garmin_env: GarminEnv) -> None:
    env = garmin_env
    ana = env.athlete("ana")
    env.link(ana)  # garth tokens first
    account = env.link_personal_api(ana, expires_in_days=365)
    assert count(env, GarminAccount) == 1 and account.token_kind == "personal_api"
    assert account.credential_ends_at is not None


@sqlite_only
def test_the_24h_token_is_renewed_before_it_expires(garmin_env: GarminEnv) -> None:
    env, sb = garmin_env, garmin_env.sandbox
    ana = env.athlete("ana")
    account = env.link_personal_api(ana)
    first = unseal(env.settings, "personal_api", account.tokens_encrypted)
    clock = sb.clock.now  # the client and the sandbox share one clock that the test moves
    report = sync_account(
        env.session,
        account,
        open_client(env.session, account, env.settings, clock=clock, checkpoint=keep_progress(env.session)),
        checkpoint=keep_progress(env.session),
    )
    assert report.status == "ok" and sb.personal_api_tokens_issued() == 1
    sb.clock.advance(23.5 * 3600)  # within the hour before `exp`: renewed before any call
    sb.clear_log()
    report = sync_account(
        env.session,
        account,
        open_client(env.session, account, env.settings, clock=clock, checkpoint=keep_progress(env.session)),
        checkpoint=keep_progress(env.session),
    )
    assert report.status == "ok", report.message
    assert sb.personal_api_tokens_issued() == 2
    assert sb.log[0].path.endswith("/personal-api-key/token")  # before the first data call
    assert not [r for r in sb.log if r.status == 401]  # never sent with an expired token
    renewed = unseal(env.settings, "personal_api", account.tokens_encrypted)
    assert renewed.access_token != first.access_token  # type: ignore[union-attr]
    assert renewed.expires_at == pytest.approx(sb.clock.now() + 86400, abs=5)


@sqlite_only
def test_a_401_on_a_data_call_exchanges_the_key_once(garmin_env: GarminEnv) -> None:
    env, sb = garmin_env, garmin_env.sandbox
    account = env.link_personal_api(env.athlete("ana"))
    sb.expire_personal_api_tokens()  # revoked early by Garmin; the key itself still works
    sb.clear_log()
    report = env.sync(account)
    assert report.status == "ok", report.message
    assert [r.status for r in sb.log[:3]] == [401, 200, 200]
    assert len(sb.requests("personal-api-key/token")) == 1


def test_a_revoked_key_is_needs_reauth_and_one_email(
    smtp_server: SmtpServer, db_settings: Settings, sandbox: Sandbox
) -> None:
    get_settings.cache_clear()
    settings = garmin_settings_for(get_settings(), sandbox)
    key = sandbox.issue_personal_api_key()
    with session_scope(settings) as s:
        ana = make_athlete(s, "ana", email="ana@example.org")
        account = connect_personal_api(s, ana, key, 90, settings)
        account_id = account.id
    sandbox.revoke_personal_api_key(key)
    sandbox.clear_log()
    with session_scope(settings) as s:
        account = s.get(GarminAccount, account_id)
        assert account is not None
        report = sync_account(
            s,
            account,
            open_client(s, account, settings, checkpoint=keep_progress(s)),
            settings=settings,
            checkpoint=keep_progress(s),
        )
        assert report.status == "needs_reauth" and account.status == "needs_reauth"
        assert "create a new key" in (account.status_reason or "")
        # The bearer died with the key (401), then one exchange, refused: nothing more.
        assert [(r.path.split("/")[1], r.status) for r in sandbox.log] == [
            ("biometric-service", 401),
            ("personalapitoken-service", 401),
        ]
        sandbox.clear_log()
        again = sync_account(
            s,
            account,
            open_client(s, account, settings, checkpoint=keep_progress(s)),
            settings=settings,
            checkpoint=keep_progress(s),
        )
        assert again.status == "needs_reauth" and sandbox.log == []  # no retry loop
    day1 = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    for days in range(3):
        dispatch_due_emails(day1 + timedelta(days=days), settings=settings)
    (told,) = smtp_server.recorder.messages
    body = told.get_body(("plain",)).get_content()
    assert "reconnect Garmin" in told["Subject"]
    assert "legday garmin connect --athlete ana" in body and key not in body


@sqlite_only
def test_429_storms_keep_the_pacing_and_lose_no_day(garmin_env: GarminEnv) -> None:
    """Storms of 429 with Retry-After (seconds and HTTP dates): each wait is waited out for every
    request of the key, a storm too long for one run makes the account wait, and in the end every
    day the sandbox has is stored."""
    env, sb = garmin_env, garmin_env.sandbox
    ana = env.athlete("ana")
    account = env.link_personal_api(ana)
    slept: list[float] = []
    wellness = sb.faults.add(
        "status", "/hrv-service|/usersummary-service|/sleep-service", status=429, retry_after="2", times=12
    )
    listing = sb.faults.add(
        "status", "/activitylist-service", status=429, retry_after=_http_date(sb, 2), times=2
    )

    def sleep(seconds: float) -> None:  # waits pass on the sandbox's clock, not the test's
        slept.append(seconds)
        sb.clock.advance(seconds)

    runs = []
    for _ in range(10):  # the scheduler's next runs, each once the account's wait is over
        moment = datetime.fromtimestamp(sb.clock.now(), UTC)
        client = open_client(
            env.session,
            account,
            env.settings,
            clock=sb.clock.now,
            sleep=sleep,
            checkpoint=keep_progress(env.session),
        )
        runs.append(
            sync_account(
                env.session,
                account,
                client,
                settings=env.settings,
                now=moment,
                checkpoint=keep_progress(env.session),
            )
        )
        if runs[-1].status == "ok":
            break
        assert runs[-1].status == "rate_limited", runs[-1].message
        sb.clock.advance(runs[-1].retry_after_s or 0)
    assert runs[-1].status == "ok" and len(runs) > 1  # the storm outlasted one run's retries
    assert wellness.hits == 12 and listing.hits == 2
    assert slept and max(slept) <= 2.0 + 1e-6  # Retry-After waited out, never longer
    # A request refused with Retry-After: 2 went again only once the 2 s had passed.
    for refused in (r for r in sb.log if r.status == 429 and r.path.startswith(("/hrv", "/sleep", "/user"))):
        retry = next(x for x in sb.log if x.at > refused.at and x.path == refused.path and x.status != 429)
        assert retry.at - refused.at >= 2.0
    today = sb.clock.today("UTC")
    start = today - timedelta(days=env.settings.garmin_initial_days)
    window = [start + timedelta(days=i) for i in range((today - start).days + 1)]
    served = {d for d in window if sb.account.wellness_day(d, today) is not None}
    stored = set(env.session.scalars(select(WellnessDay.date).where(WellnessDay.sleep_seconds.is_not(None))))
    assert served - stored == set()  # not one day lost
    assert sum(r.activities_imported for r in runs) == 4


@sqlite_only
def test_a_long_retry_after_makes_the_account_wait(garmin_env: GarminEnv) -> None:
    env, sb = garmin_env, garmin_env.sandbox
    account = env.link_personal_api(env.athlete("ana"))
    sb.faults.add("status", "/activitylist-service", status=429, retry_after="600", times=1)
    report = env.sync(account)
    assert report.status == "rate_limited" and report.retry_after_s == 600
    assert account.rate_limited_until is not None
    assert len(sb.requests("/activitylist-service")) == 1  # not hammered while it waits


def _http_date(sb: Sandbox, seconds: float) -> str:
    from email.utils import formatdate

    return formatdate(sb.clock.now() + seconds, usegmt=True)


@sqlite_only
def test_one_key_never_has_more_than_two_requests_in_flight(garmin_env: GarminEnv) -> None:
    """Six threads of one process, each with its own client of the same key."""
    env, sb = garmin_env, garmin_env.sandbox
    sb.faults.latency_ms = 30  # so requests would overlap if nothing held them back
    key = sb.issue_personal_api_key()
    errors: list[Exception] = []
    today = sb.clock.today("UTC")

    def work() -> None:
        client = PersonalApiClient(personal_api_from_key(key), env.settings)
        try:
            for back in range(4):
                client.sleep_day(today - timedelta(days=back))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(sb.requests("dailySleep")) == 24
    assert sb.personal_api_violations == []  # the sandbox refuses (429) a third one at once


@sqlite_only
def test_a_year_of_backfill_keeps_page_size_and_range_caps(garmin_env: GarminEnv) -> None:
    env, sb = garmin_env, garmin_env.sandbox
    settings = env.settings.model_copy(update={"garmin_page_size": 100, "garmin_initial_days": 200})
    account = env.link_personal_api(env.athlete("ana"))
    report = env.sync(account, settings=settings)
    assert report.status == "ok", report.message
    since = sb.clock.today("UTC") - timedelta(days=400)
    back = env.backfill(account, since, settings=settings)
    assert back.status == "ok", back.message
    lists = sb.requests("/activitylist-service")
    assert lists and all(0 < int(r.query["limit"]) <= 45 for r in lists)
    assert sb.personal_api_violations == []  # (the fixture checks it again)
    # A client asking for a bigger page gets it as several requests of at most 45.
    client = env.client(account)
    sb.clear_log()
    assert len(client.activities(0, 100)) == 4
    assert [r.query["limit"] for r in sb.requests("/activitylist-service")] == ["45"]


@sqlite_only
def test_the_report_page_says_why_nothing_is_on_the_watch(garmin_env: GarminEnv) -> None:

    from pydantic import SecretStr

    from sync.links.build import report_link
    from sync.web.app import create_app
    from sync.workouts.plan import PUSH_IMPOSSIBLE
    from testkit.report_server import serve

    env = garmin_env
    ana = env.athlete("ana")
    account = env.link_personal_api(ana)
    ana.push_workouts = True
    assert env.sync(account).status == "ok"
    day = env.sandbox.clock.today("UTC")
    compute_verdict(env.session, ana, day)
    env.session.commit()
    configured = env.settings.model_copy(update={"report_secret": SecretStr("personal-api-report-secret")})
    with serve(create_app(configured)) as base:
        page = local_http.get(report_link(ana, day=day, settings=configured, base=base), timeout=10)
    assert page.status_code == 200 and 'id="on-watch"' in page.text
    assert PUSH_IMPOSSIBLE.replace("'", "&#39;") in page.text  # as Jinja escapes it
    assert "not available on Garmin&#39;s Personal API" in page.text  # the verdict's notes


@sqlite_only
def test_a_download_over_the_size_cap_is_refused(garmin_env: GarminEnv) -> None:
    from sync.db.models import Quarantine

    env = garmin_env
    env.settings = env.settings.model_copy(update={"garmin_max_download_bytes": 1000})
    account = env.link_personal_api(env.athlete("ana"))
    report = env.sync(account)
    assert report.activities_quarantined == 4
    assert all("cap" in r for r in env.session.scalars(select(Quarantine.reason)))
    env.sandbox.clear_log()
    env.sync(account)
    assert not env.sandbox.requests("download-service")  # refused for good, not fetched again


@sqlite_only
def test_5xx_and_resets_are_retried_then_unavailable(garmin_env: GarminEnv) -> None:
    env, sb = garmin_env, garmin_env.sandbox
    account = env.link_personal_api(env.athlete("ana"))
    sb.faults.add("status", "/activitylist-service", status=503, times=2)
    sb.faults.add("reset", "/hrv-service", times=1)
    report = env.sync(account)
    assert report.status == "ok", report.message
    sb.faults.add("status", "/activitylist-service", status=502, times=None)
    sb.clear_log()
    down = env.sync(account)
    assert down.status == "unavailable" and "after 3 tries" in (down.message or "")
    assert len(sb.requests("/activitylist-service")) == env.settings.garmin_retries + 1  # bounded
