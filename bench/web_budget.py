"""The web form's weight on a phone: bytes transferred by its first load (without map tiles),
by a second visit, and bytes sent for a typical five-photo report before and after the browser
downscales the photos.

Lighthouse-style budget numbers, measured in Debian's chromium (Playwright) against the app on
a throwaway PostgreSQL database served in this process:

    .venv/bin/python bench/web_budget.py            # prints the table, writes results/web.json

"Before" is what the form sent until the photos were prepared in the browser: the same
multipart form with the camera's files as they are (12 MP phone photos, bench/submissions.py);
"after" is the body the page really posts. Figures are compared with the budgets of issue 17:
the first load under 150 KB.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import harness
from harness import Col, log
from submissions import phone_photo

RESULTS = harness.RESULTS_DIR / "web.json"
FIRST_LOAD_BUDGET_KB = 150
CHROMIUM = "/usr/bin/chromium"
PHOTOS = 5


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=PHOTOS, help="photos in the report")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def _serve(app: Any) -> tuple[str, Any]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def _load(context: Any, url: str, origin: str) -> list[dict[str, Any]]:
    """Open the page; every response of this origin (the page's and its service worker's)
    with the bytes that crossed the network (headers and encoded body)."""
    seen: list[dict[str, Any]] = []

    def finished(request: Any) -> None:
        if not request.url.startswith(origin):
            return
        response = request.response()
        if response is None or response.from_service_worker:
            return  # answered from the worker's cache: nothing crossed the network
        sizes = request.sizes()
        seen.append(
            {
                "url": request.url,
                "kind": request.resource_type + (" (worker)" if request.service_worker else ""),
                "bytes": sizes["responseBodySize"] + sizes["responseHeadersSize"],
            }
        )

    context.on("requestfinished", finished)
    page = context.new_page()
    page.goto(url, wait_until="networkidle")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_timeout(1000)
    for item in seen:
        item["phase"] = "load"
    page.locator("#map").scroll_into_view_if_needed()  # the ward boundaries come in sight
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    page.close()
    context.remove_listener("requestfinished", finished)
    for item in seen:
        item.setdefault("phase", "map")
    return seen


def _recording(app: Any, sizes: list[int]) -> None:
    """Record the Content-Length of every report posted to the app (what crossed the network)."""
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") == "/phan-anh":
            sizes.append(int(environ.get("CONTENT_LENGTH") or 0))
        return inner(environ, start_response)

    app.wsgi_app = wsgi


def _report_bytes(context: Any, url: str, files: list[Path], sizes: list[int]) -> int:
    """The body the page posts for a report with these photos (recorded by the server)."""
    page = context.new_page()
    page.goto(url)
    page.fill("#description", "Ổ gà lớn trước số 12 Nguyễn Văn Linh, xe máy dễ té ngã")
    page.set_input_files("#photos", [str(f) for f in files])
    page.wait_for_selector(f"#photo-list li >> nth={len(files) - 1}", timeout=120_000)
    page.check("#consent")
    page.click("#submit")
    page.wait_for_url("**/t/**", timeout=120_000)
    page.close()
    return sizes[-1]


def _raw_body(url: str, files: list[Path]) -> int:
    """The same form sent with the camera's files as they are (what the form sent before)."""
    import requests

    fields = {
        "description": "Ổ gà lớn trước số 12 Nguyễn Văn Linh, xe máy dễ té ngã",
        "consent": "1",
        "csrf_token": "x" * 91,
        "client_key": "x" * 24,
    }
    photos = [("photos", (f.name, f.read_bytes(), "image/jpeg")) for f in files]
    body = requests.Request("POST", url, data=fields, files=photos).prepare().body
    return len(body or b"")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import logging

    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    with harness.throwaway_database() as database_url, tempfile.TemporaryDirectory() as tmp:
        app, _shapes, label = harness.build_app(database_url, tmp, harness.queue_name())
        app.config.update(WTF_CSRF_ENABLED=True, MAP_TILE_URL="", RATELIMIT_ENABLED=False)
        posted: list[int] = []
        _recording(app, posted)
        origin, server = _serve(app)
        log(f"serving on {origin} ({label})")
        rng = random.Random(17)
        files = []
        for n in range(args.photos):
            path = Path(tmp) / f"IMG_{n:04d}.jpg"
            path.write_bytes(phone_photo(rng))
            files.append(path)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
                context = browser.new_context(
                    viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
                )
                first = _load(context, f"{origin}/", origin)
                again = _load(context, f"{origin}/", origin)
                after = _report_bytes(context, f"{origin}/", files, posted)
                browser.close()
        finally:
            server.shutdown()
        before = _raw_body(f"{origin}/phan-anh", files)
        files_bytes = sum(f.stat().st_size for f in files)
    return {
        "run": harness.run_info(args),
        "first_load": sorted(first, key=lambda r: -r["bytes"]),
        "first_load_bytes": sum(r["bytes"] for r in first if r["phase"] == "load"),
        "with_map_bytes": sum(r["bytes"] for r in first),
        "second_visit_bytes": sum(r["bytes"] for r in again),
        "photos": args.photos,
        "photo_files_bytes": files_bytes,
        "report_before_bytes": before,
        "report_after_bytes": after,
    }


def report(results: dict[str, Any]) -> bool:
    kb = 1024
    print("\nFirst visit to the form (cold cache, no map tiles), bytes transferred:")
    harness.table(
        [
            Col("resource", 44, left=True),
            Col("type", 16, left=True),
            Col("when", 5, left=True),
            Col("KB", 8),
        ],
        [
            (
                r["url"].split("/", 3)[-1][:44] or "/",
                r["kind"],
                r["phase"],
                f"{r['bytes'] / kb:.1f}",
            )
            for r in results["first_load"]
        ],
    )
    first = results["first_load_bytes"] / kb
    with_map = results["with_map_bytes"] / kb
    ok = with_map < FIRST_LOAD_BUDGET_KB
    print(f"\nfirst load      {first:8.1f} KB")
    print(
        f"with the map    {with_map:8.1f} KB   budget {FIRST_LOAD_BUDGET_KB} KB   "
        f"{harness.met(ok)}   (ward boundaries once the map is half in sight)"
    )
    print(f"second visit    {results['second_visit_bytes'] / kb:8.1f} KB")
    before, after = results["report_before_bytes"], results["report_after_bytes"]
    print(
        f"\n{results['photos']}-photo report (12 MP phone photos, "
        f"{results['photo_files_bytes'] / kb / kb:.1f} MB of files):"
    )
    print(f"  before (files as they are)    {before / kb:9.0f} KB")
    print(f"  after (downscaled to 1600 px) {after / kb:9.0f} KB   {before / after:.1f}× less")
    return ok


main = harness.entry(parse_args, measure, report)

if __name__ == "__main__":
    sys.exit(main())
