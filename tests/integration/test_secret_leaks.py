"""No secret in any log line, traceback, console output or raw database dump, even when things fail.

Extends test_garmin_token_leaks.py (one Garmin sync, logs and reprs) to the whole service and
its failure paths, on SQLite and PostgreSQL:

- Garmin: a garth and a DI account; a refresh that succeeds, then the sandbox's 401 switch on
  the activity list and a refused refresh (needs re-auth); a Personal API account: its key, its
  first bearer token, a second one after a 401, then the key revoked (needs re-auth);
- SMTP: a login refused with 535 and a message refused with 550 (a real aiosmtpd server that
  requires AUTH), with LEGDAY_SMTP_PASSWORD set to a unique marker;
- the report server: a bearer token used, a wrong one tried, a signed link opened, with
  LEGDAY_REPORT_SECRET set to a unique marker;
- a Celery task (eager) that crashes with the account and its client in its error message;
- push channels (Apprise over real HTTP to a loopback receiver, Apprise and urllib3 at DEBUG):
  URLs with a password and a secret path, added, listed, tested, answered 500 then 400 and 200.

Every log record at every level (root at DEBUG, exc_info formatted), stdout/stderr, the
tracebacks, the raw database (SQLite: the file bytes with its WAL; PostgreSQL: every row of
every table as text) and every file in the data dir are searched for each secret, and for its
base64, hex and SMTP AUTH PLAIN forms.
"""

from __future__ import annotations

import base64
import logging
import traceback
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import select, text

import worker.tasks as tasks
from sync.config import Settings, get_settings
from sync.db.models import Athlete, Base, ChannelDelivery, EmailDelivery, GarminAccount
from sync.db.session import engine_for, session_scope
from sync.db.tx import keep_progress
from sync.errors import TransientError
from sync.garmin.tokens import unseal
from sync.garmin_sync import now as sync_now
from sync.garmin_sync import sync_account
from sync.garmin_sync.accounts import connect_personal_api
from sync.links.build import report_link
from sync.morning_email import dispatch_due_emails
from sync.morning_push import dispatch_due_pushes
from sync.notify.push import channels as push_channels
from sync.sandbox import Sandbox
from sync.scheduling import local_today
from sync.verdicts.compute import compute_verdict
from sync.web.api_tokens import issue_token
from sync.web.app import create_app
from testkit.factories import make_athlete
from testkit.garmin_fixtures import GarminEnv, garmin_settings_for
from testkit.push_receiver import push_receiver
from testkit.smtp_server import SmtpRecorder, free_port
from tests.integration.test_garmin_token_leaks import error_chain, secrets_of

SMTP_USER = "legday-mailer"
# Loggers of the stand-ins for the outside world: aiosmtpd plays the mail server (it logs the
# AUTH exchange it receives at DEBUG, as a real server might); they are not legday's logs.
FOREIGN_LOGGERS = ("mail.log",)


def _forms(secret: str) -> set[str]:
    """A secret and the encodings it could hide in (base64, urlsafe base64, hex)."""
    raw = secret.encode()
    return {
        secret,
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
    }


def _auth_plain(user: str, password: str) -> str:
    """What `AUTH PLAIN` puts on the wire (and smtplib's debug output would print)."""
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


