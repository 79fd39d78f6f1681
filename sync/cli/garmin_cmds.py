"""`legday garmin ...`, `legday sync`, `legday backfill`, `legday sandbox serve`."""

from __future__ import annotations

import getpass
import json
import logging
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from sync.cli.common import AthleteOpt, console, db_session, fail, print_table, progress_bar
from sync.config import Settings, get_settings
from sync.db.statuses import AccountStatus
from sync.db.tx import keep_progress
from sync.errors import LegdayError

if TYPE_CHECKING:  # annotations only; imported where used, to keep start-up light
    from rich.progress import TaskID
    from sqlalchemy.orm import Session

    from sync.db.models import GarminAccount
    from sync.garmin.source import GarminSource
    from sync.garmin_sync import Progress as ProgressFn
    from sync.garmin_sync import SyncOutcome

    RunOne = Callable[[Session, GarminAccount, GarminSource, Settings, ProgressFn], SyncOutcome]


log = logging.getLogger(__name__)

garmin_app = typer.Typer(help="Garmin Connect accounts (tokens, status).", no_args_is_help=True)
sandbox_app = typer.Typer(help="The local Garmin Connect look-alike.", no_args_is_help=True)

# Exit codes of `legday sync` / `legday backfill` (the worst account wins).
EXIT_PARTIAL = 3  # something must be fetched again: run the command again
EXIT_FAILED = 4  # needs new tokens, Garmin unavailable, or the run stopped half-way
EXIT_BUSY = 5  # another sync of the account holds its lock
_EXIT_FOR_STATUS = {
    "partial": EXIT_PARTIAL,
    "needs_reauth": EXIT_FAILED,
    "unavailable": EXIT_FAILED,
    "interrupted": EXIT_FAILED,
    "failed": EXIT_FAILED,
}


@garmin_app.command("add-tokens")
def add_tokens_command(
    athlete: AthleteOpt = None,
    garth_dir: Annotated[
        Path | None, typer.Option(help="garth token directory (oauth1_token.json...).")
    ] = None,
    garth_token: Annotated[str | None, typer.Option(help="garth dumps() string ('-' reads stdin).")] = None,
    di_tokens: Annotated[Path | None, typer.Option(help="garminconnect token store (dir or .json).")] = None,
    sync_now: Annotated[
        bool, typer.Option("--sync", help="Run the first sync right away, in this process.")
    ] = False,
) -> None:
    """Link an athlete to Garmin with existing tokens (checked with one profile call, stored encrypted).

    With Redis configured the workers' dispatcher syncs a new account on its next tick (within
    LEGDAY_DISPATCH_INTERVAL_S); `--sync` runs that first sync here and now instead.
    """
    from sync.athletes import resolve_athlete
    from sync.garmin import tokens as tokenlib
    from sync.garmin_sync.accounts import add_tokens

    given = [x for x in (garth_dir, garth_token, di_tokens) if x is not None]
    if len(given) != 1:
        raise fail("give exactly one of --garth-dir, --garth-token, --di-tokens", 2)
    with db_session() as (session, settings):
        who = resolve_athlete(session, athlete)
        if garth_dir is not None:
            tokens: tokenlib.ConnectTokens = tokenlib.garth_from_dir(garth_dir)
        elif garth_token is not None:
            text = typer.get_text_stream("stdin").read() if garth_token == "-" else garth_token
            tokens = tokenlib.garth_from_string(text)
        else:
            assert di_tokens is not None
            tokens = tokenlib.di_from_path(di_tokens)
        account = add_tokens(session, who, tokens, settings)
        name = who.name
        console.print(
            f"linked {name} to Garmin user {account.display_name} ({tokens.kind} tokens, stored encrypted)"
        )
        if account.credential_ends_at is not None:
            console.print(
                f"these tokens end about {account.credential_ends_at:%Y-%m-%d} (legday warns 14, 7 and 1 "
                f"days before); a Personal API key is the lasting way in: `legday athlete invite {name}`"
            )
    if sync_now:
        sync_command(name)
    elif settings.redis_url:
        console.print(f"the workers sync it within {settings.dispatch_interval_s:.0f} s (`legday status`)")
    else:
        console.print(f"next: `legday sync --athlete {name}`")


