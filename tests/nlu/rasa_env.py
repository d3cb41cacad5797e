"""Run Python code in the Rasa environment (Python 3.10), as the model server does; the test
is skipped on a machine without Python 3.10."""

from __future__ import annotations

import subprocess

import pytest

from nlu import manage


def run_in_rasa_env(*args: str) -> str:
    """`python ARGS…` in the Rasa environment (built if needed); its standard output."""
    try:
        manage.find_python310()
    except manage.NluSetupError as exc:
        pytest.skip(str(exc))
    done = subprocess.run(
        [str(manage.env_python(manage.ensure_env())), *args],
        env=manage.rasa_environ(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout
