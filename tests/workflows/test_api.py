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
from workflows.registry import ACTIONS

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
        "id", "plan", "round", "measure", "item", "title", "unit", "county", "lead_section", "state", "state_label",
        "version", "due", "light", "light_label", "updated",
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
    assert len(seen) == Assignment.objects.filter(unit__name="离石区").count() == body["count"]
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
    station = plan["measures"][6]["items"][0]["indicators"][0]
    assert station["subject"] == "乡镇(街道)未保站覆盖率"
    assert [(target["year"], target["value"]) for target in station["targets"]] == [(2022, "40.00"), (2025, "100.00")]
    listed = client.get("/api/v1/rounds/").json()
    assert listed == [
        {"plan": plan["code"], "year": 2024, "opened_at": listed[0]["opened_at"], "opened_by": None, "assignments": 2}
    ]


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


def test_the_schema_validates_and_gives_each_action_its_own_route_and_body(client):
    from drf_spectacular.validation import validate_schema

    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    validate_schema(schema)
    routes = {path.split("/")[-2] for path in schema["paths"] if path.startswith("/api/v1/assignments/{id}/actions/")}
    assert routes == set(ACTIONS) == {
        "start", "submit", "recall", "begin_review", "accept", "return", "countersign", "reassign", "cancel", "extend",
        "urge", "acknowledge",
    }  # fmt: skip
    components = schema["components"]["schemas"]
    required = {}
    for name in ACTIONS:
        post = schema["paths"][f"/api/v1/assignments/{{id}}/actions/{name}/"]["post"]
        assert set(post["responses"]) >= {"200", "400", "401", "403", "404", "409"}
        body = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
        required[body.removesuffix("Request")] = set(components[body]["required"])
    assert required["SubmitBody"] == {"version", "narrative"}
    assert required["ReturnBody"] == required["CancelBody"] == {"version", "reason"}
    assert required["CountersignBody"] == {"version", "agree", "opinion"}
    assert required["ReassignBody"] == {"version", "to"}
    assert required["StartBody"] == required["AcceptBody"] == required["AcknowledgeBody"] == {"version"}
    assert required["UrgeBody"] == {"version", "message"}
    assert components["SubmitBodyRequest"]["properties"]["version"]["type"] == "integer"
    assert components["CountersignBodyRequest"]["properties"]["agree"]["type"] == "boolean"
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content and b"cdn" not in docs.content.lower()


def test_who_may_act_is_answered_before_what_they_sent(api, assignment, walk, leader, auditor, county_clerk):
    a = walk.to(assignment, "under_review")
    before = snapshot(a)
    for user in (leader, auditor, county_clerk):
        for name, body in [("accept", {"version": "x"}), ("return", {}), ("countersign", {"agree": "yes"})]:
            response = action(api(user), a, name, **body)
            assert response.status_code == 403, (user, name)
            assert response.json()["code"] == "forbidden" and "无权" in response.json()["detail"]
    assert snapshot(a) == before