@garmin_app.command("connect")
def connect_command(
    athlete: AthleteOpt = None,
    key: Annotated[
        str | None,
        typer.Option(help="'-' reads the Personal API key from stdin; without it, it is asked (not shown)."),
    ] = None,
    expires_in: Annotated[
        int | None,
        typer.Option(help="The expiry you chose when creating the key: 30, 90, 180 or 365 days."),
    ] = None,
    sync_now: Annotated[
        bool, typer.Option("--sync", help="Run the first sync right away, in this process.")
    ] = False,
) -> None:
    """Connect an athlete with a Garmin Connect Personal API key (docs/garmin.md).

    Create the key in Garmin Connect on the web: Settings -> Personal API Token -> Create Key.
    It is checked with one token exchange and one profile-settings call, then stored encrypted.
    """
    from sync.athletes import resolve_athlete
    from sync.garmin.errors import PersonalApiKeyRejected
    from sync.garmin_sync.accounts import PERSONAL_API_KEY_DAYS, connect_personal_api

    if key is not None and key != "-":
        # A key on the command line ends up in the shell history and in `ps`: refuse it.
        raise fail("pass the key on stdin with `--key -`, or leave --key out to be asked for it", 2)
    if key == "-":
        if expires_in is None:
            raise fail("with `--key -`, give the key's expiry too: --expires-in 30|90|180|365", 2)
        text = typer.get_text_stream("stdin").read()
    else:
        text = typer.prompt("Garmin Personal API key (not shown)", hide_input=True)
    if not text.strip():
        raise fail("no Personal API key given", 2)
    if expires_in is None:
        expires_in = typer.prompt("Days until the key expires, as chosen in Garmin Connect", type=int)
    if expires_in not in PERSONAL_API_KEY_DAYS:
        raise fail(f"--expires-in must be one of {', '.join(map(str, PERSONAL_API_KEY_DAYS))}", 2)
    with db_session() as (session, settings):
        who = resolve_athlete(session, athlete)
        try:
            account = connect_personal_api(session, who, text, expires_in, settings)
        except PersonalApiKeyRejected as exc:  # nothing was stored
            hint = (
                ""
                if text.strip().startswith("GCDC_")
                else " (the keys Garmin makes start with GCDC_: was all of it pasted?)"
            )
            raise fail(f"{exc}{hint}", 2) from None
        name, ends = who.name, account.credential_ends_at
        console.print(
            f"connected {name} to Garmin user {account.display_name} with a Personal API key "
            f"(stored encrypted; it expires on {ends:%Y-%m-%d})"
        )
    if sync_now:
        sync_command(name)
    elif settings.redis_url:
        console.print(f"the workers sync it within {settings.dispatch_interval_s:.0f} s (`legday status`)")
    else:
        console.print(f"next: `legday sync --athlete {name}`")


@garmin_app.command("status")
def status_command(athlete: AthleteOpt = None) -> None:
    """Show each Garmin account's state, cursors and last sync."""
    from sync.garmin_sync.accounts import accounts_with_athletes

    with db_session() as (session, _):
        table = Table(
            "athlete",
            "garmin user",
            "tokens",
            "status",
            "until / reason",
            "activities to (UTC)",
            "wellness to",
            "backfilled to",
            "last sync (UTC)",
            "credential ends",
        )
        for account, who in accounts_with_athletes(session, athlete):
            detail = ""
            if account.status == AccountStatus.RATE_LIMITED and account.rate_limited_until:
                detail = account.rate_limited_until.strftime("%Y-%m-%d %H:%M UTC")
            elif account.status_reason:
                detail = account.status_reason[:60]
            table.add_row(
                who.name,
                account.display_name or "",
                account.token_kind,
                account.status,
                detail,
                account.activity_cursor.strftime("%Y-%m-%d %H:%M") if account.activity_cursor else "",
                str(account.wellness_cursor or ""),
                str(account.backfill_cursor or ""),
                account.last_sync_at.strftime("%Y-%m-%d %H:%M") if account.last_sync_at else "never",
                credential_end_cell(account.token_kind, account.credential_ends_at, who.timezone),
            )
        print_table(table)


