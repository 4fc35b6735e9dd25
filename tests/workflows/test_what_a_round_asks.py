"""A county's report asks what the document asks of it that year: one value per indicator, judged
against the target in force; its own named duties; notable matters beside the narrative."""

import copy
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from assignments import plans
from assignments.models import Assignment, Indicator, IndicatorValue, Submission
from workflows import actions
from workflows.models import Event
from workflows.rounds import open_round

from .conftest import fresh, indicators


def issued(plan, year, code, county):
    round_, _ = open_round(year, measures=[plan.measures.get(number=int(code[:-1]))])
    return Assignment.objects.get(round=round_, item__code=code, unit__name=county)


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def detail_json(user, a):
    return api_for(user).get(f"/api/v1/assignments/{a.pk}/").json()


@pytest.mark.parametrize(
    ("year", "target", "later"),
    [(2022, (">=", "40.00", 2022), [2023, 2024]), (2023, (">=", "80.00", 2023), [2024]),
     (2024, ("=", "100.00", 2024), []), (2025, ("=", "100.00", 2024), [])],
)  # fmt: skip
def test_the_api_lists_one_7b_coverage_field_with_that_years_target(plan, county_clerk, year, target, later):
    a = issued(plan, year, "7b", "离石区")
    (entry,) = detail_json(county_clerk, a)["targets"]
    assert entry["subject"] == "乡镇(街道)社工站覆盖率"
    assert (entry["comparator"], entry["value"], entry["year"]) == target
    assert [target["year"] for target in entry["later"]] == later
    assert entry["id"] == Indicator.objects.get(item=a.item).pk


def test_the_api_shows_7a_against_2022s_floor_with_2025s_target_as_context_in_2023(plan, county_clerk):
    a = issued(plan, 2023, "7a", "离石区")
    station, staff = detail_json(county_clerk, a)["targets"]
    assert (station["subject"], station["value"], station["year"]) == ("乡镇(街道)未保站覆盖率", "40.00", 2022)
    assert [(t["year"], t["value"]) for t in station["later"]] == [(2025, "100.00")]
    assert (staff["subject"], staff["value"], staff["later"]) == ("乡镇(街道)未保工作人员覆盖率", "100.00", [])


def test_a_target_not_yet_due_is_shown_as_context_only(plan, county_clerk, client):
    a = issued(plan, 2022, "15a", "离石区")
    entries = {entry["subject"]: entry for entry in detail_json(county_clerk, a)["targets"]}
    area = entries["新建城市社区综合服务设施面积"]
    assert (area["comparator"], area["value"], area["year"]) == (None, None, None)
    assert [(t["year"], t["value"]) for t in area["later"]] == [(2025, "500.00")]
    client.force_login(county_clerk)
    content = client.get(reverse("assignments:detail", args=[a.pk])).content.decode()
    assert "尚无当年目标,对照 2025 年目标" in content


def test_the_submit_form_has_one_field_per_indicator_with_its_target(plan, county_clerk, client, walk):
    a = walk.start(issued(plan, 2023, "7b", "离石区"))
    client.force_login(county_clerk)
    form = client.get(reverse("assignments:detail", args=[a.pk])).context["actions"]
    (submit,) = [f for name, _, f in form if name == "submit"]
    fields = [name for name in submit.fields if name.startswith("indicator_")]
    assert fields == [f"indicator_{Indicator.objects.get(item=a.item).pk}"]
    assert "不低于 80%(2023 年)" in submit.fields[fields[0]].help_text
    assert "2024 年 达到 100%" in submit.fields[fields[0]].help_text


def test_a_value_is_judged_against_the_target_in_force_and_keeps_it_when_the_plan_later_adds_one(plan, plan_data, walk):
    a = walk.submit(walk.start(issued(plan, 2023, "7a", "离石区")))
    judged = IndicatorValue.objects.get(submission__assignment=a, indicator__subject="乡镇(街道)未保站覆盖率")
    assert (judged.target.year, judged.target.value, judged.met) == (2022, 40, True)  # 50 ≥ 40

    data = copy.deepcopy(plan_data)
    (item,) = [item for measure in data["measures"] for item in measure["items"] if item["code"] == "7a"]
    item["targets"].append({**item["targets"][0], "value": Decimal(60), "year": 2023, "text": "未保站覆盖率"})
    plans.load(data)
    assert fresh(a).item.asks(2023)[0].target.value == 60
    judged.refresh_from_db()
    assert (judged.target.year, judged.target.value, judged.met) == (2022, 40, True)


