"""Open311 GeoReport v2, driven by an independent client from PyPI (`georeport`) where it has
the call, and by plain HTTP (requests, xmltodict: what such clients use) for discovery, POST
and the error answers, in JSON and XML."""

from __future__ import annotations

import re

import pytest
import requests
import xmltodict
from georeport import GeoReport
from sqlalchemy import select

from tests.factories import AssignedReportFactory, SubmittedReportFactory
from webapp.extensions import db
from webapp.models import AuditEntry, Partner, Report
from webapp.services.partners import keys

HAI_CHAU = ("16.0700", "108.2246")


@pytest.fixture
def base(live_server) -> str:
    return f"{live_server}/open311/v2"


@pytest.fixture
def key(app) -> str:
    """A partner's key with the scope `submit`, issued from the command line as in the README."""
    out = (
        app.test_cli_runner()
        .invoke(args=["partners", "add", "Sở Xây dựng", "--scope", "submit,read"])
        .output
    )
    return re.search(r"API key \(shown once\): (\S+)", out).group(1)


def _post(base: str, fmt: str, **form) -> requests.Response:
    return requests.post(f"{base}/requests.{fmt}", data=form, timeout=30)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_services_and_a_definition_with_attributes(base, fmt):
    client = GeoReport(base, output_format=fmt)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert "street_lighting" in codes and "trees" in codes and len(codes) == 16
    trees = next(s for s in services if s["service_code"] == "trees")
    assert trees["metadata"] in (True, "true")
    definition = client.get_service_definition("trees")
    attributes = definition["attributes"]
    attribute = attributes[0] if fmt == "json" else attributes["attribute"]
    assert attribute["code"] == "anyone_hurt" and attribute["required"] in (True, "true")
    values = attribute["values"] if fmt == "json" else attribute["values"]["value"]
    assert {v["key"] for v in values} == {"yes", "no"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_names_the_endpoint_and_the_spec(base, fmt):
    answer = requests.get(f"{base}/discovery.{fmt}", timeout=30)
    assert answer.status_code == 200
    if fmt == "json":
        endpoint = answer.json()["endpoints"][0]
    else:
        endpoint = xmltodict.parse(answer.content)["discovery"]["endpoints"]["endpoint"]
    assert endpoint["url"].endswith("/open311/v2") and "GeoReport_v2" in endpoint["specification"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_partner_posts_with_attributes_and_reads_it_back(app, base, key, fmt):
    answer = _post(
        base,
        fmt,
        api_key=key,
        service_code="trees",
        description="Cây phượng ngã đè lên lề đường Trần Phú, chắn lối đi",
        lat=HAI_CHAU[0],
        long=HAI_CHAU[1],
        first_name="Hoa",
        phone="0905 123 987",
        **{"attribute[anyone_hurt]": "no", "attribute[unknown]": "x"},
    )
    assert answer.status_code == 201, answer.text
    if fmt == "json":
        code = answer.json()[0]["service_request_id"]
    else:
        code = xmltodict.parse(answer.content)["service_requests"]["request"]["service_request_id"]
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.code == code))
        assert report.channel == "open311" and report.attributes == {"anyone_hurt": "no"}
        assert report.partner_id is not None and report.category_hint == "trees"
        partner = db.session.get(Partner, report.partner_id)
        assert partner.uses == 1 and partner.last_used_at is not None

    client = GeoReport(base, output_format=fmt)
    one = client.get_service_request(code)
    assert one["service_request_id"] == code and one["status"] == "open"
    assert "0905" not in str(one)  # never the resident's contact
    listed = client.get_service_requests(service_request_id=code)
    listed = listed if isinstance(listed, list) else [listed]
    assert [r["service_request_id"] for r in listed] == [code]


def test_filters_by_service_status_and_dates(app, base):
    with app.app_context():
        lamp = AssignedReportFactory(agency="CHIEUSANG").code
        waste = SubmittedReportFactory(description="Rác thải ùn ứ đầu kiệt 12").code
    client = GeoReport(base)
    codes = {
        r["service_request_id"] for r in client.get_service_requests(service_code="street_lighting")
    }
    assert lamp in codes and waste not in codes
    assert lamp in {r["service_request_id"] for r in client.get_service_requests(status="open")}
    assert lamp not in {
        r["service_request_id"] for r in client.get_service_requests(status="closed")
    }
    old = client.get_service_requests(
        start_date="2020-01-01T00:00:00Z", end_date="2020-02-01T00:00:00Z"
    )
    assert old == []