def credential_end_cell(kind: str, ends_at: datetime | None, timezone: str) -> str:
    """`2027-01-05 (in 7 days: connect again)` for a status table; `unknown` without a date."""
    from sync.credential_end import WARN_DAYS, days_left

    if ends_at is None:
        return "unknown"
    left = days_left(ends_at, timezone, datetime.now(UTC))
    day = ends_at.strftime("%Y-%m-%d")
    if ends_at <= datetime.now(UTC):
        return f"{day} (ended: `legday athlete invite` or `legday garmin connect`)"
    if left <= WARN_DAYS[0]:
        return f"{day} (in {left} days: connect again with a Personal API key)"
    return f"{day} (in {left} days)"


@garmin_app.command("login")
def login_command(
    athlete: AthleteOpt = None,
    email: Annotated[str | None, typer.Option(help="Garmin account e-mail (prompted if absent).")] = None,
) -> None:
    """Log in once with python-garminconnect 0.3 to get DI tokens; the password is not kept.

    Needs `pip install 'legday-sync[login]'`. Garmin's official way in is a Personal API key:
    `legday garmin connect` (no password at all).
    """
    from sync.athletes import resolve_athlete
    from sync.garmin import tokens as tokenlib
    from sync.garmin.login_support import installed_version, login_problem
    from sync.garmin_sync.accounts import add_tokens

    problem = login_problem(installed_version())
    if problem is None:
        try:
            from garminconnect import Garmin
        except ImportError as exc:  # installed but broken (a missing curl_cffi wheel...)
            problem = f"python-garminconnect cannot be imported ({type(exc).__name__}): reinstall it"
    if problem is not None:
        raise fail(problem, 2)
    email = email or typer.prompt("Garmin e-mail")
    password = getpass.getpass("Garmin password (not stored): ")
    with tempfile.TemporaryDirectory() as store:
        # One attempt only: Garmin's login limit re-arms on every retry.
        try:
            client = Garmin(email, password, prompt_mfa=lambda: typer.prompt("MFA code"))
            client.login()
            client.garth.dump(store) if hasattr(client, "garth") else client.client.dump(store)
        except Exception as exc:  # noqa: BLE001 - third-party errors of every kind
            raise fail(f"Garmin login failed ({type(exc).__name__}); not retried", 2) from None
        finally:
            password = ""
        path = Path(store) / tokenlib.DI_FILE
        tokens: tokenlib.ConnectTokens = (
            tokenlib.di_from_path(path) if path.exists() else tokenlib.garth_from_dir(Path(store))
        )
        with db_session() as (session, settings):
            who = resolve_athlete(session, athlete)
            account = add_tokens(session, who, tokens, settings)
            console.print(f"linked {who.name} to Garmin user {account.display_name}")


def _print_report(report: SyncOutcome) -> None:
    line = (
        f"{report.athlete}: {report.status}, {report.activities_imported} new activities "
        f"({report.activities_known} known, {report.activities_quarantined} quarantined, "
        f"{report.activities_skipped} skipped), "
        f"{report.wellness_days} wellness days, {report.garmin_sets} Garmin sets, "
        f"{report.requests} requests"
    )
    console.print(line if not report.message else f"{line}\n  {report.message}")
    shown = 20  # one line per problem, so nothing is skipped without a word
    for failure in report.failures[:shown]:
        console.print(f"  - {failure}", style="yellow", markup=False, highlight=False)
    if len(report.failures) > shown:
        console.print(f"  ... and {len(report.failures) - shown} more (see `legday garmin status`)")


def _accounts(session: Session, athlete: str | None) -> list[GarminAccount]:
    from sync.athletes import resolve_athlete
    from sync.garmin_sync.accounts import account_for, all_accounts

    if athlete is not None:
        account = account_for(session, resolve_athlete(session, athlete))
        if account is None:
            raise fail(
                f"{athlete} has no Garmin account: `legday garmin connect --athlete {athlete}` "
                "(a Personal API key; or `legday garmin add-tokens`)",
                2,
            )
        return [account]
    return all_accounts(session)


def _stopped_line(name: str, status: str, client: GarminSource | None, message: str) -> str:
    """The summary line of a run that ended with an exception (its counts are unknown)."""
    requests = f"{client.requests} requests" if client is not None else "no requests"
    return f"{name}: {status}, {requests}\n  {message}"


def _failure_message(exc: Exception, label: str) -> str:
    # Our own errors are written for the user (and never hold a token); anything else is named
    # by its type only: its message could hold anything, a header or a token included.
    what = f"{type(exc).__name__}: {exc}" if isinstance(exc, LegdayError) else type(exc).__name__
    return f"stopped by an error ({what}); run {label} again (LEGDAY_LOG_LEVEL=DEBUG shows where)"