class _SmtpWithLogin:
    """A real SMTP server that requires AUTH; `accept` decides whether the password passes."""

    def __init__(self, password: str) -> None:
        self.password = password.encode()
        self.accept = False
        self.logins = 0
        self.recorder = SmtpRecorder()
        self.port = free_port()

        def authenticator(server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN202
            self.logins += 1
            ok = self.accept and auth_data.password == self.password
            return AuthResult(success=ok, handled=False)  # aiosmtpd answers 235 or 535

        self.controller = Controller(
            self.recorder,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=authenticator,
            auth_require_tls=False,
        )


def _database_dump(settings: Settings) -> bytes:
    """The raw database: SQLite file bytes (WAL too), or every PostgreSQL row as text."""
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        parts = [p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()]
        assert parts and len(parts[0]) > 0
        return b"\n".join(parts)
    out: list[str] = []
    with engine_for(url).connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(text(f'SELECT t::text FROM "{table.name}" t')).scalars().all()
            out += [table.name, *rows]
    return "\n".join(out).encode()


@pytest.mark.parametrize("db_settings", ["sqlite", "postgresql"], indirect=True)
def test_no_secret_in_logs_tracebacks_output_or_database(
    db_settings: Settings,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    marker = uuid.uuid4().hex
    smtp_password = f"smtp-pw-{marker}"
    report_secret = f"report-secret-{marker}"
    fernet_key = Fernet.generate_key().decode()
    smtp = _SmtpWithLogin(smtp_password)
    for name, value in {
        "LEGDAY_SMTP_HOST": "127.0.0.1",
        "LEGDAY_SMTP_PORT": str(smtp.port),
        "LEGDAY_SMTP_SECURITY": "none",
        "LEGDAY_SMTP_USER": SMTP_USER,
        "LEGDAY_SMTP_PASSWORD": smtp_password,
        "LEGDAY_SMTP_TIMEOUT_S": "5",
        "LEGDAY_MAIL_FROM": "legday <legday@example.org>",
        "LEGDAY_REPORT_SECRET": report_secret,
        "LEGDAY_SECRET_KEY": fernet_key,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    settings = garmin_settings_for(get_settings(), sandbox)
    assert settings.smtp_password is not None and settings.secret_key is not None
    caplog.set_level(logging.DEBUG)  # the root logger: every logger without its own level
    loggers = ("urllib3", "requests", "garth", "oauthlib", "requests_oauthlib", "sync", "celery", "worker")
    loggers += ("apprise",)
    for name in loggers:
        caplog.set_level(logging.DEBUG, logger=name)

    texts: list[str] = []
    smtp.controller.start()
    try:
        with session_scope(settings) as session:
            env = GarminEnv(session, settings, sandbox)
            garth_tokens, di_tokens = sandbox.issue_garth_tokens(), sandbox.issue_di_tokens()
            ana = make_athlete(session, "ana", email="ana@example.org")
            ben = make_athlete(session, "ben", email="ben@example.org")
            cy = make_athlete(session, "cy", email="cy@example.org")
            accounts = {"garth": env.link(ana, garth_tokens), "di": env.link(ben, di_tokens)}
            personal_key = sandbox.issue_personal_api_key()
            personal = connect_personal_api(session, cy, personal_key, 90, settings)
            personal_tokens = [unseal(settings, "personal_api", personal.tokens_encrypted)]
            bearer = issue_token(session, ana)
            ana_id = ana.id
            link = report_link(ana, settings=settings, base="http://testserver")

            # 1. A refresh that works (new tokens to hide), then Garmin's 401 and a refused refresh.
            sandbox.expire_all_tokens()
            first = sync_account(
                session,
                accounts["garth"],
                env.client(accounts["garth"]),
                settings=settings,
                checkpoint=keep_progress(session),
            )
            assert first.status == "ok", first.message
            refreshed = {kind: unseal(settings, kind, acc.tokens_encrypted) for kind, acc in accounts.items()}
            unauthorized = sandbox.faults.add("status", "activitylist", status=401, times=None)
            after_401 = sync_account(
                session,
                accounts["di"],
                env.client(accounts["di"]),
                settings=settings,
                checkpoint=keep_progress(session),
            )
            sandbox.faults.clear()
            sandbox.revoke_refresh()
            sandbox.expire_all_tokens()
            reauth = sync_account(
                session,
                accounts["garth"],
                env.client(accounts["garth"]),
                settings=settings,
                checkpoint=keep_progress(session),
            )
            assert unauthorized.hits > 0 and after_401.status != "ok"
            assert reauth.status == "needs_reauth"
            texts += [str(x) for x in (first, after_401, reauth, *accounts.values())]
            texts += [repr(x) for x in (first, after_401, reauth, *accounts.values())]

            # The Personal API: a 401 on the cached token (one new exchange), then the key revoked.
            sandbox.expire_personal_api_tokens()
            personal_client = env.client(personal)
            synced = sync_account(
                session, personal, personal_client, settings=settings, checkpoint=keep_progress(session)
            )
            assert synced.status == "ok", synced.message
            personal_tokens.append(unseal(settings, "personal_api", personal.tokens_encrypted))
            sandbox.revoke_personal_api_key(personal_key)
            revoked = sync_account(
                session, personal, env.client(personal), settings=settings, checkpoint=keep_progress(session)
            )
            assert revoked.status == "needs_reauth"
            texts += [str(x) for x in (synced, revoked, personal, personal_client, *personal_tokens)]
            texts += [repr(x) for x in (synced, revoked, personal, personal_client, *personal_tokens)]

        # 2. SMTP: the login refused (535), then the message refused (550) the next day.
        summary_535 = dispatch_due_emails(datetime(2026, 3, 10, 7, 0, tzinfo=UTC), settings=settings)
        smtp.accept = True
        smtp.recorder.fail_data = ["550 5.7.1 message refused"] * 4
        summary_550 = dispatch_due_emails(datetime(2026, 3, 11, 7, 0, tzinfo=UTC), settings=settings)
        assert smtp.logins >= 2 and summary_535.failed > 0 and summary_550.failed > 0
        assert smtp.recorder.messages == []
        with session_scope(settings) as session:
            errors = [str(d.error) for d in session.query(EmailDelivery).all()]
        assert any("535" in e for e in errors) and any("550" in e for e in errors), errors
        texts += errors

        # 3. The report server: the right token, a wrong one, the signed page (today's verdict
        # computed first, as the worker does after a sync: a GET only reads).
        with session_scope(settings) as session:
            compute_verdict(session, session.get(Athlete, ana_id), local_today("UTC"))
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            ok = client.get("/v1/verdicts/today", headers={"Authorization": f"Bearer {bearer}"})
            wrong = client.get("/v1/verdicts/today", headers={"Authorization": f"Bearer {bearer}x"})
            page = client.get(link.removeprefix("http://testserver"))
        assert ok.status_code == 200 and wrong.status_code == 401 and page.status_code == 200
        texts += [wrong.text, str(wrong.headers)]

        # 4. A task that crashes with the account and its client in its error message.
        def crash(session: Any, account: Any, client: Any, **kw: Any) -> None:
            raise RuntimeError(f"unexpected state in {account!r} via {client!r}")

        with session_scope(settings) as session:  # the task skips accounts that need re-auth
            session.get(GarminAccount, accounts["di"].id).status = "ok"
        monkeypatch.setattr(sync_now, "sync_account", crash)  # inside the task's locked run
        result = tasks.sync_account.apply(args=[accounts["di"].id], throw=False)
        assert result.failed() and isinstance(result.result, RuntimeError)
        texts += [str(result.traceback), *error_chain(result.result)]
        texts += traceback.format_exception(result.result)

        # 5. Push channels: added, listed, tested, then a morning round refused (500, then 400)
        # on one channel and delivered on the other.
        with push_receiver() as (base, got):
            host = base.removeprefix("json://")
            channel_urls = [
                f"json://legday:chan-pw-{marker}-{n}@{host}/chan-path-{marker}-{n}" for n in (1, 2)
            ]
            got.script[f"/chan-path-{marker}-1"] = [500, 500, 400]
            with session_scope(settings) as session:
                at = datetime.now(UTC)
                added = [push_channels.add_channel(session, ana_id, u, settings, at) for u in channel_urls]
                shown = push_channels.list_channels(session, ana_id, settings)
            with session_scope(settings) as session:
                try:
                    push_channels.test_channel(session, ana_id, added[0].id, settings)
                except TransientError as exc:  # the 500: its words are kept
                    texts += [str(exc), *error_chain(exc)]
            morning = datetime(2026, 3, 12, 7, 0, tzinfo=UTC)
            pushes = [dispatch_due_pushes(morning + timedelta(minutes=m), settings=settings) for m in (0, 10)]
            assert sum(p.sent for p in pushes) == 1 and sum(p.failed for p in pushes) == 2, pushes
            assert len(got.posts) == 4 and got.delivered(f"/chan-path-{marker}-2")
            with session_scope(settings) as session:
                push_errors = [str(d.error) for d in session.scalars(select(ChannelDelivery))]
            assert any("HTTP 400" in e for e in push_errors), push_errors
            texts += push_errors + [c.shown for c in added + shown] + [repr(c) for c in added + shown]
    finally:
        smtp.controller.stop()

    records = [r for r in caplog.records if not r.name.startswith(FOREIGN_LOGGERS)]
    assert any(r.name.startswith("urllib3") and r.levelno == logging.DEBUG for r in records)  # DEBUG was on
    assert any(r.exc_info for r in records), "the crashing task logged its traceback"
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    texts += [formatter.format(r) for r in records]  # exc_info tracebacks included
    out, err = capfd.readouterr()
    texts += [out, err]
    dump = _database_dump(settings)

    secrets = {f"garmin {k}": secrets_of(t) for k, t in (("garth", garth_tokens), ("di", di_tokens))}
    secrets |= {f"garmin {k} refreshed": secrets_of(t) for k, t in refreshed.items()}
    secrets |= {f"personal api {i}": secrets_of(t) for i, t in enumerate(personal_tokens)}
    assert personal_tokens[0].access_token != personal_tokens[1].access_token  # a second exchange
    secrets["smtp password"] = _forms(smtp_password) | {_auth_plain(SMTP_USER, smtp_password)}
    secrets["report secret"] = _forms(report_secret)
    secrets["fernet key"] = _forms(fernet_key)
    secrets["report bearer token"] = _forms(bearer)
    for n, url in enumerate(channel_urls, 1):
        secrets[f"channel {n} password"] = _forms(f"chan-pw-{marker}-{n}")
        secrets[f"channel {n} path"] = _forms(f"chan-path-{marker}-{n}")
        secrets[f"channel {n} url"] = _forms(url)
    assert secrets_of(refreshed["garth"]) != secrets_of(garth_tokens)  # the refresh did happen

    found = [
        (what, form[:8], blob[:100])
        for what, forms in secrets.items()
        for form in forms
        for blob in texts
        if form in blob
    ]
    found += [
        (what, form[:8], "database")
        for what, forms in secrets.items()
        for form in forms
        if form.encode() in dump
    ]
    # Every file legday wrote in its data dir (database, raw FIT store, outbox): no key file is
    # expected there, as both keys come from the environment.
    files = {p: p.read_bytes() for p in settings.data_dir.rglob("*") if p.is_file()}
    assert files and not [p for p in files if p.name.endswith(".key")]
    found += [
        (what, form[:8], str(path.relative_to(settings.data_dir)))
        for what, forms in secrets.items()
        for form in forms
        for path, content in files.items()
        if form.encode() in content
    ]
    assert found == []
