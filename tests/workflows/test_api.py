"""The REST API: the same lifecycle and the same rules as the pages, over HTTP."""

import json
import threading
import urllib.error
import urllib.request
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from assignments.models import Assignment, Measure, State
from workflows import actions, rounds
from workflows.models import Event

from .conftest import fresh, indicators, snapshot


def token_for(user):
    out = StringIO()
    call_command("issue_token", user.username, stdout=out)
    return out.getvalue().split()[-1]


@pytest.fixture
def api():
    def client_for(user=None):
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
        return client

    return client_for


def action(client, a, name, **body):
    return client.post(f"/api/v1/assignments/{a.pk}/actions/{name}/", body, format="json")


def test_issue_token_prints_the_token_last_and_reuses_it(county_clerk):
    first = token_for(county_clerk)
    assert first == Token.objects.get(user=county_clerk).key
    assert token_for(county_clerk) == first


def test_a_county_runs_its_year_through_the_api_with_every_refusal_on_the_way(
    api, assignment, county_clerk, section_chief, other_county_clerk, co_section_staff, auditor, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    clerk, chief = api(county_clerk), api(section_chief)
    a = assignment

    row = clerk.get(f"/api/v1/assignments/{a.pk}/").json()
    assert (row["state"], row["version"], row["actions"]) == ("assigned", 1, ["start"])

    assert action(clerk, a, "start", version=1).json()["state"] == "in_progress"
    upload = clerk.post(f"/api/v1/assignments/{a.pk}/attachments/", {"file": _pdf()}, format="multipart")
    assert upload.status_code == 201 and upload.json()["submission"] is None
    response = action(clerk, a, "submit", version=2, narrative="完成", indicators=indicators(a, "35"))
    assert response.status_code == 200 and response.json()["version"] == 3
    assert response.json()["submissions"][0]["attachments"][0]["name"] == "汇报.pdf"

    # refusals along the way, each changing nothing
    before = snapshot(a)
    assert action(api(auditor), a, "begin_review", version=3).status_code == 403
    assert action(api(co_section_staff), a, "begin_review", version=3).status_code == 403
    assert action(clerk, a, "begin_review", version=3).status_code == 403
    assert action(api(other_county_clerk), a, "recall", version=3).status_code == 404
    assert action(chief, a, "begin_review", version=2).status_code == 409
    assert action(chief, a, "accept", version=3).status_code == 409
    assert action(chief, a, "fly", version=3).status_code == 400
    assert snapshot(a) == before

    assert action(chief, a, "begin_review", version=3).status_code == 200
    missing = action(chief, a, "return", version=4)
    assert missing.status_code == 400 and missing.json()["code"] == "invalid"
    assert action(chief, a, "return", version=4, reason="覆盖率偏低").json()["state"] == "returned"
    bad = action(clerk, a, "submit", version=5, narrative="补充", indicators={"999999": "1"})
    assert bad.status_code == 400 and "999999" in bad.json()["detail"]
    assert action(clerk, a, "submit", version=5, narrative="补充", indicators=indicators(a, "45")).status_code == 200
    assert action(chief, a, "begin_review", version=6).status_code == 200
    accepted = action(chief, a, "accept", version=7, comment="同意")
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"

    events = clerk.get(f"/api/v1/assignments/{a.pk}/events/").json()
    assert [e["action"] for e in events["results"]] == [
        "issue", "start", "submit", "begin_review", "return", "submit", "begin_review", "accept",
    ]  # fmt: skip
    assert events["results"][4]["comment"] == "覆盖率偏低"
    assert events["results"][1]["prev_hash"] == events["results"][0]["hash"]
    assert api(auditor).get(f"/api/v1/assignments/{a.pk}/events/").status_code == 200
    assert api(other_county_clerk).get(f"/api/v1/assignments/{a.pk}/events/").status_code == 404


def _pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("汇报.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")


@pytest.mark.parametrize(
    "body, code",
    [
        ({}, "invalid"),
        ({"version": "one"}, "invalid"),
        ({"version": 1, "narrative": "x", "indicators": ["1"]}, "invalid"),
    ],
)
def test_bad_bodies_are_400_in_one_shape(api, assignment, walk, county_clerk, body, code):
    a = walk.to(assignment, "in_progress")
    before = snapshot(a)
    response = api(county_clerk).post(f"/api/v1/assignments/{a.pk}/actions/submit/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code and response.json()["detail"]
    assert snapshot(a) == before


def test_malformed_json_is_400(api, assignment, county_clerk):
    response = api(county_clerk).post(
        f"/api/v1/assignments/{assignment.pk}/actions/start/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed"
    assert fresh(assignment).state == State.ASSIGNED


def test_a_conflict_tells_the_current_version_and_state(api, assignment, walk, section_chief):
    a = walk.to(assignment, "under_review")
    body = action(api(section_chief), a, "accept", version=1).json()
    assert body["code"] == "conflict" and body["version"] == a.version and body["state"] == "under_review"
    assert "请刷新" in body["detail"]


def test_anonymous_requests_get_401_in_json(api, assignment):
    for url in [
        "/api/v1/assignments/",
        f"/api/v1/assignments/{assignment.pk}/",
        "/api/v1/plan/",
        "/api/v1/rounds/",
    ]:
        response = api().get(url)
        assert response.status_code == 401, url
        assert response.json()["code"] == "not_authenticated"
    response = action(api(), assignment, "start", version=1)
    assert response.status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token nope")
    assert bad.get("/api/v1/assignments/").json()["code"] == "authentication_failed"


def test_a_revoked_token_no_longer_works(api, county_clerk, assignment):
    client = api(county_clerk)
    assert client.get("/api/v1/assignments/").status_code == 200
    Token.objects.filter(user=county_clerk).delete()
    assert client.get("/api/v1/assignments/").status_code == 401


def test_the_browser_session_works_and_needs_csrf_for_changes(assignment, county_clerk):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(county_clerk)
    assert client.get(f"/api/v1/assignments/{assignment.pk}/").status_code == 200
    forged = client.post(f"/api/v1/assignments/{assignment.pk}/actions/start/", {"version": 1}, format="json")
    assert forged.status_code == 403
    assert fresh(assignment).state == State.ASSIGNED


def test_the_list_rows_have_the_documented_fields(api, assignment, county_clerk):
    body = api(county_clerk).get("/api/v1/assignments/", {"round": 2024}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    row = body["results"][0]
    assert set(row) == {
        "id", "round", "measure", "item", "county", "lead_section", "state", "state_label", "version", "due", "updated",
    }  # fmt: skip
    assert row["round"] == 2024 and row["county"] == "离石区" and row["state_label"] == "已下达"
    assert set(row["measure"]) == {"number", "title"} and set(row["item"]) == {"code", "text"}


def test_the_list_filters(api, plan, county_clerk, section_chief):
    rounds.open_round(2024)
    chief = api(section_chief)
    assert chief.get("/api/v1/assignments/", {"measure": 3}).json()["count"] == 2 * 13
    assert chief.get("/api/v1/assignments/", {"section": "社管科"}).json()["count"] == 3 * 13  # 3a, 3b, 18b
    assert chief.get("/api/v1/assignments/", {"county": "兴县", "measure": 7}).json()["count"] == 2
    assert chief.get("/api/v1/assignments/", {"state": "accepted"}).json()["count"] == 0
    assert chief.get("/api/v1/assignments/", {"state": "done"}).status_code == 400
    assert chief.get("/api/v1/assignments/", {"round": "next"}).status_code == 400
    # a clerk asking for another county gets nothing, not an error that tells anything
    assert api(county_clerk).get("/api/v1/assignments/", {"county": "兴县"}).json()["count"] == 0


def test_no_page_of_a_clerks_list_shows_another_county(api, plan, county_clerk):
    rounds.open_round(2024)
    rounds.open_round(2023)
    client, url, seen = api(county_clerk), "/api/v1/assignments/?page_size=20", []
    while url:
        body = client.get(url).json()
        seen += body["results"]
        url = body["next"]
    assert len(seen) == Assignment.objects.filter(county__name="离石区").count() == body["count"]
    assert {row["county"] for row in seen} == {"离石区"}


def test_a_section_not_responsible_for_a_measure_gets_404(api, plan, co_section_staff):
    rounds.open_round(2024, measures=[Measure.objects.get(number=1)])
    a = Assignment.objects.first()
    assert api(co_section_staff).get(f"/api/v1/assignments/{a.pk}/").status_code == 404
    assert api(co_section_staff).get("/api/v1/assignments/99999/").status_code == 404


def test_plan_and_rounds_are_readable(api, assignment, county_clerk):
    client = api(county_clerk)
    plan = client.get("/api/v1/plan/").json()
    assert len(plan["measures"]) == 21 and [g["number"] for g in plan["groups"]] == ["一", "二", "三", "四", "五"]
    assert plan["measures"][6]["items"][0]["targets"][0]["subject"] == "乡镇(街道)未保站覆盖率"
    listed = client.get("/api/v1/rounds/").json()
    assert listed == [{"year": 2024, "opened_at": listed[0]["opened_at"], "opened_by": None, "assignments": 2}]


def test_an_attachment_downloads_under_the_same_visibility(
    api, assignment, walk, county_clerk, other_county_clerk, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    a = walk.start(assignment)
    created = (
        api(county_clerk).post(f"/api/v1/assignments/{a.pk}/attachments/", {"file": _pdf()}, format="multipart").json()
    )
    assert api(county_clerk).get(created["download"]).status_code == 200
    assert api(other_county_clerk).get(created["download"]).status_code == 404
    wrong = api(county_clerk).post(f"/api/v1/assignments/{a.pk}/attachments/", {"file": _exe()}, format="multipart")
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid"


def _exe():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("工具.exe", b"MZ\x90\x00")


def test_the_schema_validates_and_names_every_action(client):
    from drf_spectacular.validation import validate_schema

    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    validate_schema(schema)
    action_parameter = next(
        p
        for p in schema["paths"]["/api/v1/assignments/{id}/actions/{action}/"]["post"]["parameters"]
        if p["name"] == "action"
    )
    assert set(action_parameter["schema"]["enum"]) == {
        "start", "submit", "recall", "begin_review", "accept", "return", "countersign", "reassign", "cancel",
    }  # fmt: skip
    responses = schema["paths"]["/api/v1/assignments/{id}/actions/{action}/"]["post"]["responses"]
    assert set(responses) >= {"200", "400", "401", "403", "404", "409"}
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content and b"cdn" not in docs.content.lower()


@pytest.mark.parametrize("persona", ["county_clerk", "section_chief"])
def test_the_list_costs_the_same_queries_at_two_sizes(request, api, plan, persona):
    client = api(request.getfixturevalue(persona))
    rounds.open_round(2024, measures=[Measure.objects.get(number=7)])
    with CaptureQueriesContext(connection) as small:
        small_count = client.get("/api/v1/assignments/").json()["count"]
    rounds.open_round(2023, measures=[Measure.objects.get(number=7)])
    rounds.open_round(2022, measures=[Measure.objects.get(number=7)])
    with CaptureQueriesContext(connection) as large:
        large_count = client.get("/api/v1/assignments/").json()["count"]
    assert large_count == 3 * small_count
    assert len(large) == len(small)


def test_ten_accepts_racing_against_a_live_server_end_with_one_200(committed, live_server, plan, walk, section_chief):
    rounds.open_round(2024, measures=[Measure.objects.get(number=7)])
    a = walk.to(Assignment.objects.get(key="2024/7a/离石区"), "under_review")
    token = token_for(section_chief)
    url = f"{live_server.url}/api/v1/assignments/{a.pk}/actions/accept/"
    barrier, statuses, lock = threading.Barrier(10), [], threading.Lock()

    def racer():
        request = urllib.request.Request(
            url,
            data=json.dumps({"version": a.version}).encode(),
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            method="POST",
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=racer) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [200] + [409] * 9
    assert Event.objects.filter(assignment=a, action="accept").count() == 1
    assert Assignment.objects.get(pk=a.pk).state == State.ACCEPTED


def test_the_detail_and_the_events_cost_the_same_queries_however_long_the_history(
    api, assignment, walk, section_chief, county_clerk, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    client = api(section_chief)
    a = walk.to(assignment, "returned")

    def cost(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    detail, events = f"/api/v1/assignments/{a.pk}/", f"/api/v1/assignments/{a.pk}/events/"
    small = cost(detail), cost(events)
    from django.core.files.uploadedfile import SimpleUploadedFile

    for index in range(3):
        actions.attach(
            fresh(a), by=county_clerk, upload=SimpleUploadedFile(f"{index}.pdf", b"%PDF-1.4 " + bytes([48 + index]))
        )
        a = walk.return_(walk.begin_review(walk.submit(fresh(a))))
    assert len(client.get(detail).json()["submissions"]) == 4
    assert (cost(detail), cost(events)) == small


def test_an_unknown_api_path_is_a_json_404(api, county_clerk):
    for url in ["/api/v1/assignments/null/", "/api/v1/nothing/", "/api/v1/assignments/1/actions/"]:
        response = api(county_clerk).get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"


def test_an_auditor_verifies_the_history_through_the_api(api, assignment, walk, auditor, section_chief):
    walk.to(assignment, "accepted")
    body = api(auditor).get("/api/v1/history/verify/").json()
    assert body["intact"] is True and body["events"] == Event.objects.count() and body["problem"] == ""
    refused = api(section_chief).get("/api/v1/history/verify/")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


def test_a_resubmission_tells_the_reviewer_what_changed(api, assignment, walk, county_clerk, section_chief):
    a = walk.to(assignment, "returned")
    a = actions.submit(a, by=county_clerk, version=a.version, narrative="补充后", indicators=indicators(a, "80"))
    latest, first = api(section_chief).get(f"/api/v1/assignments/{a.pk}/").json()["submissions"]
    assert first["changes"] == []
    assert {"what": "工作情况", "before": "已按要求完成", "after": "补充后"} in latest["changes"]
    assert any(change["after"] == "80" for change in latest["changes"])
