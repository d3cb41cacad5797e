"""Build, train, serve and evaluate the Rasa NLU server.

    python -m nlu.manage ensure-env          # the Python 3.10 virtualenv with Rasa (cached)
    python -m nlu.manage train [--force]     # train when data/config changed; print the model
    python -m nlu.manage serve [--port 5005] # ensure-env, train if needed, exec `rasa run`
    python -m nlu.manage ping [--url URL]
    python -m nlu.manage evaluate FILE [FILE…] [--url URL] [--errors]

Runs from the app's Python 3.11 virtualenv with the standard library and httpx only (no Flask):
Rasa 3.6 needs Python < 3.11, so it lives in its own virtualenv under the cache directory
`${PHANANH_CACHE_DIR:-~/.cache/phananh}`, keyed by a hash of nlu/requirements.txt. Models are
kept there too (`models/<hash of the training inputs>.tar.gz`), never in git.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from nlu.evaluation import Report

NLU_DIR = Path(__file__).resolve().parent
REPO_ROOT = NLU_DIR.parent
REQUIREMENTS = NLU_DIR / "requirements.txt"
# Everything that changes what `rasa train` produces.
TRAINING_INPUTS = ("config.yml", "domain.yml", "data", "normalize.py", "intents.py", "components")
ENV_MARKER = ".phananh-env-complete"
BOOTSTRAP_PACKAGES = ("pip", "setuptools", "wheel")
DEFAULT_PORT = 5005
DEFAULT_URL = "http://127.0.0.1:5005"
CURRENT_POINTER = "current.json"


class NluSetupError(RuntimeError):
    """The Rasa environment or model could not be built."""


def _log(message: str) -> None:
    print(f"[nlu] {message}", file=sys.stderr, flush=True)


def cache_dir() -> Path:
    """Directory that survives between runs: virtualenvs, models, Rasa's training cache."""
    root = os.environ.get("PHANANH_CACHE_DIR") or str(Path.home() / ".cache" / "phananh")
    path = Path(root).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_url() -> str:
    """The Rasa server URL: $RASA_URL, else the local default."""
    return os.environ.get("RASA_URL") or DEFAULT_URL


def _digest(paths: Sequence[Path], base: Path) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.relative_to(base).as_posix().encode())
        sha.update(b"\0")
        sha.update(path.read_bytes())
        sha.update(b"\0")
    return sha.hexdigest()


def requirements_hash() -> str:
    """Short hash of nlu/requirements.txt (names the virtualenv)."""
    return _digest([REQUIREMENTS], NLU_DIR)[:12]


def _input_files() -> list[Path]:
    files: list[Path] = []
    for name in TRAINING_INPUTS:
        path = NLU_DIR / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += [
                p
                for p in path.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
            ]
    return sorted(files)


def training_hash() -> str:
    """Short hash of the training inputs and the Rasa requirements (names the model)."""
    return _digest([*_input_files(), REQUIREMENTS], NLU_DIR)[:16]


def env_dir() -> Path:
    """Where the Rasa virtualenv for the current requirements lives."""
    return cache_dir() / f"rasa-env-{requirements_hash()}"


def env_python(env: Path | None = None) -> Path:
    """The Python interpreter of the Rasa virtualenv."""
    return (env or env_dir()) / "bin" / "python"


def model_path() -> Path:
    """Where the model for the current training inputs is (or will be) stored."""
    return cache_dir() / "models" / f"{training_hash()}.tar.gz"


