"""The thresholds the model applies for one athlete: defaults, deployment, athlete (layered)."""

from __future__ import annotations

from sync.config import Settings, get_settings
from sync.db.models import Athlete
from sync.errors import ConfigError
from sync.readiness import Thresholds, layered_thresholds


def thresholds_for(athlete: Athlete, settings: Settings | None = None) -> Thresholds:
    """Defaults, then the deployment's LEGDAY_THRESHOLDS, then the athlete's own overrides."""
    settings = settings or get_settings()
    try:
        return layered_thresholds(settings.thresholds, athlete.thresholds)
    except ValueError as exc:
        raise ConfigError(f"athlete {athlete.name}: bad threshold override: {exc}") from exc
