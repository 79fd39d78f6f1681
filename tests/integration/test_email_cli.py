"""`legday email dispatch` / `preview`, the SMTP sender's errors, and misspelt settings."""

from __future__ import annotations

import email
import logging
import os
import subprocess
import sys
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from pydantic import SecretStr

import testkit.smtp_server as smtp_fixtures
from sync.config import Settings, get_settings
from sync.errors import PermanentError, TransientError
from sync.notify.smtp import SmtpSender
from testkit.helpers import run_cli
from testkit.smtp_server import SmtpRecorder, SmtpServer, free_port

smtp_server = smtp_fixtures.smtp_server  # the fixture, for this module


def _add(name: str, tz: str, mail: str | None = None) -> None:
    args = ["athlete", "add", name, "--timezone", tz]
    if mail:
        args += ["--email", mail]
    assert run_cli(*args).exit_code == 0


def test_dispatch_prints_the_summary_line_and_exit_codes(settings: Settings, smtp_server: SmtpServer) -> None:
    get_settings.cache_clear()
    _add("ana", "Europe/Berlin", "ana@example.org")
    _add("bo", "America/New_York", "bo@example.org")
    _add("cy", "Australia/Sydney", "cy@example.org")
    # 06:45 in Berlin, 16:45 in Sydney, 01:45 in New York
    early = run_cli("email", "dispatch", "--now", "2026-03-10T05:45:00Z")
    assert (early.exit_code, early.stdout) == (0, "sent 2, already sent 0, not due 1, failed 0\n")
    smtp_server.recorder.fail_data.append("554 5.6.0 Message rejected")
    late = run_cli("email", "dispatch", "--now", "2026-03-10T12:00:00+00:00")
    # ana and cy are settled (their next moment is tomorrow's): only bo is looked at.
    assert (late.exit_code, late.stdout) == (1, "sent 0, already sent 0, not due 0, failed 1\n")
    assert len(smtp_server.recorder.messages) == 2
    bad = run_cli("email", "dispatch", "--now", "yesterday")
    assert bad.exit_code == 2


def test_without_smtp_host_emails_go_to_the_outbox(settings: Settings) -> None:
    _add("ana", "UTC", "ana@example.org")
    result = run_cli("email", "dispatch", "--now", "2026-03-10T07:00:00Z")
    assert result.stdout == "sent 1, already sent 0, not due 0, failed 0\n"
    (path,) = (settings.data_dir / "outbox").glob("*.eml")
    parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed["To"] == "ana@example.org" and parsed["Subject"].startswith("RUN today")
    assert run_cli("athlete", "set", "ana", "--no-daily-email").exit_code == 0  # unsubscribed
    result = run_cli("email", "dispatch", "--now", "2026-03-11T07:00:00Z")
    assert result.stdout == "sent 0, already sent 0, not due 1, failed 0\n"


def test_preview_writes_the_email_without_sending(settings: Settings, tmp_path: Path) -> None:
    _add("ana", "Europe/Berlin", "ana@example.org")
    out = tmp_path / "next.eml"
    result = run_cli("email", "preview", "--athlete", "ana", "--date", "2026-03-10", "--out", out)
    assert result.exit_code == 0 and str(out) in result.stdout.replace("\n", "")
    parsed = email.message_from_bytes(out.read_bytes(), policy=policy.default)
    assert parsed["Message-ID"].startswith("<legday.daily.2026-03-10.a")
    assert parsed.get_body(("html",)) is not None and "RUN" in parsed.get_body(("plain",)).get_content()
    assert run_cli("email", "dispatch", "--now", "2026-03-09T00:00:00Z").stdout.startswith("sent 0,")


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "legday@example.org", "ana@example.org", "hi"
    msg.set_content("hello")
    return msg


def test_smtp_sender_classifies_failures_and_never_shows_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    nobody = SmtpSender("127.0.0.1", free_port(), security="none", timeout_s=2)
    with pytest.raises(TransientError):  # connection refused
        nobody.send(_message())

    def authenticator(server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN202
        ok = auth_data.login == b"legday" and auth_data.password == b"hunter2-smtp"
        return AuthResult(success=ok, handled=False)  # aiosmtpd replies 235 or 535

    recorder = SmtpRecorder()
    port = free_port()
    controller = Controller(
        recorder, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        good = SmtpSender(
            "127.0.0.1", port, security="none", user="legday", password=SecretStr("hunter2-smtp"), timeout_s=5
        )
        good.send(_message())
        assert len(recorder.messages) == 1
        bad = SmtpSender(
            "127.0.0.1",
            port,
            security="none",
            user="legday",
            password=SecretStr("hunter2-wrong"),
            timeout_s=5,
        )
        with pytest.raises(PermanentError) as refused:  # 535 authentication failed
            bad.send(_message())
        no_tls = SmtpSender("127.0.0.1", port, security="starttls", timeout_s=5)
        with pytest.raises(PermanentError):  # the server offers no STARTTLS
            no_tls.send(_message())
    finally:
        controller.stop()
    shown = str(refused.value) + repr(good) + repr(bad) + caplog.text
    assert "535" in str(refused.value) and "hunter2" not in shown


def test_misspelt_setting_is_warned_at_start_up(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGDAY_")}
    env.update(LEGDAY_DATA_DIR=str(tmp_path / "data"), LEGDAY_SMTP_HOTS="mail.example.org")
    legday = Path(sys.executable).with_name("legday")
    result = subprocess.run(
        [str(legday), "email", "dispatch", "--now", "2026-03-10T07:00:00Z"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "unknown setting LEGDAY_SMTP_HOTS is ignored (did you mean LEGDAY_SMTP_HOST?)" in result.stderr
    assert result.stdout == "sent 0, already sent 0, not due 0, failed 0\n"
