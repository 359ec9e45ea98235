"""HAZARDEYE_DATA_DIR moves the embedded profile's database and object folder, unless they are set."""

from __future__ import annotations

from pathlib import Path

import pytest

from serving.settings import LocalObjectStoreSettings, S3ObjectStoreSettings, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HAZARDEYE_DATA_DIR", "HAZARDEYE_DATABASE__URL", "HAZARDEYE_OBJECTS__KIND",
                 "HAZARDEYE_OBJECTS__ROOT"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_the_defaults_stay_under_var() -> None:
    settings = Settings()
    assert settings.database.url == "sqlite:///var/hazardeye.db"
    assert settings.objects == LocalObjectStoreSettings(root=Path("var/objects"))


def test_data_dir_from_the_environment_moves_database_and_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAZARDEYE_DATA_DIR", "/srv/hazardeye")
    settings = Settings()
    assert settings.database.url == "sqlite:////srv/hazardeye/hazardeye.db"
    assert settings.objects == LocalObjectStoreSettings(root=Path("/srv/hazardeye/objects"))


def test_explicit_database_and_object_settings_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAZARDEYE_DATA_DIR", "/srv/hazardeye")
    monkeypatch.setenv("HAZARDEYE_DATABASE__URL", "postgresql+psycopg://hz@db/hz")
    monkeypatch.setenv("HAZARDEYE_OBJECTS__ROOT", "/mnt/evidence")
    settings = Settings()
    assert settings.database.url == "postgresql+psycopg://hz@db/hz"
    assert settings.objects == LocalObjectStoreSettings(root=Path("/mnt/evidence"))


def test_an_s3_store_is_left_alone() -> None:
    s3 = Settings(data_dir=Path("/srv/x"), objects={"kind": "s3", "access_key": "a", "secret_key": "b"})
    assert (
        isinstance(s3.objects, S3ObjectStoreSettings) and s3.database.url == "sqlite:////srv/x/hazardeye.db"
    )
