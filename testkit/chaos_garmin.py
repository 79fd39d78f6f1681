"""Garmin misbehaving, on a simulated clock: the engine behind bench/soak_garmin.py and its test.

N sandbox users, each linked to a legday athlete, are synced every simulated minute for
`sim_minutes` while the sandbox throws random faults at them (429 with and without
Retry-After, 5xx bursts, connection resets, stalls past the client timeout, truncated ZIPs and
bodies, 404s on one activity's sets, deleted activities, expired access tokens) and new
activities keep arriving. A few athletes lose their refresh token half-way. Then the faults
stop and the clock runs on until every rate limit has lapsed, and the checks run:

- convergence: every activity and wellness day the sandbox holds is stored exactly once, with
  the sandbox's values;
- no request reached an account while it was rate limited (sandbox log timestamps against the
  `rate_limited_until` the sync stored), nor after it was marked needs_reauth;
- no hot retry loop: within one sync, no request is repeated more often than the client's
  bounded retries allow;
- an athlete whose refresh failed is `needs_reauth` and got exactly one email, across days.

Time is simulated: the sandbox clock is moved forward and each sync gets the same moment as
`now`, so 30 minutes (plus the wait for the longest rate limit) take a minute or two of real
time. Only the 'hang' stalls are real (a sandbox thread sleeps; the client times out first).

With `kind="personal_api"` the athletes connect with Personal API keys instead of garth tokens
(the faults add 429s with a short Retry-After in seconds or as an HTTP date, which the client
waits out itself; "losing the refresh token" is the key revoked), the syncs of a tick run on
`parallel` threads, and one more check counts the requests the sandbox saw beyond the Personal
API's limits (page size, range caps, the ZIP Accept type, more than two requests of one key at
once, and a request sent before a 429's Retry-After had passed): the goal is 0.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from time import time as wall_time

from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import Row, func, select

from sync.config import Settings
from sync.db.models import Activity, EmailDelivery, GarminAccount, WellnessDay
from sync.db.session import session_scope
from sync.garmin_sync.accounts import add_tokens, connect_personal_api
from sync.garmin_sync.now import AccountBusy, RunStopped, sync_account_now
from sync.morning_email import dispatch_due_emails
from sync.sandbox import Sandbox
from sync.sandbox.model import SandboxAccount
from sync.sandbox.seed import WellnessGenerator, load_fit_folder, place
from testkit.factories import make_athlete

SAMPLES = Path(__file__).resolve().parents[1] / "sync" / "samples"

# What a tick may throw at one account. Weights: how often each is picked.
FAULTS: tuple[tuple[str, int], ...] = (
    ("429 Retry-After", 2),
    ("429 bare", 1),
    ("5xx burst", 3),
    ("reset", 2),
    ("stall", 1),
    ("truncated zip", 2),
    ("truncated body", 2),
    ("404 sets", 1),
    ("deleted activity", 1),
    ("expired token", 2),
)
# The Personal API's own: Retry-After short enough to be waited out inside the sync.
PERSONAL_API_FAULTS: tuple[tuple[str, int], ...] = (
    ("429 short Retry-After", 2),
    ("429 Retry-After HTTP date", 1),
)


@dataclass
class GarminChaosResult:
    """What happened, and what the checks found (empty lists: all held)."""

    athletes: int
    sim_minutes: int
    syncs: int = 0
    requests: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    requests_per_account: dict[str, int] = field(default_factory=dict)
    max_requests_one_sync: int = 0
    max_repeats_one_sync: int = 0
    repeat_bound: int = 0
    missing_activities: list[str] = field(default_factory=list)
    doubled_activities: list[str] = field(default_factory=list)
    wellness_mismatches: list[str] = field(default_factory=list)
    early_requests: list[str] = field(default_factory=list)
    rate_limit_windows: int = 0
    after_reauth_requests: list[str] = field(default_factory=list)
    reauth_expected: list[str] = field(default_factory=list)
    reauth_marked: list[str] = field(default_factory=list)
    emails: dict[str, Counter[str]] = field(default_factory=dict)
    email_problems: list[str] = field(default_factory=list)
    hot_loops: list[str] = field(default_factory=list)
    kind: str = "garth"
    personal_api_violations: list[str] = field(default_factory=list)  # beyond the API's limits
    retry_after_ignored: list[str] = field(default_factory=list)  # sent again before Retry-After

    @property
    def ok(self) -> bool:
        """Whether every check held."""
        return not (
            self.missing_activities
            or self.doubled_activities
            or self.wellness_mismatches
            or self.early_requests
            or self.after_reauth_requests
            or self.hot_loops
            or self.email_problems
            or self.personal_api_violations
            or self.retry_after_ignored
            or sorted(self.reauth_expected) != sorted(self.reauth_marked)
        )


def chaos_settings(base: Settings, sandbox: Sandbox) -> Settings:
    """`base` pointed at the sandbox: no pacing, short timeout (a stall is a timeout), quick retries."""
    return base.model_copy(
        update={
            "garmin_base_url": sandbox.url,
            "garmin_min_interval_s": 0.0,
            "garmin_backoff_s": 0.01,
            "garmin_timeout_s": 0.5,
            "garmin_retries": 2,
            # Five minutes, doubling: several waits fit into the 30 simulated minutes.
            "garmin_429_backoff_s": 300.0,
            "garmin_initial_days": 14,
            # A check every simulated minute: each tick syncs (a fresh account would be served
            # from the database, and the faults would have nothing to hit).
            "activity_check_interval_s": 60.0,
            "secret_key": base.secret_key or SecretStr(Fernet.generate_key().decode()),
            "redis_url": None,  # file locks: the engine runs in one process
        }
    )


class GarminChaos:
    """Seeds the sandbox and the database, runs the simulated half hour, checks the outcome."""

    def __init__(
        self,
        sandbox: Sandbox,
        settings: Settings,
        *,
        athletes: int,
        seed: int,
        kind: str = "garth",
        parallel: int = 1,
    ) -> None:
        self.kind = kind
        self.parallel = parallel
        self.keys: dict[str, str] = {}  # name -> Personal API key
        self._result_lock = threading.Lock()
        self.sb = sandbox
        self.settings = settings
        self.rng = random.Random(seed)
        self.n = athletes
        self.names = [f"chaos{i:03d}" for i in range(athletes)]
        self.account_ids: dict[str, int] = {}
        self.deleted: dict[str, set[int]] = defaultdict(set)
        self.reauth_at: dict[str, float] = {}  # name -> sandbox time it was marked needs_reauth
        self.windows: list[tuple[str, float, float]] = []  # (name, from, until) on the sandbox clock
        self.sources = load_fit_folder(SAMPLES)
        self.next_id = 40_000_000_000
        self.start_day: date = self.sb.clock.today("UTC")
        self.dispatched_days: set[date] = set()
        self.messages: list[EmailMessage] | None = None  # an SMTP sink's list, when there is one

    # -- clock -------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The simulated moment: the sandbox's clock."""
        return datetime.fromtimestamp(self.sb.clock.now(), UTC)

    # -- seeding -----------------------------------------------------------------------------

    def _activity(self, day: date, existing: list | None = None) -> object | None:
        """A recording placed on `day`; None when every sample is on that day already.

        The same sample on the same day is byte-for-byte the same FIT file: legday rightly
        stores one recording once, and Garmin refuses such a duplicate upload anyway.
        """
        taken = {(a.file_name, a.start.date()) for a in existing or []}
        free = [src for src in self.sources if (src.name, place(src, day, 0).start.date()) not in taken]
        if not free:
            return None
        self.next_id += 1
        return place(self.rng.choice(free), day, self.next_id)

    def seed(self) -> None:
        """N sandbox users with a few activities over the last 10 days, and linked athletes."""
        today = self.start_day
        with session_scope(self.settings) as session:
            for i, name in enumerate(self.names):
                days = sorted(self.rng.sample(range(1, 11), self.rng.randint(2, 4)))
                activities = [self._activity(today - timedelta(days=d)) for d in days]
                self.sb.add_account(
                    SandboxAccount(
                        display_name=name,
                        profile_id=60_000_000 + i,
                        activities=activities,  # type: ignore[arg-type]
                        wellness=WellnessGenerator(1000 + i, today - timedelta(days=60)),
                    )
                )
                athlete = make_athlete(session, name, email=f"{name}@example.org")
                athlete.max_hr, athlete.rest_hr = 190, 50
                athlete.send_time = time(0, 0)  # due whenever the dispatcher looks
                if self.kind == "personal_api":
                    self.keys[name] = key = self.sb.issue_personal_api_key(name, expires_in_days=90)
                    account = connect_personal_api(session, athlete, key, 90, self.settings)
                else:
                    tokens = self.sb.issue_garth_tokens(name)
                    account = add_tokens(session, athlete, tokens, self.settings, verify=False)
                account.display_name = name
                session.flush()
                self.account_ids[name] = account.id

    # -- faults ------------------------------------------------------------------------------

    def _inject(self, name: str, result: GarminChaosResult) -> None:
        menu = FAULTS + (PERSONAL_API_FAULTS if self.kind == "personal_api" else ())
        kinds, weights = zip(*menu, strict=True)
        kind = self.rng.choices(kinds, weights)[0]
        add = self.sb.faults.add
        acct = self.sb.accounts[name]
        if kind == "429 short Retry-After":  # a few requests of the key at once, as Garmin says
            add(
                "status",
                "",
                status=429,
                retry_after=str(self.rng.randint(1, 3)),
                account=name,
                times=self.rng.randint(1, 2),
            )
        elif kind == "429 Retry-After HTTP date":
            from email.utils import formatdate

            # A server's HTTP date is wall-clock time (the client reads it against its own clock).
            add("status", "", status=429, retry_after=formatdate(wall_time() + 3, usegmt=True), account=name)
        elif kind == "429 Retry-After":
            add("status", "", status=429, retry_after=str(self.rng.randint(30, 400)), account=name)
        elif kind == "429 bare":
            add("status", "", status=429, account=name)
        elif kind == "5xx burst":
            add(
                "status",
                "",
                status=self.rng.choice([500, 502, 503, 504]),
                times=self.rng.randint(2, 8),
                account=name,
            )
        elif kind == "reset":
            add("reset", "", times=self.rng.randint(1, 3), account=name)
        elif kind == "stall":
            # A 10-second stall, longer than the client's timeout: the client gives up first.
            add("hang", "", seconds=10.0, times=1, account=name)
        elif kind == "truncated zip":
            add("truncated_zip", "/download-service", times=self.rng.randint(1, 2), account=name)
        elif kind == "truncated body":
            add("truncate", "/wellness-service|/hrv-service|/sleep-service", times=1, account=name)
        elif kind == "404 sets":
            add("status", "/exerciseSets", status=404, times=1, account=name)
        elif kind == "deleted activity":
            if len(acct.activities) > 1:
                gone = self.rng.choice(acct.activities)
                acct.activities.remove(gone)
                self.deleted[name].add(gone.activity_id)
        elif kind == "expired token":
            # One expiry at a time: two in a row are a 401 right after a successful refresh,
            # which legday rightly reads as refused tokens (needs_reauth), not as an expiry.
            if any(
                f.kind == "expire_token" and f.account == name and f.hits < (f.times or 0)
                for f in self.sb.faults._faults
            ):
                return
            add("expire_token", "", times=1, account=name)
        result.faults[kind] += 1

    def _break_refresh(self, name: str) -> None:
        """The athlete's OAuth1 token dies (revoked in Connect) and the access token with it;
        a Personal API athlete deletes the key in Connect."""
        if self.kind == "personal_api":
            self.sb.revoke_personal_api_key(self.keys[name])
            return
        self.sb.accounts[name].oauth1.clear()
        self.sb.faults.add("expire_token", "", times=None, account=name)

    # -- the run -----------------------------------------------------------------------------

    def _sync(self, name: str, result: GarminChaosResult) -> None:
        moment = self.now()
        try:
            outcome = sync_account_now(self.account_ids[name], settings=self.settings, now=moment)
            status, report = outcome.status, outcome.report
        except AccountBusy as exc:
            status, report = exc.status, None
        except RunStopped as exc:  # Garmin stopped the run: raised, with the run's report
            status, report = exc.status, exc.report
        with self._result_lock:
            result.statuses[status] += 1
            if report is None:
                return
            result.syncs += 1
            result.max_requests_one_sync = max(result.max_requests_one_sync, report.requests)
        after = self.sb.clock.now()
        with session_scope(self.settings) as session:
            account = session.get(GarminAccount, self.account_ids[name])
            assert account is not None
            if account.rate_limited_until is not None and account.rate_limited_until.timestamp() > after:
                self.windows.append((name, after, account.rate_limited_until.timestamp()))
            if account.status == "needs_reauth" and name not in self.reauth_at:
                self.reauth_at[name] = after

    def _dispatch(self, result: GarminChaosResult) -> None:
        moment = self.now()
        self.dispatched_days.add(moment.date())
        dispatch_due_emails(moment, settings=self.settings)

    def run(
        self, sim_minutes: int, *, tick_s: int = 60, fault_share: float = 0.25, reauth: int = 2
    ) -> GarminChaosResult:
        """Seed, run the faulty half hour and the calm tail, then check everything."""
        result = GarminChaosResult(athletes=self.n, sim_minutes=sim_minutes)
        self.seed()
        broken = self.rng.sample(self.names, reauth)
        result.reauth_expected = sorted(broken)
        ticks = max(1, sim_minutes * 60 // tick_s)
        log_mark = 0
        for tick in range(ticks):
            for name in self.names:
                if self.rng.random() < fault_share:
                    self._inject(name, result)
            if tick == ticks // 3:
                for name in broken:
                    self._break_refresh(name)
            if tick % 10 == 5:  # new activities keep arriving (a run finished a moment ago)
                for name in self.rng.sample(self.names, max(1, self.n // 5)):
                    acts = self.sb.accounts[name].activities
                    new = self._activity(self.sb.clock.today("UTC"), acts)
                    if new is not None:
                        acts.append(new)  # type: ignore[arg-type]
            log_mark = self._repeats_since(log_mark, result)
            log_mark = self._sync_all(result, log_mark)
            if tick % 10 == 9:
                self._dispatch(result)
            self.sb.clock.advance(tick_s)
        # Calm: the faults stop; move on to each rate limit's end and sync again until all settle.
        self.sb.faults.clear()
        for name in broken:  # still broken: its refresh stays refused
            self.sb.faults.add("expire_token", "", times=None, account=name)
        for _ in range(12):
            waiting = self._rate_limited_until()
            if waiting:
                self.sb.clock.advance(max(0.0, max(waiting) - self.sb.clock.now()) + 1)
            log_mark = self._sync_all(result, log_mark)
            if not self._rate_limited_until():
                break
        self._dispatch(result)
        self._dispatch(result)  # a doubled tick
        self.sb.clock.advance(86_400)  # the next morning: the re-auth notice is not repeated
        for name in self.names:
            if name not in broken:
                self._sync(name, result)
        self._dispatch(result)
        self._check(result)
        return result

    def _sync_all(self, result: GarminChaosResult, log_mark: int) -> int:
        """One sync of every athlete: one after the other, or on `parallel` threads."""
        if self.parallel <= 1:
            for name in self.names:
                self._sync(name, result)
                log_mark = self._repeats_since(log_mark, result)
            return log_mark
        with ThreadPoolExecutor(self.parallel) as pool:
            list(pool.map(lambda name: self._sync(name, result), self.names))
        return self._repeats_since(log_mark, result)

    def _rate_limited_until(self) -> list[float]:
        with session_scope(self.settings) as session:
            rows = session.scalars(
                select(GarminAccount.rate_limited_until).where(GarminAccount.rate_limited_until.is_not(None))
            ).all()
        now = self.sb.clock.now()
        return [r.timestamp() for r in rows if r is not None and r.timestamp() > now]

    def _repeats_since(self, mark: int, result: GarminChaosResult) -> int:
        """The most times one request was repeated for one account since log entry `mark`."""
        with self.sb._lock:
            fresh = self.sb.log[mark:]
            end = len(self.sb.log)
        seen = Counter(
            (r.account, r.method, r.path, tuple(sorted(r.query.items()))) for r in fresh if r.account
        )
        retries = self.settings.garmin_retries
        # urllib3 tries a call up to retries+1 times; a body cut short is fetched again up to
        # retries+1 times around that; a 401 refreshes once and repeats the call once.
        result.repeat_bound = 2 * (retries + 1) ** 2
        for key, count in seen.items():
            result.max_repeats_one_sync = max(result.max_repeats_one_sync, count)
            if count > result.repeat_bound:
                result.hot_loops.append(f"{key[0]} {key[1]} {key[2]}: {count} times in one sync")
        return end

    # -- checks ------------------------------------------------------------------------------

    def _check(self, result: GarminChaosResult) -> None:
        log = self.sb.requests()
        per_account = Counter(r.account for r in log if r.account)
        result.requests = len(log)
        result.requests_per_account = dict(per_account)
        result.rate_limit_windows = len(self.windows)
        for name, start, until in self.windows:
            for r in log:
                if r.account == name and start < r.at < until:
                    result.early_requests.append(f"{name}: {r.method} {r.path} {until - r.at:.0f}s early")
        for name, marked in self.reauth_at.items():
            for r in log:
                if r.account == name and r.at > marked:
                    result.after_reauth_requests.append(f"{name}: {r.method} {r.path}")
        result.kind = self.kind
        if self.kind == "personal_api":
            with self.sb._lock:
                result.personal_api_violations = list(self.sb.personal_api_violations)
            self._check_retry_after(log, result)
        today = self.sb.clock.today("UTC")
        with session_scope(self.settings) as session:
            for name in self.names:
                account = session.get(GarminAccount, self.account_ids[name])
                assert account is not None
                if account.status == "needs_reauth":
                    result.reauth_marked.append(name)
                    if name not in result.reauth_expected:
                        result.email_problems.append(
                            f"{name}: needs_reauth unexpectedly: {account.status_reason}"
                        )
                if name in self.reauth_expected_set(result):
                    continue  # its data stopped when its tokens died
                self._check_data(session, name, account.athlete_id, today, result)
            rows = session.execute(
                select(
                    GarminAccount.display_name, EmailDelivery.kind, EmailDelivery.date, EmailDelivery.status
                ).join(EmailDelivery, EmailDelivery.athlete_id == GarminAccount.athlete_id)
            ).all()
        result.reauth_marked.sort()
        self._check_emails(result, rows)

    def _check_emails(
        self, result: GarminChaosResult, rows: Sequence[Row[str | None, str, date, str]]
    ) -> None:
        """One email per athlete per dispatched day; the broken ones: one re-auth notice, ever."""
        sent: dict[str, list[tuple[str, str]]] = defaultdict(list)  # name -> [(kind, day)]
        if self.messages is not None:  # what the SMTP server really accepted
            for message in self.messages:
                name = str(message["To"]).split("@")[0]
                _, kind, day = str(message["Message-ID"]).strip("<>").split("@")[0].split(".")[:3]
                sent[name].append((kind, day))
        else:
            for who, what, on, status in rows:
                if status == "sent" and who is not None:  # every chaos account has a name
                    sent[who].append((what, on.isoformat()))
        for name in self.names:
            got = Counter(kind for kind, _ in sent[name])
            result.emails[name] = got
            per_day = Counter(day for _, day in sent[name])
            if any(n > 1 for n in per_day.values()):
                result.email_problems.append(f"{name}: more than one email on a day: {sent[name]}")
            if name in result.reauth_expected:
                marked = self.reauth_at.get(name)
                marked_day = datetime.fromtimestamp(marked, UTC).date().isoformat() if marked else "?"
                late_daily = [d for k, d in sent[name] if k == "daily" and d > marked_day]
                if got["reauth"] != 1 or late_daily:
                    result.email_problems.append(
                        f"{name}: {sent[name]} (want one re-auth notice, no daily after it)"
                    )
            elif (
                sorted(d for _, d in sent[name]) != sorted(d.isoformat() for d in self.dispatched_days)
                or got["reauth"]
            ):
                result.email_problems.append(
                    f"{name}: {sent[name]} (want one daily on each of {sorted(self.dispatched_days)})"
                )

    def _check_retry_after(self, log: list, result: GarminChaosResult) -> None:
        """No request of an account left before a short 429's Retry-After (seconds) was over."""
        for i, r in enumerate(log):
            if r.status != 429 or r.account is None:
                continue
            fault_wait = self._retry_after_of(r)
            if fault_wait is None:
                continue
            for later in log[i + 1 :]:
                if later.account == r.account and later.at < r.at + fault_wait - 0.05:
                    result.retry_after_ignored.append(
                        f"{r.account}: {later.method} {later.path} {r.at + fault_wait - later.at:.2f}s early"
                    )
                    break

    @staticmethod
    def _retry_after_of(entry: object) -> float | None:
        """The Retry-After (seconds) the sandbox sent with a logged 429, when it recorded one."""
        return getattr(entry, "retry_after", None)

    @staticmethod
    def reauth_expected_set(result: GarminChaosResult) -> set[str]:
        """The athletes whose refresh was broken on purpose."""
        return set(result.reauth_expected)

    def _check_data(
        self, session: object, name: str, athlete_id: int, today: date, result: GarminChaosResult
    ) -> None:
        acct = self.sb.accounts[name]
        # A multisport FIT is several activity rows (one per session) under one Garmin id: a
        # doubling is a session stored twice, or one Garmin id stored from two raw files.
        rows = session.execute(  # type: ignore[attr-defined]
            select(
                Activity.garmin_activity_id,
                func.count(),
                func.count(func.distinct(Activity.session_index)),
                func.count(func.distinct(Activity.raw_file_id)),
            )
            .where(Activity.athlete_id == athlete_id)
            .group_by(Activity.garmin_activity_id)
        ).all()
        stored = {gid: (n, sessions, files) for gid, n, sessions, files in rows}
        for gid, (n, sessions, files) in stored.items():
            if n != sessions or files != 1:
                result.doubled_activities.append(
                    f"{name}: activity {gid}: {n} rows, {sessions} sessions, {files} files"
                )
            elif gid not in {a.activity_id for a in acct.activities} and gid not in self.deleted[name]:
                result.doubled_activities.append(f"{name}: activity {gid} is not in the sandbox")
        for act in acct.activities:
            if act.activity_id not in stored:
                result.missing_activities.append(f"{name}: activity {act.activity_id} of {act.start.date()}")
        first = self.start_day - timedelta(days=self.settings.garmin_initial_days)
        stored_days = {
            w.date: w
            for w in session.scalars(select(WellnessDay).where(WellnessDay.athlete_id == athlete_id))  # type: ignore[attr-defined]
        }
        day = first
        while day <= today:
            want = acct.wellness_day(day, today)
            got = stored_days.get(day)
            if want is not None and want.hrv_last_night is not None:
                if got is None:
                    result.wellness_mismatches.append(f"{name}: {day} missing")
                elif (got.hrv_last_night_ms, got.resting_hr, got.sleep_seconds) != (
                    want.hrv_last_night,
                    want.resting_hr,
                    want.sleep_seconds,
                ):
                    result.wellness_mismatches.append(
                        f"{name}: {day} stored {(got.hrv_last_night_ms, got.resting_hr, got.sleep_seconds)}"
                        f" != sandbox {(want.hrv_last_night, want.resting_hr, want.sleep_seconds)}"
                    )
            day += timedelta(days=1)


def table(result: GarminChaosResult) -> list[tuple[str, str, str, str]]:
    """(fault or check, runs, expected, observed) rows for the soak's printout."""
    rows = [(f"fault: {k}", str(n), "sync converges", "-") for k, n in sorted(result.faults.items())]
    n = result.athletes
    rows += [
        (
            "syncs run (statuses)",
            str(result.syncs),
            "-",
            ", ".join(f"{k} {v}" for k, v in sorted(result.statuses.items())),
        ),
        ("activities missing", str(n), "0", str(len(result.missing_activities))),
        ("activities doubled / foreign", str(n), "0", str(len(result.doubled_activities))),
        ("wellness days wrong or missing", str(n), "0", str(len(result.wellness_mismatches))),
        (
            "requests inside a rate limit",
            str(result.rate_limit_windows),
            "0",
            str(len(result.early_requests)),
        ),
        (
            "requests after needs_reauth",
            str(len(result.reauth_expected)),
            "0",
            str(len(result.after_reauth_requests)),
        ),
        (
            "same request repeated in one sync",
            str(result.syncs),
            f"<= {result.repeat_bound}",
            f"max {result.max_repeats_one_sync}",
        ),
        ("requests in one sync", str(result.syncs), "bounded", f"max {result.max_requests_one_sync}"),
        (
            "requests per account",
            str(n),
            "bounded",
            f"max {max(result.requests_per_account.values(), default=0)}, total {result.requests}",
        ),
        (
            "marked needs_reauth",
            str(len(result.reauth_expected)),
            ",".join(result.reauth_expected),
            ",".join(result.reauth_marked),
        ),
        ("email problems", str(n), "0", str(len(result.email_problems))),
    ]
    if result.kind == "personal_api":
        rows += [
            (
                "requests above the Personal API's limits",
                str(result.requests),
                "0",
                str(len(result.personal_api_violations)),
            ),
            (
                "requests sent before Retry-After",
                str(result.requests),
                "0",
                str(len(result.retry_after_ignored)),
            ),
        ]
    return rows
