"""Settings, read from the environment (prefix LEGDAY_) and an optional `.env` file.

The embedded default needs nothing set: a SQLite file in the data directory, no Redis
(tasks run in-process), emails written to a local outbox.
"""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
        None, description="Fernet key encrypting Garmin tokens and SMTP passwords at rest."
    )
    smtp_password: SecretStr | None = None

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
    garmin_initial_days: int = Field(60, description="First sync reaches this many days back.")
    garmin_max_download_bytes: int = Field(
        32 * 1024 * 1024, description="Largest activity ZIP accepted from Garmin."
    )
    garmin_global_rps: float | None = Field(
        None, description="Requests per second to Garmin across all workers (needs Redis); unset: none."
    )
    garmin_global_burst: int = Field(10, description="Requests the shared budget allows in a burst.")
    auto_secret_key: bool | None = Field(
        None,
        description="Create data_dir/secret.key (0600) when no secret_key is set; "
        "unset means: only for the embedded SQLite default.",
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
    activity_check_interval_s: float = Field(
        3600.0, description="How often each account's activity list is checked (one request)."
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
    def raw_store_dir(self) -> Path:
        """Content-addressed store of raw FIT bytes."""
        return self.data_dir / "raw"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache after changing env)."""
    return Settings()
