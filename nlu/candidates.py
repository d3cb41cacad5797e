"""Candidate models of the learning loop: trained on the training data plus new examples
(operators' corrections), scored on evaluation files through a temporary Rasa server, and
reloaded into the serving replicas once promoted.

Flask-free like the rest of `nlu/`: the app decides which examples go in and whether a
candidate is promoted (webapp.services.nlu_models); this module only trains, serves and scores.
A candidate is named by a hash of its inputs (the training inputs, the extra examples and the
base data directory), so the same corrections never train twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx

from nlu import manage
from nlu.evaluation import Report

# Written next to the training data of a candidate; Rasa reads every file of data/.
EXTRA_FILE = "learned.yml"
START_TIMEOUT_S = 180.0


def _clean(text: str) -> str:
    """One line, and no Rasa entity markup ("[x](ward)" in a resident's words is just text)."""
    return " ".join(text.replace("[", "(").replace("]", ")").split())


def extra_yaml(examples: Mapping[str, Sequence[str]]) -> str:
    """Rasa NLU YAML with one intent block per category (texts collapsed to one line)."""
    lines = ['version: "3.1"', "nlu:"]
    for intent in sorted(examples):
        texts = list(dict.fromkeys(t for t in (_clean(x) for x in examples[intent]) if t))
        if not texts:
            continue
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in texts]
    return "\n".join(lines) + "\n"


def candidate_name(examples: Mapping[str, Sequence[str]], data_dir: Path | None = None) -> str:
    """The candidate's name: a hash of the training inputs, the examples and the data dir."""
    sha = hashlib.sha256(manage.training_hash().encode())
    sha.update(extra_yaml(examples).encode())
    if data_dir is not None:
        for path in sorted(p for p in Path(data_dir).rglob("*") if p.is_file()):
            sha.update(path.name.encode() + b"\0" + path.read_bytes())
    return "cand-" + sha.hexdigest()[:16]


def train_candidate(examples: Mapping[str, Sequence[str]], data_dir: Path | None = None) -> Path:
    """Train (once) a model on `data_dir` (default nlu/data) plus `examples`; its path."""
    target = manage.cache_dir() / "models" / f"{candidate_name(examples, data_dir)}.tar.gz"
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory(prefix="nlu-candidate-") as work:
        inputs = Path(work)
        for name in ("config.yml", "domain.yml"):
            shutil.copy(manage.NLU_DIR / name, inputs / name)
        shutil.copytree(data_dir or manage.NLU_DIR / "data", inputs / "data")
        if any(examples.values()):
            (inputs / "data" / EXTRA_FILE).write_text(extra_yaml(examples), encoding="utf-8")
        return manage.train_into(target, inputs)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _model_loaded(url: str) -> bool:
    """Whether the server at `url` answers /status with a model loaded."""
    try:
        response = httpx.get(f"{url}/status", timeout=2.0)
        return response.status_code == 200 and bool(response.json().get("model_file"))
    except (httpx.HTTPError, ValueError):
        return False


@contextlib.contextmanager
def served(model: Path, timeout: float = START_TIMEOUT_S) -> Iterator[str]:
    """A Rasa server on a free loopback port serving `model`, stopped afterwards; its URL."""
    port = _free_port()
    command = manage.serve_command(port, model, host="127.0.0.1")
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, cwd=manage.NLU_DIR, env=manage.rasa_environ(), stdout=log, stderr=log
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while not _model_loaded(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    tail = log.read()[-3000:].decode(errors="replace")
                    raise manage.NluSetupError(f"Rasa did not start for {model.name}:\n{tail}")
                time.sleep(0.5)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def score(
    model: Path, files: Mapping[str, Path | Sequence[Path]], threshold: float | None = None
) -> dict[str, Report]:
    """Evaluate `model` on each named JSON Lines file (text, category), or on several files
    scored together under one name, in one server."""
    with served(model) as url:
        return {
            name: manage.evaluate(path, url, threshold=threshold) for name, path in files.items()
        }


def reload(urls: Sequence[str], model: Path, timeout: float = 120.0) -> dict[str, str]:
    """Ask each serving replica to load `model` (Rasa's PUT /model); what each answered.

    The path must be readable by the replica: on several machines, keep the model cache on a
    shared path or copy the file first (deploy/README.md).
    """
    answers = {}
    for url in urls:
        try:
            response = httpx.put(
                f"{url.rstrip('/')}/model", json={"model_file": str(model)}, timeout=timeout
            )
            answers[url] = "ok" if response.status_code < 300 else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            answers[url] = f"unreachable ({type(exc).__name__})"
    return answers


def digest_files(files: Mapping[str, Path]) -> str:
    """A short hash of the evaluation files, so figures are compared on the same texts."""
    sha = hashlib.sha256()
    for name in sorted(files):
        sha.update(name.encode() + b"\0" + Path(files[name]).read_bytes())
    return sha.hexdigest()[:12]


def report_figures(report: Report) -> dict:
    """The figures of a report kept in the model history (JSON)."""
    chosen = next((r for r in report.routing if r.threshold == report.threshold), None)
    return {
        "total": report.total,
        "accuracy": round(report.accuracy, 4),
        "macro_f1": round(report.macro_f1, 4),
        "per_class": {k: round(v.f1, 4) for k, v in report.per_class.items()},
        "routed": round(chosen.routed, 4) if chosen else None,
        "routed_precision": round(chosen.precision, 4) if chosen else None,
        # Of all messages: what the promotion gate compares (webapp/services/nlu_models).
        "wrongly_routed": round(chosen.routed * (1 - chosen.precision), 4) if chosen else None,
        "calibration_error": (
            round(report.calibration_error, 4) if report.calibration_error is not None else None
        ),
        "latency_p95_ms": (
            round(report.latency_p95_ms, 1) if report.latency_p95_ms is not None else None
        ),
    }