def test_a_sensitive_report_is_read_with_the_public_view_rules(app, base):
    with app.app_context():
        report = SubmittedReportFactory(
            description="Nhóm thanh niên tụ tập gây rối, gọi 0905111999"
        )
        report.category_code = "public_security"
        db.session.commit()
        code = report.code
    [one] = requests.get(f"{base}/requests/{code}.json", timeout=30).json()
    assert one["description"] == "" and one["lat"] is None and one["media_url"] == ""


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_specs_errors_for_a_missing_key_an_unknown_service_and_a_bad_date(base, key, fmt):
    def error(response: requests.Response) -> tuple[int, str]:
        if fmt == "json":
            [item] = response.json()
        else:
            item = xmltodict.parse(response.content)["errors"]["error"]
        return int(item["code"]), item["description"]

    good = {"service_code": "waste", "description": "Rác thải ùn ứ đầu kiệt 12 Bạch Đằng"}
    missing = _post(base, fmt, **good)
    assert missing.status_code == 403 and error(missing)[0] == 403
    wrong = _post(base, fmt, api_key="pa_not-a-key", **good)
    assert wrong.status_code == 403
    unknown = _post(
        base, fmt, api_key=key, service_code="unicorns", description=good["description"]
    )
    assert unknown.status_code == 400 and "unicorns" in error(unknown)[1]
    required = _post(base, fmt, api_key=key, service_code="trees", description=good["description"])
    assert required.status_code == 400 and "bị thương" in error(required)[1]
    bad_date = requests.get(f"{base}/requests.{fmt}", params={"start_date": "hôm qua"}, timeout=30)
    assert bad_date.status_code == 400 and error(bad_date)[0] == 400
    too_long = requests.get(
        f"{base}/requests.{fmt}",
        params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-12-01T00:00:00Z"},
        timeout=30,
    )
    assert too_long.status_code == 400
    assert requests.get(f"{base}/services/unicorns.{fmt}", timeout=30).status_code == 404
    assert requests.get(f"{base}/requests/PA-0000-000000.{fmt}", timeout=30).status_code == 404


def test_a_read_key_cannot_post_and_a_revoked_key_stops_at_once(app, base):
    with app.app_context():
        reader, reader_key = keys.issue("Cổng dữ liệu tỉnh", ["read"])
        db.session.commit()
        reader_id = reader.id
    form = {"service_code": "waste", "description": "Rác thải ùn ứ đầu kiệt 12 Bạch Đằng"}
    assert _post(base, "json", api_key=reader_key, **form).status_code == 403
    assert requests.get(f"{base}/requests.json", params={"api_key": reader_key}, timeout=30).ok
    out = app.test_cli_runner().invoke(args=["partners", "revoke", str(reader_id)]).output
    assert "revoked" in out
    answer = requests.get(f"{base}/requests.json", params={"api_key": reader_key}, timeout=30)
    assert answer.status_code == 403
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.entity == "partners", AuditEntry.entity_id == str(reader_id)
            )
        ).all()
        assert set(actions) == {"create", "revoke"}
        stored = db.session.get(Partner, reader_id)
        assert stored.key_hash != reader_key and reader_key not in stored.key_hash


def test_an_agency_key_reads_its_own_reports_private_fields_only(app, base):
    with app.app_context():
        mine = AssignedReportFactory(agency="CHIEUSANG", description="Đèn hỏng, gọi tôi 0905444555")
        other = AssignedReportFactory(agency="MTDT", description="Rác ùn, gọi tôi 0905444666")
        _partner, key = keys.issue("Hệ thống Chiếu sáng", [f"agency:{mine.agency_id}", "read"])
        db.session.commit()
        mine_code, other_code = mine.code, other.code
    got = {
        r["service_request_id"]: r
        for r in requests.get(
            f"{base}/requests.json",
            params={"api_key": key, "service_request_id": f"{mine_code},{other_code}"},
            timeout=30,
        ).json()
    }
    assert "0905444555" in got[mine_code]["description"]
    assert "0905444666" not in got[other_code]["description"]


def test_the_agency_sees_the_answers_and_the_partner_on_the_report_page(app, base, key):
    from tests.backoffice.conftest import login

    answer = _post(
        base,
        "json",
        api_key=key,
        service_code="street_lighting",
        description="Đèn đường tắt cả tuần trước số 25 Bạch Đằng",
        lat=HAI_CHAU[0],
        long=HAI_CHAU[1],
        **{"attribute[pole_number]": "BĐ-0425"},
    )
    code = answer.json()[0]["service_request_id"]
    page = login(app.test_client(), "operator").get(f"/bo/r/{code}").get_data(as_text=True)
    assert "Số hiệu cột đèn" in page and "BĐ-0425" in page and "Sở Xây dựng" in page