def test_3a_accepts_an_average_of_8_6_from_the_page(plan, county_clerk, client, walk):
    a = walk.start(issued(plan, 2022, "3a", "离石区"))
    client.force_login(county_clerk)
    data = {"version": a.version, "narrative": "已培育社区社会组织"}
    data.update({f"indicator_{pk}": "8.6" for pk in indicators(a)})
    response = client.post(reverse("assignments:act", args=[a.pk, "submit"]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    values = IndicatorValue.objects.filter(submission__assignment=a)
    assert {value.value for value in values} == {Decimal("8.6")}
    city = values.get(indicator__subject="每个城市社区平均拥有社区社会组织")
    assert (city.target.value, city.met) == (10, False)


def test_3a_accepts_an_average_of_8_6_through_the_api(plan, county_clerk, walk):
    a = walk.start(issued(plan, 2022, "3a", "离石区"))
    body = {"version": a.version, "narrative": "已培育", "indicators": dict.fromkeys(indicators(a), 8.6)}
    response = api_for(county_clerk).post(f"/api/v1/assignments/{a.pk}/actions/submit/", body, format="json")
    assert response.status_code == 200, response.json()
    assert set(response.json()["submissions"][0]["indicators"].values()) == {"8.6"}
    assert {entry["kind"] for entry in response.json()["targets"]} == {"average"}


@pytest.mark.parametrize(
    ("code", "subject", "value", "message"),
    [
        ("3a", "每个城市社区平均拥有社区社会组织", "8.625", "两位小数"),
        ("4c", "县级每年对村(社区)主干系统培训次数", "2.5", "整数"),
        ("4c", "取得社工证的社区工作者比例", "100.5", "不能超过 100"),
    ],
)
def test_each_kind_refuses_what_it_cannot_be(plan, county_clerk, walk, code, subject, value, message):
    a = walk.start(issued(plan, 2022, code, "离石区"))
    values = {**indicators(a, "1"), str(Indicator.objects.get(item=a.item, subject=subject).pk): value}
    with pytest.raises(actions.Invalid, match=message):
        actions.submit(a, by=county_clerk, version=a.version, narrative="已完成", indicators=values)


def test_11b_names_its_2022_duty_to_linxian_and_not_to_xiaoyi(plan, make_user, client):
    linxian = make_user("linxian_clerk", "county_clerk", "临县")
    xiaoyi = make_user("xiaoyi_clerk", "county_clerk", "孝义市")
    duty = "重点总结易地扶贫搬迁社区治理经验和典型做法"
    mine = issued(plan, 2022, "11b", "临县")
    theirs = Assignment.objects.get(round=mine.round, item=mine.item, unit__name="孝义市")
    assert detail_json(linxian, mine)["duties"] == [duty]
    assert detail_json(xiaoyi, theirs)["duties"] == []
    client.force_login(linxian)  # the row's path text names every county's duty; the duty list names its own
    page = client.get(reverse("assignments:detail", args=[mine.pk])).content.decode()
    assert f'<ul class="duban-list duban-duties"><li>{duty}</li></ul>' in page
    client.force_login(xiaoyi)
    page = client.get(reverse("assignments:detail", args=[theirs.pk])).content.decode()
    assert "duban-duties" not in page and "点名任务" not in page


def test_a_duty_for_2022_is_not_asked_in_2023(plan, make_user):
    linxian = make_user("linxian_clerk", "county_clerk", "临县")
    assert detail_json(linxian, issued(plan, 2023, "11b", "临县"))["duties"] == []


def test_the_assignment_page_shows_the_measures_body(plan, county_clerk, client):
    a = issued(plan, 2024, "7a", "离石区")
    client.force_login(county_clerk)
    content = client.get(reverse("assignments:detail", args=[a.pk])).content.decode()
    assert "重点任务内容" in content and a.item.measure.body[:40] in content
    assert detail_json(county_clerk, a)["measure_body"] == a.item.measure.body


def test_notable_matters_travel_with_the_report_into_history_detail_and_changes(
    assignment, walk, county_clerk, section_chief, client
):
    a = walk.start(assignment)
    a = actions.submit(
        a,
        by=county_clerk,
        version=a.version,
        narrative="已完成",
        indicators=indicators(a),
        notable="两个乡镇未保站选址待定",
    )
    assert Submission.objects.get(assignment=a).notable == "两个乡镇未保站选址待定"
    assert Event.objects.get(assignment=a, action="submit").snapshot["notable"] == "两个乡镇未保站选址待定"
    a = walk.return_(walk.begin_review(a))
    a = actions.submit(a, by=county_clerk, version=a.version, narrative="已完成", indicators=indicators(a))

    (latest, first) = detail_json(section_chief, a)["submissions"]
    assert (first["notable"], latest["notable"]) == ("两个乡镇未保站选址待定", "")
    assert {"what": "重要事项", "before": "两个乡镇未保站选址待定", "after": "—"} in latest["changes"]
    client.force_login(section_chief)
    content = client.get(reverse("assignments:detail", args=[a.pk])).content.decode()
    assert "重要事项" in content and "两个乡镇未保站选址待定" in content


def test_notable_matters_come_from_the_page_form(assignment, walk, county_clerk, client):
    a = walk.start(assignment)
    client.force_login(county_clerk)
    data = {"version": a.version, "narrative": "已完成", "notable": "经费缺口约 20 万元"}
    data.update({f"indicator_{pk}": "60" for pk in indicators(a)})
    assert client.post(reverse("assignments:act", args=[a.pk, "submit"]), data).status_code == 302
    assert Submission.objects.get(assignment=a).notable == "经费缺口约 20 万元"
