"""Under /api/, the refusals Django makes itself answer in the API's JSON shape, in Chinese."""

import json

import pytest


def error_of(response):
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = json.loads(response.content)
    assert set(body) == {"code", "detail"}
    assert any("\u4e00" <= character <= "\u9fff" for character in body["detail"])  # Chinese
    return response.status_code, body["code"]


def test_a_bad_host_header_is_refused_in_json(client, db):
    response = client.get("/api/v1/plan/", HTTP_HOST="evil.example")
    assert error_of(response) == (400, "invalid")


def test_a_bad_host_header_outside_the_api_still_gets_djangos_page(client, db):
    response = client.get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("logged_in", [False, True])
def test_an_oversized_json_body_is_refused_in_json_before_anything_reads_it(client, county_clerk, settings, logged_in):
    if logged_in:
        client.force_login(county_clerk)
    body = json.dumps({"comment": "长" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 3 + 1), "version": 1})
    response = client.post("/api/v1/assignments/1/actions/start/", body, content_type="application/json")
    assert error_of(response) == (413, "too_large")


def test_too_many_fields_are_refused_in_json(client, county_clerk, settings):
    client.force_login(county_clerk)
    query = "&".join(f"f{number}=1" for number in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = client.get(f"/api/v1/assignments/?{query}")
    assert error_of(response) == (400, "malformed")


def test_an_unknown_path_under_api_outside_the_version_is_a_json_not_found(client, db):
    assert error_of(client.get("/api/v2/assignments/")) == (404, "not_found")


def test_an_unknown_page_outside_the_api_is_still_an_html_page(client, county_clerk):
    client.force_login(county_clerk)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
