"""Helpers shared by CLI modules: settings, a ready database, error exits."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from sync.config import Settings, get_settings
from sync.errors import LegdayError

if TYPE_CHECKING:  # annotations only; imported where used, to keep start-up light
    from sqlalchemy.orm import Session


class _CliConsole(Console):
    """Rich's console, except that piped output is never wrapped.

    On a terminal, text is wrapped to the screen. Into a pipe or a file there is no screen:
    wrapping at Rich's default 80 columns would split printed commands, paths and links
    mid-line, so copy-paste breaks. Asked each time, as tests and scripts swap stdout.
    """

    @property
    def soft_wrap(self) -> bool:
        return not self.is_terminal

    @soft_wrap.setter
    def soft_wrap(self, _value: bool) -> None:  # Console.__init__ sets it; the property decides
        pass


console = _CliConsole()
err_console = _CliConsole(stderr=True)


def print_table(table: Table) -> None:
    """Print a table whole: fitted to a terminal; piped, as wide as its widest row (no cell cut)."""
    if console.is_terminal:
        console.print(table)
        return
    width = Console(width=10_000).measure(table).maximum
    Console(width=max(width, 1)).print(table)


_schema_ready: set[str] = set()

AthleteOpt = Annotated[
    str | None, typer.Option("--athlete", help="Athlete name (optional while there is only one).")
]


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
        from sync.db.migrate import ensure_head

        ensure_head(settings)
    _schema_ready.add(url)


@contextmanager
def db_session() -> Iterator[tuple[Session, Settings]]:
    """A committed-on-success session on a ready schema; our errors become one-line exits."""
    from sync.db.session import session_scope

    settings = get_settings()
    try:
        ensure_schema(settings)
        with session_scope(settings) as session:
            yield session, settings
    except LegdayError as exc:
        raise fail(str(exc), 2) from None


def progress_bar() -> Progress:
    """A Rich progress bar that stays silent when stdout is not a terminal (scripts, CI, cron)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """Parse repeated NAME=VALUE options into a dict (values validated by Thresholds)."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise fail(f"--threshold expects NAME=VALUE, got {pair!r}", 2)
        out[name.strip()] = value.strip()
    return out
