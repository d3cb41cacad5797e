"""Settings: booleans parsed strictly, every service setting declared in config/settings.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), ("TRUE", True), (" on ", True), ("no", False), ("0", False)]
)
def test_booleans(monkeypatch, raw, value):
    monkeypatch.setenv("SOME_SWITCH", raw)
    assert settings._bool("SOME_SWITCH", not value) is value


def test_an_empty_boolean_takes_the_default(monkeypatch):
    monkeypatch.setenv("SOME_SWITCH", "")
    assert settings._bool("SOME_SWITCH", True) is True


def test_a_misspelt_boolean_stops_the_process():
    env = {**os.environ, "RATELIMIT_ENABLED": "flase", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "RATELIMIT_ENABLED='flase' is not a boolean" in done.stderr


@pytest.mark.parametrize(
    "name", ["EXPORT_DIR", "EXPORT_BACKGROUND_ROWS", "HEATMAP_CACHE_SECONDS", "TASKS_ENABLED"]
)
def test_settings_services_read_are_declared(name):
    assert hasattr(settings.Config, name)
