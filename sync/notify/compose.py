"""Compose one athlete's email of one day from stored data (no sending, no delivery rows).

A reader only: the verdict is the one that counts for the day (`sync.verdicts.read`). Whoever
sends makes sure the morning verdict is computed first (`sync.verdicts.policy.
ensure_morning_verdict`, called through the dispatcher's `prepare` hook by the worker's send
task and the CLI); composing never computes or stores one.
"""

from __future__ import annotations

from datetime import date, datetime
from email.message import EmailMessage

from sqlalchemy.orm import Session

from sync.config import Settings
from sync.credential_end import ended_reason, has_ended
from sync.db.models import Athlete, GarminAccount
from sync.errors import TransientError
from sync.notify.email_links import connect_link, links_for
from sync.notify.message import add_delivery_headers, stable_message_id, unsubscribe_mailto
from sync.notify.notices import late_data_line, stale_sync_line
from sync.notify.render import render_daily_email, render_reauth_email
from sync.onboarding.reminder import reconnect_notice
from sync.readiness.verdict import Verdict
from sync.verdicts.read import verdict_of
from sync.workouts.plan import push_impossible_line, watch_line


class NoVerdictYet(TransientError):
    """No verdict is stored for the day yet: the email waits for it (retried, never sent empty)."""


def morning_verdict(session: Session, athlete: Athlete, day: date) -> Verdict:
    """The verdict that counts for `day` (`sync.verdicts.read`); `NoVerdictYet` when none is stored."""
    stored = verdict_of(session, athlete.id, day)
    if stored is None:
        raise NoVerdictYet(f"no verdict stored for {day} yet")
    return stored.verdict


def _finish(
    message: EmailMessage, athlete: Athlete, day: date, kind: str, now: datetime, settings: Settings, links
) -> EmailMessage:  # noqa: ANN001 - links as in render
    unsubscribe = [unsubscribe_mailto(settings.mail_from)]
    if links and links.get("unsubscribe"):
        unsubscribe.append(links["unsubscribe"])
    return add_delivery_headers(
        message,
        sent_at=now,
        message_id=stable_message_id(athlete.id, day, kind, settings.mail_from),
        unsubscribe=unsubscribe,
    )


def daily_message(
    session: Session, athlete: Athlete, day: date, now: datetime, settings: Settings
) -> EmailMessage:
    """The daily email of (athlete, day) as it would be sent at `now`."""
    verdict = morning_verdict(session, athlete, day)
    notices = [
        line
        for line in (stale_sync_line(session, athlete, now), late_data_line(session, athlete, day))
        if line
    ]
    links = links_for(session, athlete, day, settings)
    message = render_daily_email(
        verdict,
        to=athlete.email or "",
        sender=settings.mail_from,
        name=athlete.name,
        notices=notices,
        links=links,
        watch=watch_line(session, athlete.id, day, verdict.flag) or push_impossible_line(session, athlete.id),
        reconnect=reconnect_notice(session, athlete, settings, now),
    )
    return _finish(message, athlete, day, "daily", now, settings, links)


def reauth_message(
    session: Session, athlete: Athlete, account: GarminAccount, day: date, now: datetime, settings: Settings
) -> EmailMessage:
    """The one email telling the athlete their Garmin account needs new tokens."""
    links = links_for(session, athlete, day, settings)
    ends = account.credential_ends_at
    reason = (
        ended_reason(account.token_kind, ends, athlete.timezone)
        if ends is not None and has_ended(ends, now)
        else None
    )
    message = render_reauth_email(
        to=athlete.email or "",
        sender=settings.mail_from,
        name=athlete.name,
        reason=reason,
        links=links,
        connect=connect_link(athlete, settings, days=30),
        kind=account.token_kind,
    )
    return _finish(message, athlete, day, "reauth", now, settings, links)
