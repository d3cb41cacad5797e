"""Finding 4: one client (an address or an identity) can no longer cost without limit."""

from __future__ import annotations

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Report
from webapp.ratelimit import TrustedProxies, limiter


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Report))


def _post(client, text: str, address: str = "198.51.100.7", **data):
    return client.post(
        "/api/v1/reports",
        json={"description": text, **data},
        environ_base={"REMOTE_ADDR": address},
    )


def test_one_address_cannot_file_a_hundred_reports(limits_on, client):
    first = _post(client, "Ổ gà đầu tiên trên đường Lê Duẩn")
    assert first.status_code == 201 and "Retry-After" not in first.headers
    assert first.headers["X-RateLimit-Remaining"] == str(
        int(first.headers["X-RateLimit-Limit"]) - 1
    )
    answers = [201] + [
        _post(client, f"Ổ gà số {i} trên đường Lê Duẩn").status_code for i in range(11)
    ]
    allowed = limits_on.config["RATELIMIT_INTAKE_ADDRESS"].split(" per ")[0]
    assert answers.count(201) == int(allowed)
    refused = _post(client, "Ổ gà thêm một lần nữa trên đường")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    body = refused.get_json()
    assert body["error"] == "rate_limited" and "1022" in body["message"]
    assert _count(limits_on) == int(allowed)
    # Another address is not affected.
    assert _post(client, "Đèn đường hỏng ở Hải Châu", "203.0.113.50").status_code == 201


def test_the_web_form_refusal_is_a_page_in_vietnamese(limits_on, client):
    limits_on.config["RATELIMIT_INTAKE_ADDRESS"] = "1 per minute"
    try:
        form = {"description": "Rác thải chất đống đầu kiệt", "lat": "", "lon": "", "consent": "1"}
        assert client.post("/phan-anh", data=form).status_code == 302
        page = client.post("/phan-anh", data=form)
    finally:
        limits_on.config["RATELIMIT_INTAKE_ADDRESS"] = "5 per minute;30 per hour;100 per day"
    assert page.status_code == 429 and "Retry-After" in page.headers
    assert "nhiều phản ánh" in page.get_data(as_text=True)


def test_one_phone_is_limited_whatever_address_it_comes_from(limits_on, client):
    codes = [
        _post(client, f"Cống nghẹt số {i} đường Hùng Vương", f"192.0.2.{i}", contact="0905 777 888")
        for i in range(5)
    ]
    assert [r.status_code for r in codes] == [201, 201, 201, 429, 429]
    assert "Retry-After" in codes[-1].headers


def test_one_email_is_limited_too(limits_on, client):
    codes = [
        _post(client, f"Cây đổ số {i} đường Trần Phú", f"192.0.2.{i}", contact="A@Example.vn")
        for i in range(4)
    ]
    assert [r.status_code for r in codes] == [201, 201, 201, 429]


def test_counting_codes_is_limited(limits_on, client):
    statuses = [client.get(f"/api/v1/reports/PA-2612-{n:06d}").status_code for n in range(1, 40)]
    assert statuses.count(404) == 30 and statuses[-1] == 429


def test_switching_limits_off(limits_on, client):
    limiter.enabled = False
    limits_on.config["RATELIMIT_ENABLED"] = False
    answers = {_post(client, f"Ổ gà số {i} đường Lê Duẩn", contact="0905777888").status_code
               for i in range(8)}  # fmt: skip
    assert answers == {201}


def test_forwarded_for_is_read_only_from_named_proxies():
    seen = []

    def inner(environ, start_response):
        seen.append(environ["REMOTE_ADDR"])
        return []

    wsgi = TrustedProxies(inner, ["10.0.0.0/8", "127.0.0.1"])
    for remote, forwarded in [
        ("10.0.0.1", "203.0.113.9, 10.0.0.2"),  # two trusted hops: the client before them
        ("127.0.0.1", "1.1.1.1, 203.0.113.9"),  # the left part is the client's own claim
        ("198.51.100.1", "203.0.113.9"),  # not a proxy of ours: the header is ignored
        ("10.0.0.1", "not-an-address"),
    ]:
        wsgi({"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_FOR": forwarded}, None)
    assert seen == ["203.0.113.9", "203.0.113.9", "198.51.100.1", "10.0.0.1"]


def test_limits_behind_a_proxy_count_each_client(limits_on, client):
    limits_on.wsgi_app = TrustedProxies(limits_on.wsgi_app, ["127.0.0.1"])
    try:
        for n in range(6):
            resp = client.post(
                "/api/v1/reports",
                json={"description": f"Ổ gà số {n} trên đường Lê Duẩn"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            )
            assert resp.status_code == 201
    finally:
        limits_on.wsgi_app = limits_on.wsgi_app.wsgi_app


def test_public_json_is_limited_and_refused_in_json(limits_on, client):
    limits_on.config["RATELIMIT_PUBLIC_JSON"] = "3 per minute"
    try:
        statuses = [client.get("/cong-khai/du-lieu.json").status_code for _ in range(4)]
        refused = client.get("/cong-khai/ban-do.json?zoom=12")
    finally:
        limits_on.config["RATELIMIT_PUBLIC_JSON"] = "60 per minute;1000 per hour"
    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429 and refused.get_json()["error"] == "rate_limited"
    assert "Vui lòng thử lại" in refused.get_json()["message"]
