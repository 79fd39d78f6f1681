"""Helpers shared by CLI modules: settings, a ready database, error exits."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from sync.config import Settings, get_settings
from sync.db.migrate import upgrade
from sync.db.session import session_scope
from sync.errors import LegdayError

console = Console()
err_console = Console(stderr=True)
_schema_ready: set[str] = set()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one line on stderr and return the Exit to raise."""
    print(f"legday: {message}", file=sys.stderr)
    return typer.Exit(code)


def ensure_schema(settings: Settings) -> None:
    """Migrate the embedded SQLite database on first use; a server database needs `legday db upgrade`."""
    url = settings.sqlalchemy_url
    if url in _schema_ready:
        return
    if url.startswith("sqlite"):
        upgrade(settings)
    _schema_ready.add(url)


@contextmanager
def db_session() -> Iterator[tuple[Session, Settings]]:
    """A committed-on-success session on a ready schema; our errors become one-line exits."""
    settings = get_settings()
    try:
        ensure_schema(settings)
        with session_scope(settings) as session:
            yield session, settings
    except LegdayError as exc:
        raise fail(str(exc), 2) from None
