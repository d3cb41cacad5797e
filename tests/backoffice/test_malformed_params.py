"""Malformed parameters of the back office and the IOC pages: a 4xx, or the bad filter ignored,
never a 500 (security finding 5). What each parameter gives is documented in
webapp/blueprints/params.py.

Requests are made outside any app context of the test (Flask-Login keeps the user in `g`), so
the data is made and checked in app contexts of their own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from tests.backoffice.conftest import USERS, login, user
from tests.factories import AssignedReportFactory
from tests.fixtures.images import make_jpeg
from webapp.blueprints import params
from webapp.errors import ValidationError
from webapp.extensions import db
from webapp.models import AuditEntry, Category, ExportJob, Report, RoutingRule, User
from webapp.services.casework import handling
from webapp.services.ioc import stats
from webapp.services.ioc.queries import ReportFilter

GARBAGE_PATH = ("abc", "²", "1e23", "-1", "99999999999999999999", "%00")
GARBAGE_VALUES = (
    "abc", "²", "1e23", "-1", "0", "99999999999999999999", "\x00", "a\x00b", "a\x07b", " 1",
    "9999-12-31", "0001-01-01", "9999-12", "nan,nan,nan,nan", "x" * 3000,
)  # fmt: skip
# Every query parameter the back-office and IOC handlers read (and a few they do not).
PARAM_NAMES = (
    "status", "category", "unit", "agency", "due", "from", "to", "q", "sort", "outcome", "cell",
    "page", "zoom", "bbox", "by", "fmt", "week", "json", "next", "lang", "thang",
)  # fmt: skip


@pytest.fixture()
def world(app) -> dict:
    """Two reports of CHIEUSANG (one with a resolution photo) and an export job: their keys."""
    with app.app_context():
        own = AssignedReportFactory(agency="CHIEUSANG")
        pictured = AssignedReportFactory(
            agency="CHIEUSANG", description="Cây đổ chắn ngang đường Lê Duẩn"
        )
        handling.resolve(user(USERS["staff"]), pictured, "Đã dọn xong.", make_jpeg())
        job = ExportJob(user_id=user(USERS["operator"]).id, kind="reports", fmt="csv")
        db.session.add(job)
        db.session.commit()
        keys = {
            "own": own.code,
            "pictured": pictured.code,
            "photo_id": pictured.photos[0].id,
            "photo_key": pictured.photos[0].key,
            "job_id": job.id,
            "agency_id": own.agency_id,
            "user_id": user(USERS["staff"]).id,
        }
        db.session.remove()
    return keys


def state(app, code: str) -> tuple:
    """What an action could change on a report."""
    with app.app_context():
        r = db.session.scalar(select(Report).where(Report.code == code))
        snapshot = (
            r.status, len(r.events), r.description, r.agency_id, r.assignee_id, r.urgency,
            r.due_at, r.extension_status, r.category_code,
            tuple((p.id, p.blurred, p.hidden) for p in r.photos),
        )  # fmt: skip
        db.session.remove()
    return snapshot


def page_text(resp) -> str:
    return resp.get_data(as_text=True)


# --------------------------------------------------------------------------- types


@pytest.mark.parametrize("value", ["²", "1e3", " 1", "-1", "0", "2147483648", "١", "1.0", ""])
def test_positive_id_takes_ascii_digits_only(value):
    with pytest.raises(ValidationError) as caught:
        params.parse(params.AssignForm, {"assignee": value})
    assert caught.value.field == "assignee" and caught.value.status_code == 422
    assert caught.value.message_vi.startswith("Trường “cán bộ được giao”")


@pytest.mark.parametrize(("value", "parsed"), [("1", 1), ("007", 7), ("2147483647", 2**31 - 1)])
def test_positive_id_accepts_honest_ids(value, parsed):
    assert params.parse(params.AssignForm, {"assignee": value}).assignee == parsed


@pytest.mark.parametrize(
    ("value", "page"),
    [("2", 2), ("abc", 1), ("1e23", 1), ("-1", 1), ("0", 1), ("99999999999999999999", 10_000)],
)
def test_page_is_clamped(value, page):
    assert params.parse(params.QueueArgs, {"page": value}, ignore_invalid=True).page == page


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01",
                                   "20260301", "2026-02-30", "1697500800", "²"])  # fmt: skip
def test_iso_date_stays_within_2000_to_2100(value):
    with pytest.raises(ValidationError):
        params.parse(params.PeriodArgs, {"from": value})
    assert params.parse(params.PeriodArgs, {"from": value}, ignore_invalid=True).date_from is None


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "esc\x1b[0m", "del\x7f"])
def test_text_refuses_control_characters(text):
    with pytest.raises(ValidationError) as caught:
        params.parse(params.TextForm, {"text": text})
    assert "ký tự không hợp lệ" in caught.value.message_vi


def test_text_keeps_newlines_and_tabs():
    assert params.parse(params.TextForm, {"text": " a\r\n\tb "}).text == "a\r\n\tb"


def test_services_parse_safely_on_their_own():
    """ReportFilter.from_args (stored export jobs) and month_from_arg (transparency page)."""
    f = ReportFilter.from_args(
        {"agency": "²", "from": "9999-12-31", "to": "0001-01-01", "q": "a\x00", "status": "\x00"}
    )
    assert (f.agency_id, f.date_from, f.date_to, f.q, f.status) == (None, None, None, None, None)
    now = datetime(2026, 3, 15, 5, tzinfo=UTC)
    current = stats.Period(date(2026, 3, 1), date(2026, 3, 31))
    for month in ("9999-12", "0001-01", "2101-01", "1999-12", "²⁰²⁶-03", "2026-13", "2026-1-1"):
        assert stats.month_from_arg(month, now) == current
    assert stats.month_from_arg("2100-12", now).end == date(2100, 12, 31)
    assert stats.Period.from_args({"from": "9999-12-31"}, now).start == date(2026, 3, 1)


# --------------------------------------------------------------------------- the reported 500s


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("staff", "/bo/?agency=²"),
        ("staff", "/bo/?agency=99999999999999999999"),
        ("staff", "/bo/?page=1e23"),
        ("staff", "/bo/?page=99999999999999999999"),
        ("staff", "/bo/?from=9999-12-31"),
        ("staff", "/bo/?to=9999-12-31"),
        ("staff", "/bo/?from=0001-01-01"),
        ("staff", "/bo/?to=0001-01-01"),
        ("staff", "/bo/?q=a%07b"),
        ("staff", "/bo/?status=a%1Bb&category=%07&unit=%7F"),
        ("operator", "/ioc/ban-do?agency=²&to=9999-12-31"),
        ("operator", "/ioc/xuat?agency=²&from=0001-01-01"),
    ],
)
def test_garbage_filters_of_lists_are_ignored(app, world, who, url):
    """Each was a 500; now the list answers as if the bad filter were not there."""
    client = login(app.test_client(), who)
    resp = client.get(url)
    assert resp.status_code == 200
    if url.startswith("/bo/") and "page=9999" not in url:  # (a page after the last is empty)
        assert world["own"] in page_text(resp)


def test_garbage_heatmap_data_is_ignored(app, world):
    client = login(app.test_client(), "operator")
    for query in ("to=9999-12-31", "unit=%07", "agency=²", "zoom=%07&bbox=%07", "cell=%07"):
        resp = client.get(f"/ioc/ban-do/du-lieu?zoom=9&{query}")
        assert resp.status_code == 200, query
        assert (
            resp.get_json()["total"] == client.get("/ioc/ban-do/du-lieu?zoom=9").get_json()["total"]
        )


@pytest.mark.parametrize(
    "query", ["from=9999-12-31", "to=9999-12-31", "from=0001-01-01", "to=0001-01-01"]
)
def test_kpi_period_out_of_range_gives_the_default_period(app, world, query):
    client = login(app.test_client(), "operator")
    resp = client.get(f"/ioc/chi-so?{query}")
    assert resp.status_code == 200
    assert "9999-12-31" not in page_text(resp) and "0001-01-01" not in page_text(resp)
    assert client.get(f"/ioc/chi-so/xuat?fmt=csv&{query}").status_code == 200


@pytest.mark.parametrize("week", ["0001-01-01", "9999-12-31", "abc", "%07"])
def test_weekly_summary_of_a_week_out_of_range_is_last_weeks(app, world, week):
    client = login(app.test_client(), "operator")
    resp = client.get(f"/ioc/chi-so/tong-hop-tuan.xlsx?week={week}")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"


@pytest.mark.parametrize("query", ["by=abc", "by=%07", "fmt=pdf", "fmt=%1B", "by=week&fmt=²"])
def test_kpi_export_of_an_unknown_table_or_format_is_422(app, query):
    client = login(app.test_client(), "operator")
    assert client.get(f"/ioc/chi-so/xuat?{query}").status_code == 422


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("operator", "/ioc/xuat/99999999999999999999"),
        ("operator", "/ioc/xuat/99999999999999999999/tai-ve"),
        ("admin", "/bo/quan-tri/agencies/sua/abc"),
        ("admin", "/bo/quan-tri/agencies/sua/%C2%B2"),
        ("admin", "/bo/quan-tri/users/sua/99999999999999999999"),
        ("admin", "/bo/quan-tri/categories/sua/%07"),
        ("staff", "/bo/r/%07"),
        ("staff", "/bo/r/PA-%1B"),
    ],
)
def test_garbage_in_the_path_is_404(app, world, who, url):
    assert login(app.test_client(), who).get(url).status_code == 404


def test_garbage_photo_key_is_404(app, world):
    client = login(app.test_client(), "operator")
    base = f"/bo/r/{world['pictured']}/anh/"
    assert client.get(base + world["photo_key"]).status_code == 200
    for key in ("%07", "abc", world["photo_key"].upper(), "x" * 64):
        assert client.get(base + key).status_code == 404, key


# --------------------------------------------------------------------------- form posts


BAD_ACTIONS = [
    ("staff", "own", "extension", {"days": "abc", "reason": "cần thêm vật tư"}, "số ngày gia hạn"),
    ("staff", "own", "extension", {"days": "²", "reason": "cần thêm vật tư"}, "số ngày gia hạn"),
    ("staff", "own", "extension", {"days": "1e3", "reason": "cần thêm vật tư"}, "số ngày gia hạn"),
    ("staff", "own", "extension", {"days": "45", "reason": "cần thêm vật tư"}, "số ngày gia hạn"),
    ("lead", "own", "assign_person", {"assignee": "abc"}, "cán bộ được giao"),
    ("lead", "own", "assign_person", {"assignee": "99999999999999999999"}, "cán bộ được giao"),
    ("operator", "pictured", "photo_blur", {"photo": "abc"}, "ảnh"),
    ("operator", "pictured", "photo_hide", {"photo": "-1"}, "ảnh"),
    ("operator", "pictured", "photo_hide", {"photo": "99999999999999999999"}, "ảnh"),
    ("staff", "own", "transfer", {"agency": "²", "reason": "Không thuộc thẩm quyền"}, "cơ quan"),
    ("staff", "own", "reply", {"text": "Đã xử lý\x07 xong"}, "nội dung"),
    ("staff", "own", "note", {"text": "ghi chú \x1b[31m"}, "nội dung"),
    ("staff", "own", "reject", {"reason": "abusive", "note": "spam\x0b"}, "ghi chú"),
    ("lead", "own", "urgency", {"urgency": "very", "reason": "nguy hiểm"}, "mức độ"),
    ("lead", "own", "urgency", {"urgency": "urgent", "reason": "nguy\x7f hiểm"}, "lý do"),
    ("operator", "own", "triage", {"category": "waste", "agency": "²"}, "cơ quan"),
    ("operator", "own", "triage", {"category": "waste\x07"}, "lĩnh vực"),
    ("operator", "own", "redact", {"text": "nội dung đã ẩn\x08"}, "nội dung"),
    ("operator", "own", "redact", {"text": "x" * 20_000}, "nội dung"),
]


@pytest.mark.parametrize(
    ("who", "which", "action", "form", "label"),
    BAD_ACTIONS,
    ids=[f"{a}-{'-'.join(f)}-{n}" for n, (_, _, a, f, _) in enumerate(BAD_ACTIONS)],
)
def test_malformed_action_field_is_422_and_changes_nothing(app, world, who, which, action, form,
                                                           label):  # fmt: skip
    code = world[which]
    before = state(app, code)
    resp = login(app.test_client(), who).post(f"/bo/r/{code}/{action}", data=form)
    assert resp.status_code == 422
    assert f"Trường “{label}”" in page_text(resp)  # flashed on the report page, re-rendered
    assert code in page_text(resp)
    assert state(app, code) == before


def test_honest_actions_still_work(app, world):
    """The typed forms take what the report page sends."""
    lead = login(app.test_client(), "lead")
    with app.app_context():
        staff_id = user(USERS["staff"]).id
    resp = lead.post(f"/bo/r/{world['own']}/assign_person", data={"assignee": str(staff_id)})
    assert resp.status_code == 302
    resp = lead.post(f"/bo/r/{world['own']}/extension", data={"days": "3", "reason": "vật tư"})
    assert resp.status_code == 302
    operator = login(app.test_client(), "operator")
    resp = operator.post(
        f"/bo/r/{world['pictured']}/photo_hide", data={"photo": str(world["photo_id"])}
    )
    assert resp.status_code == 302
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.code == world["own"]))
        assert (report.assignee_id, report.extension_status) == (staff_id, "requested")
        pictured = db.session.scalar(select(Report).where(Report.code == world["pictured"]))
        assert pictured.photos[0].hidden
        db.session.remove()


@pytest.mark.parametrize("assignee", ["abc", "²", "99999999999999999999", ""])
def test_bulk_assign_with_a_malformed_assignee_is_422(app, world, assignee):
    before = state(app, world["own"])
    resp = login(app.test_client(), "lead").post(
        "/bo/bulk-assign", data={"assignee": assignee, "codes": [world["own"]]}
    )
    assert resp.status_code == 422
    assert state(app, world["own"]) == before


@pytest.mark.parametrize(("code", "status"), [("PA\x07", 422), ("x" * 41, 422), ("PA-0-0", 404)])
def test_bulk_assign_with_a_bad_code_assigns_nothing(app, world, code, status):
    with app.app_context():
        staff_id = user(USERS["staff"]).id
    before = state(app, world["own"])
    resp = login(app.test_client(), "lead").post(
        "/bo/bulk-assign", data={"assignee": str(staff_id), "codes": [world["own"], code]}
    )
    assert resp.status_code == status
    assert state(app, world["own"]) == before


@pytest.mark.parametrize(
    "form",
    [
        {"fmt": "csv", "agency": "²"},
        {"fmt": "csv", "to": "9999-12-31"},
        {"fmt": "pdf"},
        {"fmt": "csv", "q": "a\x07"},
    ],
)
def test_list_export_post_with_a_malformed_filter_is_422(app, world, form):
    resp = login(app.test_client(), "operator").post("/ioc/xuat", data=form)
    assert resp.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ExportJob)) == 1
        db.session.remove()


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        counts = tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (User, RoutingRule, AuditEntry)
        )
        db.session.remove()
    return counts


ADMIN_POSTS = [
    ("categories/sua/noise", {"code": "noise", "name_vi": "Ồn", "name_en": "Noise",
                              "sla_normal_days": "²"}, "phải là số"),
    ("categories/sua/noise", {"code": "noise", "name_vi": "Ồn", "name_en": "Noise",
                              "sla_normal_days": "99999999999999"}, "phải là số"),
    ("categories/sua/noise", {"code": "noise", "name_vi": "Ồn", "name_en": "Noise",
                              "sla_normal_days": "100000"}, "tối đa"),
    ("categories/sua/noise", {"code": "noise", "name_vi": "Ồn\x1b", "name_en": "Noise"},
     "ký tự không hợp lệ"),
    ("categories/sua/noise", {"code": "noise", "name_vi": "x" * 500, "name_en": "Noise"},
     "quá dài"),
    ("rules/sua", {"agency_id": "999999", "priority": "1"}, "không tồn tại"),
    ("rules/sua", {"agency_id": "²"}, "phải là số"),
    ("users/sua", {"email": USERS["admin"], "name": "Trùng", "role": "admin",
                   "password": "mat-khau-dai-2026"}, "đã được dùng"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "form", "message"), ADMIN_POSTS)
def test_admin_form_with_a_malformed_field_shows_the_form_again(app, path, form, message):
    with app.app_context():
        sla = db.session.get(Category, "noise").sla_normal_days
        db.session.remove()
    before = _counts(app)
    resp = login(app.test_client(), "admin").post(f"/bo/quan-tri/{path}", data=form)
    assert resp.status_code == 200 and message in page_text(resp)
    assert _counts(app) == before
    with app.app_context():
        assert db.session.get(Category, "noise").sla_normal_days == sla
        db.session.remove()


@pytest.mark.parametrize(
    "form",
    [
        {"email": "admin@demo.vn\x07", "password": "x"},
        {"email": "admin@demo.vn", "password": "p" * 1000},
        {"email": "admin@demo.vn", "password": "x", "totp": "\x07"},
    ],
)
def test_login_with_a_malformed_field_is_422(app, form):
    client = app.test_client()
    resp = client.post("/bo/login", data=form)
    assert resp.status_code == 422 and "Trường" in page_text(resp)
    assert client.get("/bo/").status_code == 302  # still signed out


def test_login_next_goes_to_the_back_office_only(app):
    from webapp.services.administration.seed import DEMO_PASSWORD

    for target, expected in (
        ("/bo/ioc/dieu-phoi", "/bo/ioc/dieu-phoi"),
        ("/bo\x07", "/bo/"),
        ("https://example.com/bo/", "/bo/"),
        ("/bogus", "/bo/"),
    ):
        resp = app.test_client().post(
            "/bo/login", query_string={"next": target},
            data={"email": USERS["operator"], "password": DEMO_PASSWORD},
        )  # fmt: skip
        assert resp.status_code == 302 and resp.location == expected, target


# --------------------------------------------------------------------------- NUL bytes


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("staff", "/bo/?q=a%00b"),
        ("staff", "/bo/?status=%00&category=%00&unit=%00"),
        ("staff", "/bo/r/%00"),
        ("operator", "/ioc/ban-do/du-lieu?unit=%00&cell=%00"),
        ("operator", "/ioc/chi-so/tong-hop-tuan.xlsx?week=%00"),
        ("admin", "/bo/quan-tri/categories/sua/%00"),
    ],
)
def test_nul_bytes_in_a_get_are_never_a_500(app, world, who, url):
    """Refused before the handler (4xx) or, in a filter, ignored (200); they were 500s."""
    assert login(app.test_client(), who).get(url).status_code < 500


@pytest.mark.parametrize(
    ("who", "action", "form"),
    [
        ("staff", "reply", {"text": "Đã xử lý\x00 xong"}),
        ("staff", "note", {"text": "ghi chú \x00"}),
        ("staff", "reject", {"reason": "abusive", "note": "spam\x00"}),
        ("operator", "redact", {"text": "nội dung đã ẩn\x00"}),
        ("operator", "triage", {"category": "waste\x00"}),
    ],
)
def test_nul_bytes_in_an_action_are_4xx_and_change_nothing(app, world, who, action, form):
    before = state(app, world["own"])
    resp = login(app.test_client(), who).post(f"/bo/r/{world['own']}/{action}", data=form)
    assert 400 <= resp.status_code < 500
    assert state(app, world["own"]) == before


def test_nul_bytes_in_login_and_admin_forms_are_4xx(app):
    before = _counts(app)
    assert 400 <= app.test_client().post(
        "/bo/login", data={"email": "admin@demo.vn\x00", "password": "x"}
    ).status_code < 500  # fmt: skip
    resp = login(app.test_client(), "admin").post(
        "/bo/quan-tri/users/sua",
        data={"email": "moi@demo.vn", "name": "A\x00", "role": "admin", "password": "x" * 12},
    )
    assert resp.status_code < 500 and _counts(app) == before


# --------------------------------------------------------------------------- the sweep


def _get_rules(app) -> list:
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith(("/bo", "/ioc")) and "GET" in rule.methods
        ),
        key=lambda rule: rule.rule,
    )


def _path_values(rule, world: dict) -> dict[str, str]:
    """An existing value for each path variable of a rule."""
    values = {"code": world["own"], "job_id": str(world["job_id"]), "key": "agencies",
              "obj_id": str(world["agency_id"]), "user_id": str(world["user_id"])}  # fmt: skip
    if rule.endpoint == "bo.photo":
        values.update(code=world["pictured"], key=world["photo_key"])
    return {name: values[name] for name in rule.arguments}


def _url(rule, values: dict[str, str]) -> str:
    url = rule.rule
    for name, value in values.items():
        url = url.replace(f"<{name}>", value).replace(f"<int:{name}>", value)
    return url


@pytest.mark.parametrize("who", ["operator", "admin", "staff"])
def test_no_get_route_answers_500_to_garbage(app, world, who):
    """Every GET route of /bo and /ioc, with garbage in each path variable and in every query
    parameter the handlers read, for an IOC operator, an administrator and agency staff."""
    client = login(app.test_client(), who)
    rules = _get_rules(app)
    assert len(rules) >= 15
    failures = []
    for rule in rules:
        good = _path_values(rule, world)
        urls = [_url(rule, good)]
        for name in good:
            urls += [_url(rule, {**good, name: quote(g, safe="%")}) for g in GARBAGE_PATH]
        for url in urls:
            status = client.get(url).status_code
            if status >= 500:
                failures.append((url, status))
        for value in GARBAGE_VALUES:
            query = dict.fromkeys(PARAM_NAMES, value)
            status = client.get(urls[0], query_string=query).status_code
            if status >= 500:
                failures.append((urls[0], value[:20], status))
        for n, name in enumerate(PARAM_NAMES):  # each parameter alone, with other garbage
            value = GARBAGE_VALUES[n % len(GARBAGE_VALUES)]
            status = client.get(urls[0], query_string={name: value}).status_code
            if status >= 500:
                failures.append((urls[0], name, value[:20], status))
    assert failures == []
