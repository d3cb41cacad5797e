"""The OpenAPI 3.1 document, its docs page, and schemathesis against the live app."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import httpx
import pytest

from tests.support.processes import ROOT, wait_until, worker_env
from tests.support.smtp import free_port

API_ROUTE = re.compile(r"^/api/v1(/.*)$")
# Checks that hold for any input: no 500, and every answer as the document says.
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    ]
)


def test_the_document_is_openapi_3_1_and_lists_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    routes = set()
    for rule in app.url_map.iter_rules():
        match = API_ROUTE.match(rule.rule)
        if match and rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi_document":
            routes.add(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", match.group(1)))
    assert routes == set(doc["paths"])
    for path, operations in doc["paths"].items():
        for operation in operations.values():
            assert "429" in operation["responses"], path
            assert all(int(code) < 500 or code == "503" for code in operation["responses"])


def test_the_docs_page_is_served_locally(client):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "openapi.json" in html
    assert not re.search(r"""(src|href)=["']https?://""", html), "no CDN"
    script = re.search(r"""src=["']([^"']*swagger-ui-bundle\.js)["']""", html).group(1)
    assert client.get(script).status_code == 200


@pytest.fixture()
def live_server(app, app_config, tmp_path):
    """The app served by waitress on the session's PostgreSQL database."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = worker_env(
        app_config,
        PUBLIC_BASE_URL=base,
        RATELIMIT_ENABLED="false",
        HEATMAP_CACHE_SECONDS="0",
        INSTANCE_PATH=str(tmp_path),
    )
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "waitress", "--host", "127.0.0.1", f"--port={port}",
            "--threads", "4", "--call", "webapp:create_app",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip

    def up() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        assert wait_until(up, 60), (tmp_path / "server.log").read_text()
        yield base
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


@pytest.mark.integration
def test_schemathesis_finds_no_server_error_and_no_answer_off_the_schema(live_server, tmp_path):
    report = tmp_path / "schemathesis.txt"
    env = dict(os.environ, SCHEMATHESIS_HOOKS="")
    # One worker: CPython 3.11.7's ast.parse is not thread-safe (gh-106905), and hypothesis
    # parses lambdas while describing strategies.
    result = subprocess.run(
        [
            str(ROOT / ".venv/bin/schemathesis"), "run", f"{live_server}/api/v1/openapi.json",
            "--checks", CHECKS, "--max-examples", os.environ.get("SCHEMATHESIS_EXAMPLES", "40"),
            "--workers", "1", "--seed", "20261202", "--no-color",
            "--phases", "examples,coverage,fuzzing",
        ],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    report.write_text(result.stdout + result.stderr)
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    assert re.search(r"\b5 operations?\b|5/5", result.stdout), result.stdout[-3000:]