def _run_accounts(athlete: str | None, label: str, run_one: RunOne) -> None:
    """Run `run_one` for each selected account through `locked_run`; report, count requests, exit.

    Shared by `sync` and `backfill` so both print the same lines and exit with the same codes.
    `locked_run` is the entry point the worker's syncs use too: it takes the account's lock
    (`sync:<account id>`: two syncs of one account would race on the cursors and on rotating DI
    refresh tokens), reads the tokens once it holds it, and raises what stopped the run. A run
    stopped by Ctrl-C or an unexpected error still prints its account's line and the request
    total, and exits 4 (its sync_run row says `interrupted` / `failed`); Ctrl-C also skips the
    accounts not yet started.
    """
    from sync.garmin_sync.now import AccountBusy, RunStopped, locked_run
    from sync.verdicts.marks import mark_today_and_tomorrow

    total = 0
    code = 0
    with db_session() as (session, settings):
        accounts = [(account.id, account.athlete.name) for account in _accounts(session, athlete)]
    if not accounts:
        raise fail(
            "no Garmin account yet: `legday garmin connect --athlete NAME` (a Personal API key; "
            "or `legday garmin add-tokens`)",
            2,
        )
    with progress_bar() as progress:
        for account_id, name in accounts:
            clients: list[GarminSource] = []
            line: str | None = None
            report: SyncOutcome | None = None
            interrupted = False
            task = progress.add_task(f"{name}: {label}", total=None, visible=False)

            def body(
                session: Session,
                account: GarminAccount,
                client: GarminSource,
                settings: Settings,
                task: TaskID = task,
                clients: list[GarminSource] = clients,
            ) -> SyncOutcome:
                clients.append(client)  # to count its requests however the run ends
                progress.update(task, visible=True)

                def step(msg: str, done: int, of: int) -> None:
                    progress.update(task, description=f"{label} {msg}", completed=done, total=of)

                report = run_one(session, account, client, settings, step)
                if report.activities_imported or report.wellness_days:  # the verdicts' inputs
                    mark_today_and_tomorrow(session, account.athlete, datetime.now(UTC))
                return report

            try:
                report = locked_run(account_id, body, settings=settings)
            except AccountBusy:
                console.print(f"{name}: another sync of this account is running; try again later")
                code = max(code, EXIT_BUSY)
                continue
            except RunStopped as exc:  # Garmin stopped it: the report says how far it got
                report = exc.report
            except KeyboardInterrupt:
                interrupted = True
                client = clients[0] if clients else None
                line = _stopped_line(name, "interrupted", client, f"interrupted; run {label} again to resume")
            except Exception as exc:  # noqa: BLE001 - reported as `failed`, exit 4
                log.debug("garmin: %s of %s failed", label, name, exc_info=True)
                line = _stopped_line(
                    name, "failed", clients[0] if clients else None, _failure_message(exc, label)
                )
            finally:
                progress.remove_task(task)
            if line is not None or report is None:
                console.print(line or f"{name}: the Garmin account is gone")
                total += clients[0].requests if clients else 0
                code = max(code, EXIT_FAILED)
                if interrupted:
                    break
                continue
            _print_report(report)
            total += report.requests
            code = max(code, _EXIT_FOR_STATUS.get(report.status, 0))
    console.print(f"{total} requests to Garmin")
    if code:
        raise typer.Exit(code)


def sync_command(athlete: AthleteOpt = None) -> None:
    """Sync new activities and wellness days from Garmin; prints how many requests it made.

    Exit codes: 0 done (or rate limited: it resumes by itself), 2 no Garmin account, 3 partial
    (run again), 4 needs new tokens / Garmin unavailable / stopped by Ctrl-C or an error, 5 another
    sync of the account is running.
    """
    from sync.garmin_sync import sync_account

    def run_one(
        session: Session, account: GarminAccount, client: GarminSource, settings: Settings, step: ProgressFn
    ) -> SyncOutcome:
        return sync_account(
            session, account, client, settings=settings, progress=step, checkpoint=keep_progress(session)
        )

    _run_accounts(athlete, "sync", run_one)


