"""The API's hot read on the driver (sync/web/hotread.py) answers exactly as the SQLAlchemy Core
read (sync/web/reads.owner_and_verdict) does, on SQLite and PostgreSQL, and sees every commit
(a new verdict, an announced one, a revoked token) on the very next read."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from sync.config import Settings
from sync.db.models import Athlete
from sync.db.session import engine_for, session_scope
from sync.verdicts.announced import announce
from sync.verdicts.policy import record_soreness_and_recompute
from sync.verdicts.read import athlete_today, verdict_of
from sync.web.api_tokens import issue_token, revoke_token
from sync.web.hotread import SqliteReader, reader_for
from sync.web.reads import owner_and_verdict
from testkit.report_server import seed_athlete


def _core(settings: Settings, token: str | None, day):  # noqa: ANN001, ANN202
    with engine_for(settings.sqlalchemy_url).connect() as conn:
        return owner_and_verdict(conn, token, day)


def test_hot_read_answers_as_the_core_read(db_settings: Settings) -> None:
    ana = seed_athlete(db_settings, "ana")
    bob = seed_athlete(db_settings, "bob", history=False)
    with session_scope(db_settings) as session:
        today = athlete_today(session.get(Athlete, ana.id))
    reader = reader_for(db_settings)

    async def check() -> None:
        cases = [
            (ana.token, None),
            (ana.token, today),
            (ana.token, today - timedelta(days=3)),  # a day without a stored verdict
            (bob.token, None),
            (ana.token + "x", None),
            ("ldy_" + "x" * 43, None),
            (None, None),
            ("é" * 10, None),
        ]
        for token, day in cases:
            assert await reader.read(token, day) == _core(db_settings, token, day), (token, day)
        found = await reader.read(ana.token, None)
        assert found is not None and found[2] is not None and found[1] == today and found[3] is None

        # The morning message went out: its verdict comes back in the same read, as announced.
        with session_scope(db_settings) as session:
            assert announce(
                session, ana.id, verdict_of(session, ana.id, today), datetime.now(UTC), via="push"
            )
        told = await reader.read(ana.token, None)
        assert told == _core(db_settings, ana.token, None) and told[3] == found[2]
        assert await reader.read(ana.token, today - timedelta(days=1)) == _core(
            db_settings, ana.token, today - timedelta(days=1)
        )

        # A new verdict (soreness recomputes it) is what the next read returns.
        with session_scope(db_settings) as session:
            record_soreness_and_recompute(session, session.get(Athlete, ana.id), today, 9, db_settings)
        after = await reader.read(ana.token, None)
        assert after == _core(db_settings, ana.token, None)
        assert after[2].computed_at > found[2].computed_at and after[2].flag != found[2].flag
        assert after[3] == found[2]  # the day's verdict stays what the morning said

        # Revocation takes effect on the very next read; a new token works at once.
        with session_scope(db_settings) as session:
            revoke_token(session, session.get(Athlete, ana.id))
        assert await reader.read(ana.token, None) is None
        with session_scope(db_settings) as session:
            fresh = issue_token(session, session.get(Athlete, ana.id))
        assert (await reader.read(fresh, None))[0].id == ana.id
        if isinstance(reader, SqliteReader):  # a GET never writes: this connection cannot
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                reader._connection().execute("DELETE FROM athlete")
        await reader.close()

    asyncio.run(check())