def _is_python310(executable: str) -> bool:
    # A pyenv shim on PATH may exist and still fail to run when 3.10 is not selected.
    try:
        result = subprocess.run(
            [executable, "-c", "import sys; print(sys.version_info[:2] == (3, 10))"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0 and result.stdout.strip() == "True"


def find_python310() -> str:
    """A Python 3.10 interpreter: $PYTHON310, `python3.10` on PATH, or a pyenv install."""
    candidates = [os.environ.get("PYTHON310"), shutil.which("python3.10")]
    for pattern in (
        str(Path.home() / ".pyenv/versions/3.10.*/bin/python3.10"),
        "/root/.pyenv/versions/3.10.*/bin/python3.10",
    ):
        candidates += sorted(glob.glob(pattern), reverse=True)
    for candidate in dict.fromkeys(c for c in candidates if c):
        if os.access(candidate, os.X_OK) and _is_python310(candidate):
            return candidate
    raise NluSetupError(
        "Python 3.10 not found (Rasa 3.6 needs Python < 3.11): set PYTHON310 to its path"
    )


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """An exclusive lock in the cache directory, so parallel runs build things once."""
    with open(cache_dir() / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> None:
    _log("$ " + " ".join(str(c) for c in cmd))
    # Output goes to stderr (fd 2) so that stdout carries only the command's result (a path).
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, stdout=2, check=False)
    if result.returncode != 0:
        raise NluSetupError(f"command failed with exit code {result.returncode}: {cmd[0]}")


def _bootstrap_pins() -> list[str]:
    pins = []
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        name = line.split("==", 1)[0].strip().lower()
        if name in BOOTSTRAP_PACKAGES and "==" in line:
            pins.append(line.strip())
    return pins


def ensure_env(*, force: bool = False) -> Path:
    """Build the Rasa virtualenv once; fast no-op when it is already complete.

    The virtualenv is complete only when its marker file exists (written last), so an
    interrupted install is wiped and redone on the next call.
    """
    env = env_dir()
    if not force and (env / ENV_MARKER).is_file():
        return env
    with _locked("rasa-env"):
        if not force and (env / ENV_MARKER).is_file():
            return env
        started = time.monotonic()
        if env.exists():
            _log(f"removing incomplete virtualenv {env}")
            shutil.rmtree(env)
        python310 = find_python310()
        _log(f"building the Rasa virtualenv in {env} with {python310}")
        pip_env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        try:
            _run([python310, "-m", "venv", env])
            py = env_python(env)
            _run([py, "-m", "pip", "install", "--quiet", *_bootstrap_pins()], env=pip_env)
            _run([py, "-m", "pip", "install", "--quiet", "-r", REQUIREMENTS], env=pip_env)
            _run([py, "-c", "import rasa, sklearn; print('rasa', rasa.__version__)"])
        except BaseException:
            shutil.rmtree(env, ignore_errors=True)
            raise
        marker = {"requirements": requirements_hash(), "python": python310, "built": time.time()}
        (env / ENV_MARKER).write_text(json.dumps(marker), encoding="utf-8")
        _log(f"Rasa virtualenv ready in {time.monotonic() - started:.0f}s")
    return env


def rasa_environ() -> dict[str, str]:
    """Environment for Rasa processes: the repository on PYTHONPATH (custom components)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env["RASA_CACHE_DIRECTORY"] = str(cache_dir() / "rasa-train-cache")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    return env


def train(*, force: bool = False) -> Path:
    """Train the model unless one exists for the current inputs; return its path."""
    target = model_path()
    if target.is_file() and not force:
        return target
    return train_into(target, NLU_DIR, force=force)


def train_into(target: Path, inputs: Path, *, force: bool = False) -> Path:
    """Train `target` from a directory holding config.yml, domain.yml and data/ (the
    repository's nlu/, or a copy with more examples) unless it already exists."""
    python = env_python(ensure_env())
    with _locked("train"):
        if target.is_file() and not force:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(str(target) + f".tmp-{os.getpid()}")
        shutil.rmtree(work, ignore_errors=True)
        started = time.monotonic()
        cmd: list[str | os.PathLike[str]] = [
            python,
            "-m",
            "rasa",
            "train",
            "nlu",
            "--config",
            "config.yml",
            "--nlu",
            "data",
            "--domain",
            "domain.yml",
            "--out",
            work,
            "--fixed-model-name",
            target.name.removesuffix(".tar.gz"),
        ]
        try:
            _run(cmd, cwd=inputs, env=rasa_environ())
            os.replace(work / target.name, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        _log(f"trained {target.name} in {time.monotonic() - started:.0f}s")
    return target


def pointer_path() -> Path:
    """The file naming the promoted model ($PHANANH_CURRENT_MODEL, else in the model cache)."""
    configured = os.environ.get("PHANANH_CURRENT_MODEL")
    return Path(configured) if configured else cache_dir() / "models" / CURRENT_POINTER


def current_model() -> Path:
    """The model to serve: the one the learning loop promoted (`models/current.json`) when it
    was trained on the current inputs and is on disk, else the model of the current inputs."""
    pointer = pointer_path()
    try:
        chosen = json.loads(pointer.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return model_path()
    path = Path(str(chosen.get("model") or ""))
    if chosen.get("base") == training_hash() and path.is_file():
        return path
    return model_path()


def set_current_model(path: Path | None) -> None:
    """Record the promoted model (None: back to the model of the current inputs)."""
    pointer = pointer_path()
    pointer.parent.mkdir(parents=True, exist_ok=True)
    if path is None:
        pointer.unlink(missing_ok=True)
        return
    scratch = pointer.with_suffix(f".tmp-{os.getpid()}")
    scratch.write_text(json.dumps({"model": str(path), "base": training_hash()}), "utf-8")
    os.replace(scratch, pointer)


def serve_command(
    port: int = DEFAULT_PORT, model: Path | None = None, host: str | None = None
) -> list[str]:
    """The `rasa run` command line serving `model` (run it with cwd=NLU_DIR, rasa_environ())."""
    host = host or os.environ.get("RASA_HOST") or "127.0.0.1"
    return [
        str(env_python()),
        "-m",
        "rasa",
        "run",
        "--enable-api",
        "--interface",
        host,
        "--port",
        str(port),
        "--model",
        str(model or current_model()),
    ]


def serve(port: int = DEFAULT_PORT, host: str | None = None) -> None:
    """Ensure the environment and model, then replace this process with the Rasa server."""
    ensure_env()
    train()
    cmd = serve_command(port, current_model(), host)
    _log("exec " + " ".join(cmd))
    os.chdir(NLU_DIR)
    os.execve(cmd[0], cmd, rasa_environ())


def ping(url: str | None = None) -> bool:
    """True when a Rasa server answers at `url`."""
    from nlu.client import NluClient

    with NluClient(url or default_url(), timeout=2.0, retries=0) as client:
        return client.ping()


def load_jsonl(path: Path) -> list[dict[str, str]]:
    """Rows of a JSON Lines file with `text` and `category`."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if "text" not in row or "category" not in row:
            raise ValueError(f"{path}:{number}: needs 'text' and 'category'")
        rows.append(row)
    return rows


def evaluate(
    path: Path | Sequence[Path],
    url: str | None = None,
    *,
    warmup: int = 3,
    threshold: float | None = None,
) -> Report:
    """Parse every message of a JSON Lines file (or of several, scored together) through the
    server and score the answers.

    The first `warmup` messages are parsed once before timing (the first parses of a fresh
    server are slow); the latencies are client-side wall times of POST /model/parse.
    """
    from nlu.client import NluClient
    from nlu.evaluation import evaluate as score

    paths = [path] if isinstance(path, Path) else list(path)
    rows = [row for each in paths for row in load_jsonl(each)]
    predicted: list[str | None] = []
    confidences: list[float] = []
    latencies: list[float] = []
    with NluClient(url or default_url(), timeout=10.0, retries=2) as client:
        for row in rows[:warmup]:
            client.parse(row["text"])
        for row in rows:
            started = time.perf_counter()
            answer = client.parse(row["text"])
            latencies.append((time.perf_counter() - started) * 1000)
            predicted.append(answer.category)
            confidences.append(answer.confidence)
    return score(
        [row["category"] for row in rows],
        predicted,
        latencies_ms=latencies,
        texts=[row["text"] for row in rows],
        confidences=confidences,
        threshold=threshold,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m nlu.manage",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ensure-env", help="build the Rasa virtualenv (cached)")
    p.add_argument("--force", action="store_true", help="rebuild even if complete")
    p = sub.add_parser("train", help="train the model if the inputs changed")
    p.add_argument("--force", action="store_true", help="train even if a model exists")
    sub.add_parser("model-path", help="print where the model for the current inputs goes")
    p = sub.add_parser("serve", help="run the Rasa server in the foreground")
    p.add_argument("--port", type=int, default=int(os.environ.get("RASA_PORT", DEFAULT_PORT)))
    p.add_argument("--host", default=None, help="interface (default $RASA_HOST or 127.0.0.1)")
    p = sub.add_parser("ping", help="check that the server answers")
    p.add_argument("--url", default=None)
    p = sub.add_parser("evaluate", help="score JSON Lines files (text, category) together")
    p.add_argument("file", type=Path, nargs="+")
    p.add_argument("--url", default=None)
    p.add_argument("--errors", action="store_true", help="list the misclassified messages")
    args = parser.parse_args(argv)

    try:
        if args.command == "ensure-env":
            print(ensure_env(force=args.force))
        elif args.command == "train":
            print(train(force=args.force))
        elif args.command == "model-path":
            print(model_path())
        elif args.command == "serve":
            serve(args.port, args.host)
        elif args.command == "ping":
            url = args.url or default_url()
            alive = ping(url)
            print(f"{url}: {'up' if alive else 'DOWN'}")
            return 0 if alive else 1
        elif args.command == "evaluate":
            from nlu.client import NluUnavailable
            from nlu.evaluation import format_report

            try:
                report = evaluate(args.file, args.url)
            except NluUnavailable as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            print(format_report(report, show_errors=args.errors))
    except NluSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
