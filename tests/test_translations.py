"""All UI text goes through the catalog, and a broken catalog stops `make translations`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.backoffice.conftest import login

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "webapp/translations/en/LC_MESSAGES/messages.po"


def _make_translations(po: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "-s", "translations"],
        cwd=ROOT,
        env={**os.environ, "TRANSLATIONS_PO": str(po)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_catalog_is_complete():
    done = _make_translations(PO)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("breakage", "said"),
    [
        (lambda t: t.replace('msgstr "Saved."', 'msgstr ""'), "not translated"),
        (lambda t: t.replace('msgid "Đã lưu."', '#, fuzzy\nmsgid "Đã lưu."'), "fuzzy"),
        (lambda t: t.replace('msgstr "Ended %(n)s session(s)."', 'msgstr "Ended %(m)s."'), "n"),
        (lambda t: t.replace('msgstr "Saved."', 'msgstr "Saved."\nnot po'), "cannot be read"),
        (lambda t: t + '\nmsgid "Đã lưu."\nmsgstr "Stored."\n', "twice"),
        (lambda t: t.replace('msgid "Đã lưu."', 'msgid "Đã lưu xong."'), "missing"),
        # The bot's texts are checked too: one catalog for every channel.
        (
            lambda t: t.replace('msgid "Đã bổ sung vào mô tả."', 'msgid "Đã thêm."'),
            "bot/dialog/vocabulary.py",
        ),
        (lambda t: t.replace('msgid "Mời bạn chọn:"', 'msgid "Chọn:"'), "channels/zalo.py"),
    ],
)
def test_make_translations_fails_on_a_broken_catalog(tmp_path, breakage, said):
    # Finding 7: `make translations` used to hide compile errors (2>/dev/null || true).
    broken = tmp_path / "messages.po"
    text = PO.read_text(encoding="utf-8")
    broken.write_text(breakage(text), encoding="utf-8")
    assert broken.read_text(encoding="utf-8") != text
    done = _make_translations(broken)
    assert done.returncode != 0
    assert said in done.stderr


def test_success_messages_and_the_login_prompt_are_translated(app):
    client = app.test_client()
    client.get("/?lang=en")
    resp = client.get("/bo/", follow_redirects=True)
    assert "Please sign in." in resp.get_data(as_text=True)
    login(client, "admin")
    with app.app_context():
        from tests.backoffice.conftest import agency

        target = agency("CHIEUSANG")
        form = {
            name: "" if getattr(target, name) is None else str(getattr(target, name))
            for name in ("code", "name", "name_en", "kind", "parent_id", "email", "phone")
        }
        form["active"] = "on"
        url = f"/bo/quan-tri/agencies/sua/{target.id}"
    page = client.post(url, data=form, follow_redirects=True).get_data(as_text=True)
    assert re.search(r'class="flash flash-ok"[^>]*>Saved\.<', page), re.findall(
        r'class="flash.*', page
    )
    assert shutil.which("make")


def test_a_report_keeps_the_language_it_was_filed_in(app):
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Report

    client = app.test_client()
    text = "Đèn đường hỏng cả tuần nay ở kiệt 45 Trần Phú, buổi tối rất tối."
    english = client.post("/api/v1/reports?lang=en", data={"description": text})
    vietnamese = app.test_client().post("/api/v1/reports", data={"description": text})
    assert english.status_code == vietnamese.status_code == 201, english.get_data(as_text=True)
    with app.app_context():
        languages = {
            code: db.session.scalar(select(Report.language).where(Report.code == code))
            for code in (english.json["code"], vietnamese.json["code"])
        }
    assert languages == {english.json["code"]: "en", vietnamese.json["code"]: "vi"}