def backfill_command(
    since: Annotated[str, typer.Option("--since", help="Oldest date to fetch, YYYY-MM-DD.")],
    athlete: AthleteOpt = None,
) -> None:
    """Fetch history back to --since, in windows; safe to interrupt and run again.

    Exit codes as for `legday sync`.
    """
    from sync.garmin_sync import backfill

    try:
        start = date.fromisoformat(since)
    except ValueError:
        raise fail(f"--since {since!r} is not YYYY-MM-DD", 2) from None

    def run_one(
        session: Session, account: GarminAccount, client: GarminSource, settings: Settings, step: ProgressFn
    ) -> SyncOutcome:
        return backfill(
            session,
            account,
            client,
            start,
            settings=settings,
            progress=step,
            checkpoint=keep_progress(session),
        )

    _run_accounts(athlete, "backfill", run_one)


SANDBOX_LAYOUTS = ("recent", "year", "original")


@sandbox_app.command("serve")
def sandbox_serve(
    port: Annotated[int, typer.Option(help="Loopback port (0: any free one).")] = 8765,
    fit_dir: Annotated[Path | None, typer.Option(help="Folder of FIT files to seed activities from.")] = None,
    latency_ms: Annotated[float, typer.Option(help="Delay added to every answer.")] = 0.0,
    layout: Annotated[str, typer.Option(help="recent | year | original: where activities fall.")] = "recent",
    timezone: Annotated[str, typer.Option(help="The sandbox user's time zone.")] = "UTC",
    tokens_dir: Annotated[Path | None, typer.Option(help="Write sandbox tokens here.")] = None,
) -> None:
    """Serve a Garmin Connect look-alike on 127.0.0.1 until Ctrl-C."""
    from sync.athletes import validate_timezone
    from sync.garmin import tokens as tokenlib
    from sync.private_files import write_private
    from sync.sandbox import Sandbox
    from sync.sandbox.server import stop_on_signals

    stop = stop_on_signals()  # first: Ctrl-C as soon as the address shows stops the sandbox
    settings = get_settings()
    folder = fit_dir or Path(__file__).resolve().parents[1] / "samples"
    # Bad options get one line each, never a traceback.
    if layout not in SANDBOX_LAYOUTS:
        raise fail(f"--layout must be one of {', '.join(SANDBOX_LAYOUTS)}, not {layout!r}", 2)
    if not folder.is_dir():
        raise fail(f"--fit-dir {folder}: no such folder", 2)
    if not 0 <= port <= 65535 or latency_ms < 0:
        raise fail("--port must be 0-65535 and --latency-ms >= 0", 2)
    try:
        validate_timezone(timezone)
        sandbox = Sandbox(fit_dir=folder, layout=layout, timezone=timezone, latency_ms=latency_ms, port=port)
        sandbox.start()
    except OSError as exc:
        raise fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc} (try --port 0)", 2) from None
    except LegdayError as exc:
        raise fail(str(exc), 2) from None
    out = tokens_dir or settings.data_dir / "sandbox-tokens"
    garth = sandbox.issue_garth_tokens()
    # Owner-only like every secret legday writes, sandbox tokens included (they open the sandbox).
    write_private(out / "garth" / tokenlib.OAUTH1_FILE, json.dumps(garth.oauth1).encode())
    write_private(out / "garth" / tokenlib.OAUTH2_FILE, json.dumps(garth.oauth2).encode())
    write_private(out / tokenlib.DI_FILE, sandbox.issue_di_tokens().to_json())
    key_file = write_private(out / "personal_api_key.txt", sandbox.issue_personal_api_key().encode())
    console.print(
        f"Garmin sandbox at {sandbox.url} with {len(sandbox.account.activities)} activities\n"
        f"  export LEGDAY_GARMIN_BASE_URL={sandbox.url} LEGDAY_GARMIN_MIN_INTERVAL_S=0\n"
        f"  legday garmin connect --athlete NAME --key - --expires-in 90 < {key_file}\n"
        f"  (or: legday garmin add-tokens --athlete NAME --garth-dir {out / 'garth'}, or --di-tokens "
        f"{out / tokenlib.DI_FILE}); the key and tokens live until the sandbox stops",
        soft_wrap=True,
    )
    sandbox.serve_forever(stop)


def register(app: typer.Typer) -> None:
    """Add the Garmin commands to `legday`."""
    app.add_typer(garmin_app, name="garmin")
    app.add_typer(sandbox_app, name="sandbox")
    app.command("sync")(sync_command)
    app.command("backfill")(backfill_command)
