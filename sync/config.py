"""Settings, read from the environment (prefix LEGDAY_) and an optional `.env` file.

The embedded default needs nothing set: a SQLite file in the data directory, no Redis
(tasks run in-process), emails written to a local outbox.
"""

from __future__ import annotations

import difflib
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from dotenv import dotenv_values
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sync.errors import ConfigError
from sync.private_files import private_dir

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "legday"


class Settings(BaseSettings):
    """Every knob legday has. See `.env.example` for a documented list."""

    model_config = SettingsConfigDict(
        env_prefix="LEGDAY_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Where the SQLite file, raw FIT store, outbox live.")
    # URLs may carry passwords: kept out of repr() (and so out of logs and tracebacks).
    database_url: str | None = Field(
        None, repr=False, description="SQLAlchemy URL; unset means SQLite in data_dir."
    )
    redis_url: str | None = Field(
        None, repr=False, description="Celery broker; unset means tasks run in-process."
    )
    corpus_dir: Path = Field(Path("../shared/corpus/fit"), description="The shared FIT test corpus.")

    log_level: str = Field("WARNING", description="Python log level of the CLI and the workers.")

    # FIT import
    max_fit_bytes: int = Field(64 * 1024 * 1024, description="Files above this are quarantined.")
    max_zip_ratio: float = Field(200.0, description="Compression ratio above which a ZIP member is refused.")
    max_zip_total_bytes: int = Field(2 * 1024 * 1024 * 1024, description="Total extracted bytes per ZIP.")
    # What one FIT file may produce (sync.fit.types.FitLimits has the same defaults and why).
    max_fit_sessions: int = Field(
        200, ge=1, description="Sessions per FIT file above which it is quarantined."
    )
    max_fit_sets: int = Field(
        3000, ge=1, description="Strength sets per FIT file above which it is quarantined."
    )
    max_fit_records: int = Field(
        1_000_000, ge=1, description="Data records (messages) per FIT file above which it is quarantined."
    )
    accept_bad_crc: bool = Field(
        True, description="Use a file whose only fault is a bad CRC (kept, flagged crc_ok=false)."
    )

    # Readiness thresholds applied to every athlete (JSON), e.g. {"lb_sets": 8}; each athlete
    # may override them again (`legday athlete set NAME -t lb_sets=8`).
    thresholds: dict[str, float | int | bool] = Field(default_factory=dict)

    # Athlete defaults (for TRIMP when the athlete has none set)
    default_sex: Literal["male", "female"] = "male"
    default_max_hr: int = 190
    default_rest_hr: int = 60

    # Secrets
    secret_key: SecretStr | None = Field(
        None, description="Fernet key encrypting stored secrets at rest (Garmin tokens and API keys)."
    )
    smtp_password: SecretStr | None = Field(None, description="SMTP login password (never logged).")

    # Email (docs/email.md). No SMTP host: emails go to the outbox folder in data_dir.
    smtp_host: str | None = Field(None, description="SMTP server; unset means the local outbox folder.")
    smtp_port: int | None = Field(
        None, description="SMTP port; unset: 587 for starttls, 465 for ssl, 25 for none."
    )
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="starttls (upgrade a plain connection), ssl (TLS from the start) or none."
    )
    smtp_user: str | None = Field(None, description="SMTP login user; unset means no login.")
    smtp_timeout_s: float = Field(30.0, description="Seconds before an SMTP connect or reply times out.")
    mail_from: str = Field("legday <legday@localhost>", description="From address of every email.")
    email_max_attempts: int = Field(5, description="Send attempts per email before it is marked failed.")
    email_retry_backoff_s: float = Field(
        300.0, description="Wait before retrying a transient SMTP failure; doubles per attempt."
    )
    email_claim_timeout_s: float = Field(
        900.0,
        description="A delivery claimed this long ago that never reached the SMTP server is taken over.",
    )

    # Push notification channels (docs/notifications.md): Apprise URLs per athlete.
    push_max_attempts: int = Field(5, ge=1, description="Send attempts per push message before it fails.")
    push_retry_backoff_s: float = Field(
        120.0, gt=0, description="Wait before retrying a transient push failure; doubles per attempt."
    )
    push_timeout_s: float = Field(10.0, gt=0, description="Seconds Apprise waits for a push service.")
    push_pause_after_days: int = Field(
        3, ge=1, description="A channel whose morning message failed this many days in a row is paused."
    )

    # Garmin
    garmin_domain: str = Field("garmin.com", description="garth domain; production is garmin.com.")
    garmin_base_url: str | None = Field(
        None, description="Override every Garmin host with this URL (the local sandbox)."
    )
    garmin_timeout_s: float = 15.0
    garmin_min_interval_s: float = Field(
        1.0, description="Pause between two calls for one account (Garmin tolerates ~1/s)."
    )
    garmin_retries: int = Field(2, description="Extra attempts after a 5xx, reset or timeout.")
    garmin_backoff_s: float = Field(0.5, description="First retry pause; doubles, with jitter.")
    garmin_429_backoff_s: float = Field(
        1800.0, description="Pause after a 429 without Retry-After; doubles per 429 in a row."
    )
    garmin_429_backoff_max_s: float = Field(86400.0, description="Cap of the 429 backoff.")
    garmin_page_size: int = Field(100, description="Activities per list request.")
    garmin_overlap_days: int = Field(3, description="Re-read this many days before the cursor.")
    garmin_sets_refresh_h: float = Field(
        30.0,
        description=(
            "A full sync re-reads Garmin's exercise sets (the athlete's corrections) of strength "
            "sessions that started this recently: each is re-read by the morning sync after it."
        ),
    )
    garmin_initial_days: int = Field(60, description="First sync reaches this many days back.")
    garmin_max_download_bytes: int = Field(
        32 * 1024 * 1024, description="Largest activity ZIP accepted from Garmin (decoded bytes)."
    )
    garmin_max_body_bytes: int = Field(
        16 * 1024 * 1024, ge=64 * 1024, description="Largest JSON reply read from Garmin (decoded bytes)."
    )
    garmin_global_rps: float | None = Field(
        None, description="Requests per second to Garmin across all workers (needs Redis); unset: none."
    )
    garmin_global_burst: int = Field(10, description="Requests the shared budget allows in a burst.")
    garmin_personal_inline_wait_s: float = Field(
        30.0,
        description="Personal API: a 429 whose Retry-After is at most this is waited out inside "
        "the sync (every request of the key pauses); longer, the account waits for a later run.",
    )
    auto_secret_key: bool | None = Field(
        None,
        description="Create data_dir/secret.key (0600) when no secret_key is set; "
        "unset means: only for the embedded SQLite default.",
    )

    # Report API, HTML report and signed links (`legday serve`)
    serve_host: str = Field("127.0.0.1", description="Address `legday serve` listens on.")
    serve_port: int = Field(8000, description="Port `legday serve` listens on.")
    serve_header_timeout_s: float = Field(
        10.0, gt=0, description="Seconds a connection has to finish its request headers, else it is closed."
    )
    serve_keep_alive_s: int = Field(5, ge=1, description="Seconds an idle kept-alive connection stays open.")
    report_base_url: str | None = Field(
        None, description="Public URL of the report server in links; unset: http://serve_host:serve_port."
    )
    report_secret: SecretStr | None = Field(
        None,
        repr=False,
        description="HMAC key signing report links and cookies; unset: derived from secret_key, "
        "else a report.key file in data_dir (embedded default only).",
    )
    report_link_days: int = Field(7, ge=1, le=366, description="Days a report or soreness link stays valid.")
    report_session_hours: int = Field(12, ge=1, description="Lifetime of the report page's session cookie.")
    api_max_body_bytes: int = Field(4096, ge=64, description="Largest request body the API accepts.")
    api_read_pool_size: int = Field(
        10,
        ge=1,
        le=100,
        description="PostgreSQL connections per server process for the API's hot reads (today, a "
        "day, the watch feed); more requests than this wait their turn (docs/performance.md).",
    )
    soreness_rate_per_minute: int = Field(
        6, ge=1, description="Soreness posts one athlete may make per minute (API and report page)."
    )

    # Service: locks, queues, beat (docs/service.md)
    lock_ttl_s: float = Field(
        60.0, description="Lease of a per-account lock; renewed every third of it while its holder lives."
    )
    beat_lease_s: float = Field(30.0, description="Lease of the one beat allowed to schedule.")
    visibility_timeout_s: int = Field(
        900, description="Redis: an unacknowledged task goes back to the queue after this long."
    )
    queue: str = Field("legday", description="Celery queue of verdicts, emails and dispatchers.")
    sync_queue: str = Field("legday.sync", description="Celery queue of Garmin syncs (I/O-bound).")

    # Scheduling of Garmin syncs
    dispatch_interval_s: float = Field(60.0, description="How often beat looks for syncs that are due.")
    email_dispatch_interval_s: float = Field(
        300.0,
        description="How often beat runs the email dispatcher (an email leaves within this of its time).",
    )
    activity_check_interval_s: float = Field(
        28800.0,
        description=(
            "How often each account's activity list is checked (one request); 8 h: about 8.5 "
            "Garmin requests per athlete-day in all (docs/garmin.md, 'How often')."
        ),
    )
    wake_time: time = Field(time(5, 30), description="Local time after which last night's wellness exists.")
    wellness_lead_min: int = Field(
        30, description="The second wellness fetch, this many minutes before the athlete's send time."
    )

    @field_validator("data_dir", "corpus_dir", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        # `~` in .env or the environment is not expanded by the shell there.
        return value.expanduser()

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{self.data_dir / 'legday.sqlite3'}"

    @property
    def smtp_port_or_default(self) -> int:
        """The SMTP port, defaulting by security mode."""
        if self.smtp_port is not None:
            return self.smtp_port
        return {"starttls": 587, "ssl": 465, "none": 25}[self.smtp_security]

    @property
    def raw_store_dir(self) -> Path:
        """Content-addressed store of raw FIT bytes."""
        return self.data_dir / "raw"


# LEGDAY_* variables that are not settings but are read elsewhere on purpose.
NON_SETTING_VARIABLES = frozenset({"LEGDAY_TEST_POSTGRES_URL"})


def unknown_variables(names: Iterable[str]) -> list[str]:
    """The LEGDAY_* names among `names` that no setting reads (a misspelt setting), sorted."""
    known = {f"LEGDAY_{field.upper()}" for field in Settings.model_fields} | NON_SETTING_VARIABLES
    return sorted({n for n in names if n.upper().startswith("LEGDAY_") and n.upper() not in known})


def warn_unknown_variables(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> list[str]:
    """Log a warning naming each unknown LEGDAY_* variable (environment and `.env`); return them."""
    names = set(os.environ if environ is None else environ)
    env_file = Path(".env") if env_file is None else env_file
    if env_file.is_file():
        names |= {k for k in dotenv_values(env_file) if k}
    unknown = unknown_variables(names)
    known = [f"LEGDAY_{field.upper()}" for field in Settings.model_fields]
    for name in unknown:
        close = difflib.get_close_matches(name.upper(), known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        logging.getLogger("sync.config").warning("unknown setting %s is ignored%s", name, hint)
    return unknown


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache after changing env)."""
    return Settings()


# Key files of the embedded default (report.key, secret.key). They live here, beside the
# settings they stand in for, so the Garmin adapter, the push channels and the report server
# share one copy.
MIN_KEY_FILE_CHARS = 32


def read_key_file(path: Path, what: str, *, min_chars: int = MIN_KEY_FILE_CHARS) -> str:
    """The key in `path`, stripped; an empty or short file is a one-line ConfigError.

    A file that exists but holds no key is never used: a key of zero bytes would let anyone
    forge what it signs, and a short one is not a secret.
    """
    key = path.read_text(encoding="ascii", errors="replace").strip()
    if len(key) < min_chars:
        raise ConfigError(
            f"the {what} in {path} is {'empty' if not key else 'too short'} ({len(key)} characters, "
            f"at least {min_chars} needed): restore it from a backup, or delete it to have a new "
            "one made (what the old key protects is then lost)"
        )
    return key


def read_or_create_key_file(
    path: Path, make_key: Callable[[], str], what: str, *, min_chars: int = MIN_KEY_FILE_CHARS
) -> tuple[str, bool]:
    """(the key in `path`, whether this call created it), creating it atomically when absent.

    The key is written whole to a temp file in the same folder, fsynced, then hard-linked to
    `path`: the link fails when the name exists, so among processes racing on a fresh data dir
    the first link wins and every other process reads that complete file. Nobody can ever see
    an empty or half-written key (an O_EXCL create followed by a write could). Mode 0600.
    """
    if path.exists():
        return read_key_file(path, what, min_chars=min_chars), False
    private_dir(path.parent)
    key = make_key()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return read_key_file(path, what, min_chars=min_chars), False
        _fsync_dir(path.parent)
    finally:
        os.unlink(tmp)
    return key, True


def _fsync_dir(folder: Path) -> None:
    """Make a new name in `folder` survive a crash (best effort: not every filesystem can)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# The at-rest cipher (Fernet): Garmin tokens and notification channel URLs. Here, beside the key
# it uses, so the Garmin adapter and the notify output share one copy without importing each other.
AT_REST_KEY_FILE = "secret.key"
AT_REST_KEY_WHAT = "Garmin token encryption key"
HOW_TO_MAKE_A_KEY = (
    "No encryption key configured for Garmin tokens. Generate one with\n"
    "  python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'\n"
    "and set it as LEGDAY_SECRET_KEY (or run with LEGDAY_AUTO_SECRET_KEY=true to let legday "
    "create data_dir/secret.key, mode 0600, for a single-machine setup)."
)


def at_rest_key_file(settings: Settings) -> Path:
    """Where the auto-created at-rest key of the embedded default lives."""
    return settings.data_dir / AT_REST_KEY_FILE


def at_rest_key(settings: Settings, *, create: bool | None = None) -> SecretStr:
    """The Fernet key: settings.secret_key, else the key file in data_dir.

    The key file is created (0600) only when `create` (default: settings.auto_secret_key) is
    true, so a service with a shared database never silently invents a key per machine.
    """
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key
    path = at_rest_key_file(settings)
    if path.exists():
        return SecretStr(read_key_file(path, AT_REST_KEY_WHAT))
    if create is None:
        auto = settings.auto_secret_key
        create = auto if auto is not None else settings.database_url is None
    if create:
        from cryptography.fernet import Fernet  # only here: `legday --help` loads no cryptography

        key, created = read_or_create_key_file(path, lambda: Fernet.generate_key().decode(), AT_REST_KEY_WHAT)
        if created:
            logging.getLogger(__name__).warning(
                "created a new token encryption key at %s (mode 0600); back it up", path
            )
        return SecretStr(key)
    raise ConfigError(HOW_TO_MAKE_A_KEY)


def _fernet(settings: Settings) -> Fernet:
    from cryptography.fernet import Fernet

    try:
        return Fernet(at_rest_key(settings).get_secret_value().encode())
    except ValueError as exc:  # wrong length / not urlsafe base64
        raise ConfigError(f"LEGDAY_SECRET_KEY is not a valid Fernet key ({exc})") from None


def encrypt_at_rest(settings: Settings, plaintext: bytes) -> bytes:
    """Encrypt bytes with the configured at-rest key."""
    return _fernet(settings).encrypt(plaintext)


def decrypt_at_rest(settings: Settings, ciphertext: bytes, what: str) -> bytes:
    """Decrypt bytes; a wrong key is a ConfigError that names `what`, never a secret."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(settings).decrypt(ciphertext)
    except InvalidToken:
        raise ConfigError(
            f"stored {what} cannot be decrypted with the configured key (was LEGDAY_SECRET_KEY changed?)"
        ) from None
