"""nlu.manage: cache layout, hashing, the cached environment and model, evaluate, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from nlu_fakes import rasa_body

from nlu import manage

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty cache directory for this test."""
    monkeypatch.setenv("PHANANH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A small stand-in for the nlu/ directory."""
    root = tmp_path / "nlu"
    (root / "data").mkdir(parents=True)
    (root / "components" / "__pycache__").mkdir(parents=True)
    (root / "config.yml").write_text("pipeline: []\n")
    (root / "domain.yml").write_text("intents: [greet]\n")
    (root / "data" / "nlu.yml").write_text("nlu: []\n")
    (root / "normalize.py").write_text("X = 1\n")
    (root / "components" / "normalizer.py").write_text("Y = 1\n")
    (root / "components" / "__pycache__" / "normalizer.cpython-310.pyc").write_bytes(b"1")
    (root / "requirements.txt").write_text("pip==24.0\nsetuptools==69.5.1\nrasa==3.6.20\n")
    monkeypatch.setattr(manage, "NLU_DIR", root)
    monkeypatch.setattr(manage, "REQUIREMENTS", root / "requirements.txt")
    return root


def test_cache_dir_from_environment(cache):
    assert manage.cache_dir() == cache
    assert cache.is_dir()


def test_env_dir_is_named_by_the_requirements_hash(cache, project):
    assert manage.env_dir() == cache / f"rasa-env-{manage.requirements_hash()}"
    before = manage.requirements_hash()
    (project / "requirements.txt").write_text("rasa==3.6.21\n")
    assert manage.requirements_hash() != before


def test_training_hash_follows_the_inputs_only(cache, project):
    first = manage.training_hash()
    assert manage.training_hash() == first
    (project / "components" / "__pycache__" / "normalizer.cpython-310.pyc").write_bytes(b"2")
    (project / "README.md").write_text("not an input")
    assert manage.training_hash() == first
    (project / "data" / "nlu.yml").write_text("nlu: [changed]\n")
    second = manage.training_hash()
    assert second != first
    (project / "components" / "normalizer.py").write_text("Y = 2\n")
    assert manage.training_hash() != second
    assert manage.model_path() == cache / "models" / f"{manage.training_hash()}.tar.gz"


def test_ensure_env_is_a_no_op_when_complete(cache, project, monkeypatch):
    env = manage.env_dir()
    env.mkdir(parents=True)
    (env / manage.ENV_MARKER).write_text("{}")
    monkeypatch.setattr(manage, "find_python310", lambda: pytest.fail("must not rebuild"))
    assert manage.ensure_env() == env


def test_ensure_env_rebuilds_an_interrupted_install(cache, project, monkeypatch):
    env = manage.env_dir()
    env.mkdir(parents=True)
    (env / "left-over").write_text("half an install")
    commands: list[list[str]] = []
    monkeypatch.setattr(manage, "find_python310", lambda: "/opt/python3.10")

    def fake_run(cmd, **kw):
        commands.append([str(c) for c in cmd])
        if cmd[1:3] == ["-m", "venv"]:
            Path(cmd[3]).mkdir(parents=True)

    monkeypatch.setattr(manage, "_run", fake_run)
    assert manage.ensure_env() == env
    assert not (env / "left-over").exists()
    assert json.loads((env / manage.ENV_MARKER).read_text())["requirements"] == (
        manage.requirements_hash()
    )
    assert commands[0] == ["/opt/python3.10", "-m", "venv", str(env)]
    assert commands[1][-2:] == ["pip==24.0", "setuptools==69.5.1"]
    assert commands[2][-2:] == ["-r", str(project / "requirements.txt")]


def test_a_failed_install_leaves_no_environment(cache, project, monkeypatch):
    def fail_on_pip(cmd, **kw):
        if "pip" in [str(c) for c in cmd]:
            raise manage.NluSetupError("pip failed")

    monkeypatch.setattr(manage, "find_python310", lambda: "/opt/python3.10")
    monkeypatch.setattr(manage, "_run", fail_on_pip)
    with pytest.raises(manage.NluSetupError):
        manage.ensure_env()
    assert not manage.env_dir().exists()


def test_train_is_skipped_when_the_model_exists(cache, project, monkeypatch):
    model = manage.model_path()
    model.parent.mkdir(parents=True)
    model.write_bytes(b"model")
    monkeypatch.setattr(manage, "ensure_env", lambda **kw: pytest.fail("must not train"))
    assert manage.train() == model


def test_python310_candidates_are_checked(monkeypatch, tmp_path):
    fake = tmp_path / "python3.10"
    fake.write_text("#!/bin/sh\necho False\n")
    fake.chmod(0o755)
    assert manage._is_python310(str(fake)) is False
    assert manage._is_python310(str(tmp_path / "missing")) is False
    assert manage._is_python310(sys.executable) is (sys.version_info[:2] == (3, 10))


def test_serve_command(cache, project):
    cmd = manage.serve_command(5123, Path("/m/model.tar.gz"), host="127.0.0.1")
    assert cmd[0] == str(manage.env_dir() / "bin" / "python")
    assert cmd[1:5] == ["-m", "rasa", "run", "--enable-api"]
    assert cmd[cmd.index("--port") + 1] == "5123"
    assert cmd[cmd.index("--model") + 1] == "/m/model.tar.gz"
    assert cmd[cmd.index("--interface") + 1] == "127.0.0.1"


def test_rasa_environ_puts_the_repository_on_the_path(cache):
    env = manage.rasa_environ()
    assert env["PYTHONPATH"].split(":")[0] == str(manage.REPO_ROOT)
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    assert env["RASA_CACHE_DIRECTORY"].startswith(str(cache))


def test_evaluate_against_a_server(fake_rasa, tmp_path):
    rows = [
        {"text": "ổ gà", "category": "road_damage"},
        {"text": "rác", "category": "waste"},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n")
    server = fake_rasa([(200, rasa_body("road_damage"), 0)])
    report = manage.evaluate(path, server.url, warmup=1)
    assert report.total == 2
    assert report.accuracy == 0.5
    assert report.latency_p95_ms is not None and report.latency_p95_ms > 0
    assert len(server.requests) == 3  # one warm-up parse, then every row


def test_cli_ping_and_evaluate(fake_rasa, tmp_path, capsys):
    server = fake_rasa([(200, rasa_body("waste"), 0)])
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps({"text": "rác", "category": "waste"}) + "\n")
    assert manage.main(["ping", "--url", server.url]) == 0
    assert manage.main(["evaluate", str(path), "--url", server.url]) == 0
    out = capsys.readouterr().out
    assert "macro-F1     1.000" in out
    assert "latency p95" in out


def test_several_files_are_scored_together(fake_rasa, tmp_path, capsys, app):
    server = fake_rasa([(200, rasa_body("waste"), 0)])
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(json.dumps({"text": "rác", "category": "waste"}) + "\n")
    second.write_text(
        json.dumps({"text": "ổ gà", "category": "road_damage"}) + "\n"
        + json.dumps({"text": "rác nữa", "category": "waste"}) + "\n"
    )  # fmt: skip
    report = manage.evaluate([first, second], server.url, warmup=0)
    assert report.total == 3 and report.per_class["waste"].precision == pytest.approx(2 / 3)
    assert manage.main(["evaluate", str(first), str(second), "--url", server.url]) == 0
    assert "messages     3" in capsys.readouterr().out
    runner = app.test_cli_runner()
    out = runner.invoke(args=["nlu", "evaluate", str(first), str(second), "--url", server.url])
    assert out.exit_code == 0, out.output
    assert "messages     3" in out.output and "macro-F1     0.400 (95% CI" in out.output


def test_cli_reports_a_server_that_is_down(tmp_path, capsys):
    from nlu_fakes import free_port

    url = f"http://127.0.0.1:{free_port()}"
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps({"text": "rác", "category": "waste"}) + "\n")
    assert manage.main(["ping", "--url", url]) == 1
    assert manage.main(["evaluate", str(path), "--url", url]) == 1


def test_manage_imports_neither_flask_nor_webapp():
    code = (
        "import sys, nlu.manage, nlu.client\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'webapp')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