@pytest.mark.parametrize(
    "state, name, body, message",
    [
        ("in_progress", "submit", {"version": "3", "narrative": "x"}, "版本号(version)应为整数"),
        ("in_progress", "submit", {"version": True, "narrative": "x"}, "版本号(version)应为整数"),
        ("in_progress", "submit", {"version": 2.0, "narrative": "x"}, "版本号(version)应为整数"),
        ("in_progress", "submit", {"version": None, "narrative": "x"}, "缺少版本号"),
        ("in_progress", "submit", {"version": 2, "narrative": 42}, "工作情况应为文字"),
        ("in_progress", "submit", {"version": 2, "narrative": ["x"]}, "工作情况应为文字"),
        ("in_progress", "submit", {"version": 2, "narrative": "\u200b\u200c\u200d\u2060\ufeff \n"}, "请填写工作情况"),
        ("in_progress", "submit", {"version": 2, "narrative": "完成", "comment": 1}, "备注应为文字"),
        ("in_progress", "submit", {"version": 2, "narrative": "完成", "indicators": {"1": True}}, "应为数值"),
        ("under_review", "countersign", {"version": 4, "opinion": "好", "agree": "yes"}, "应为 true 或 false"),
        ("under_review", "countersign", {"version": 4, "opinion": "好", "agree": 1}, "应为 true 或 false"),
        ("under_review", "countersign", {"version": 4, "opinion": 0, "agree": True}, "会签意见应为文字"),
        ("under_review", "countersign", {"version": 4, "opinion": "\u202a\u202e\u2066\u2069", "agree": True},
         "请填写会签意见"),
        ("under_review", "return", {"version": 4, "reason": 7}, "理由应为文字"),
        ("under_review", "return", {"version": 4, "reason": "\u200b \u3000"}, "请填写理由"),
    ],
)  # fmt: skip
def test_nothing_is_coerced_and_invisible_text_is_no_text(
    api, assignment, walk, county_clerk, co_section_staff, section_chief, state, name, body, message
):
    a = walk.to(assignment, state)
    user = {"submit": county_clerk, "countersign": co_section_staff, "return": section_chief}[name]
    before = snapshot(a)
    response = action(api(user), a, name, **body)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert message in response.json()["detail"]
    assert snapshot(a) == before


@pytest.mark.parametrize(
    "raw, message",
    [
        ('"NaN"', "应填写数值"),
        ('"Infinity"', "数值过大"),
        ('"-Infinity"', "数值过大"),
        ("1e400", "数值过大"),
        ('"1e400"', "数值过大"),
        ("1000000000000", "数值过大"),
        ('"99999999999999999"', "数值过大"),
        ('"12.345"', "两位小数"),
        ("-1", "不能为负数"),
        ("NaN", "NaN、Infinity 不是 JSON 数值"),
        ("Infinity", "NaN、Infinity 不是 JSON 数值"),
    ],
)
def test_indicator_values_that_are_no_finite_number_get_the_right_message(
    api, assignment, walk, county_clerk, raw, message
):
    a = walk.to(assignment, "in_progress")
    before = snapshot(a)
    values = dict.fromkeys(indicators(a), "50")
    first = next(iter(values))
    text = json.dumps({"version": a.version, "narrative": "完成", "indicators": values}).replace('"50"', raw, 1)
    assert f'"{first}": {raw}' in text
    response = api(county_clerk).post(
        f"/api/v1/assignments/{a.pk}/actions/submit/", text, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid", "malformed")
    assert message in response.json()["detail"]
    assert snapshot(a) == before


def test_numbers_and_strings_are_both_taken_as_indicator_values(api, assignment, walk, county_clerk):
    a = walk.to(assignment, "in_progress")
    keys = list(indicators(a))
    values = {keys[0]: 40, keys[1]: "45.5", **dict.fromkeys(keys[2:], 50.25)}
    response = action(api(county_clerk), a, "submit", version=a.version, narrative="完成", indicators=values)
    assert response.status_code == 200
    assert response.json()["submissions"][0]["indicators"][keys[0]] == "40"
    assert response.json()["submissions"][0]["indicators"][keys[1]] == "45.5"


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
    a = walk.to(Assignment.objects.get(round__year=2024, item__code="7a", unit__name="离石区"), "under_review")
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


def test_an_unknown_api_path_is_a_json_404(api, county_clerk, other_county_assignment):
    for url in [
        "/api/v1/assignments/null/",
        "/api/v1/nothing/",
        "/api/v1/assignments/1/actions/",
        f"/api/v1/assignments/{other_county_assignment.pk}/",
    ]:
        response = api(county_clerk).get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found", url


@pytest.mark.parametrize("path", ["/api/v1/x\ny", "/api/v1/\n", "/api/v1/assignments/1/\n", "/api/v1/a\r\nb"])
def test_a_path_with_a_newline_is_a_json_404_too(api, county_clerk, path):
    # the test client would drop the newline from a URL (as urllib does), so the path goes in as the server has it
    response = api(county_clerk).request(PATH_INFO=path, REQUEST_METHOD="GET")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "没有这个接口"}


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
