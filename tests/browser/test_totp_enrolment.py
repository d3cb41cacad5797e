"""An IOC operator turns on two-step verification in chromium: reads the QR code, confirms
with a code, signs in with a code that is then refused a second time; a recovery code works
once."""

from __future__ import annotations

import io
import re
import time
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
import pytest
import zxingcpp
from PIL import Image

from tests.backoffice.conftest import USERS, user
from webapp.extensions import db
from webapp.models import RecoveryCode
from webapp.services.administration.seed import DEMO_PASSWORD

pytestmark = pytest.mark.browser
EMAIL = USERS["operator"]


@pytest.fixture()
def desk(browser, app):
    def off():
        with app.app_context():
            u = user(EMAIL)
            u.totp_secret = u.totp_enabled_at = u.totp_last_step = None
            db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == u.id))
            db.session.commit()

    off()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    yield context.new_page()
    context.close()
    off()


def _sign_in(page, base: str, code: str | None = None) -> None:
    page.goto(base + "/bo/login")
    page.fill("#email", EMAIL)
    page.fill("#password", DEMO_PASSWORD)
    if code is not None:
        page.fill("#totp", code)
    page.click("#login")


def _sign_out(page) -> None:
    page.click("form[action$='/bo/logout'] button")
    page.wait_for_url(re.compile(r"/bo/login"))


def _secret_from_qr(page) -> str:
    found = []
    for _ in range(10):  # the image may still be decoding when the page is shown
        image = Image.open(io.BytesIO(page.locator("#totp-qr").screenshot()))
        found = zxingcpp.read_barcodes(image)
        if found:
            break
        page.wait_for_timeout(200)
    assert len(found) == 1, "the QR code could not be read"
    uri = urlparse(found[0].text)
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert EMAIL in unquote(uri.path)
    return parse_qs(uri.query)["secret"][0]


def test_operator_enrols_then_codes_work_once(live_server, desk):
    page = desk
    _sign_in(page, live_server)
    page.wait_for_url(re.compile(r"/bo/$"))
    page.goto(live_server + "/bo/tai-khoan/")
    page.click("#enrol")
    secret = _secret_from_qr(page)
    assert page.locator("#totp-secret").inner_text() == secret  # the same key, as text
    totp = pyotp.TOTP(secret)
    page.fill("#code", totp.now())
    page.click("#confirm-totp")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.click("#done")
    assert "Đang bật" in page.locator("#second-factor-on").inner_text()
    _sign_out(page)

    _sign_in(page, live_server)  # the password alone is no longer enough
    assert page.locator("#login-error").is_visible()
    # The next step's code: the enrolment used this step's, and a code counts once.
    code = totp.at(time.time() + 30)
    _sign_in(page, live_server, code)
    page.wait_for_url(re.compile(r"/bo/$"))
    _sign_out(page)
    _sign_in(page, live_server, code)
    assert page.locator("#login-error").is_visible()
    assert "/bo/login" in page.url

    _sign_in(page, live_server, codes[3])
    page.wait_for_url(re.compile(r"/bo/$"))
    _sign_out(page)
    _sign_in(page, live_server, codes[3])
    assert page.locator("#login-error").is_visible()
