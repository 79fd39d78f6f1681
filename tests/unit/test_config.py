"""Settings: embedded defaults, and every variable documented in .env.example."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.config import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_every_setting_is_documented() -> None:
    text = ENV_EXAMPLE.read_text()
    missing = [name for name in Settings.model_fields if f"LEGDAY_{name.upper()}" not in text]
    assert missing == []


def test_embedded_default_is_sqlite_in_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEGDAY_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LEGDAY_DATABASE_URL", raising=False)
    settings = Settings()
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'legday.sqlite3'}"
    assert settings.redis_url is None


def test_postgres_url_gets_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGDAY_DATABASE_URL", "postgresql://u@db:5432/legday")
    assert Settings().sqlalchemy_url == "postgresql+psycopg://u@db:5432/legday"


def test_secrets_never_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGDAY_SMTP_PASSWORD", "hunter2-very-secret")
    monkeypatch.setenv("LEGDAY_SECRET_KEY", "hunter2-key")
    monkeypatch.setenv("LEGDAY_DATABASE_URL", "postgresql://legday:hunter2-db@db/legday")
    monkeypatch.setenv("LEGDAY_REDIS_URL", "redis://:hunter2-redis@redis:6379/0")
    settings = Settings()
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)
    assert "hunter2" not in str(settings.model_dump(exclude={"database_url", "redis_url"}))


def test_home_in_paths_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("LEGDAY_DATA_DIR=~/.local/share/legday\n")
    monkeypatch.delenv("LEGDAY_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert Settings().data_dir == tmp_path / "home" / ".local" / "share" / "legday"
