"""Two plans side by side in the API and the pages: `?plan=` filters, rounds are per plan, and a
measure number means nothing without its plan."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from assignments.models import Assignment
from workflows import rounds

from ..plans_fixtures import CODE

FIRST = "吕民发〔2022〕31号"


@pytest.fixture
def both_rounds(plan, second_plan):
    rounds.open_round(2024, plan=plan, measures=[plan.measures.get(number=1)])
    rounds.open_round(2026, plan=second_plan)


@pytest.fixture
def api(leader):
    client = APIClient()
    client.force_authenticate(leader)
    return client


def listed(api, **params):
    body = api.get("/api/v1/assignments/", {"page_size": 100, **params}).json()
    assert body["next"] is None
    return body["results"]


@pytest.mark.usefixtures("both_rounds")
def test_the_api_list_filters_by_plan_and_shows_all_plans_without_one(api):
    assert {row["plan"] for row in listed(api)} == {FIRST, CODE}
    second = listed(api, plan=CODE)
    assert {(row["plan"], row["round"]) for row in second} == {(CODE, 2026)} and len(second) == 6 + 1  # 基政科's report
    assert {row["county"] for row in listed(api, plan=FIRST)} >= {"汾阳市"}
    assert "新区" not in {row["county"] for row in listed(api, plan=FIRST)}


@pytest.mark.usefixtures("both_rounds")
def test_a_measure_number_is_filtered_within_its_plan_and_refused_without_one(api):
    first = listed(api, plan=FIRST, measure=1)
    second = listed(api, plan=CODE, measure=1)
    assert {row["measure"]["title"] for row in first} == {"健全基层治理党的领导体制"}
    assert {row["measure"]["title"] for row in second} == {"建设社区养老服务站"}
    response = api.get("/api/v1/assignments/", {"measure": 1})
    assert response.status_code == 400
    assert "plan" in response.json()["detail"] or "plan" in str(response.json())


@pytest.mark.usefixtures("both_rounds")
def test_an_unknown_plan_code_is_a_400_naming_the_loaded_plans(api):
    response = api.get("/api/v1/assignments/", {"plan": "吕民发〔2030〕1号"})
    assert response.status_code == 400
    assert CODE in str(response.json()) and FIRST in str(response.json())


@pytest.mark.usefixtures("both_rounds")
def test_the_api_rounds_and_plan_are_per_plan(api):
    assert [(row["plan"], row["year"]) for row in api.get("/api/v1/rounds/").json()] == [(FIRST, 2024), (CODE, 2026)]
    assert [row["year"] for row in api.get("/api/v1/rounds/", {"plan": CODE}).json()] == [2026]
    assert api.get("/api/v1/plan/").json()["code"] == CODE  # the latest
    first = api.get("/api/v1/plan/", {"plan": FIRST}).json()
    assert (first["code"], len(first["measures"])) == (FIRST, 21)


@pytest.mark.usefixtures("both_rounds")
def test_the_list_page_filters_by_plan_and_offers_the_measures_of_the_chosen_plan(client, leader):
    client.force_login(leader)
    everything = client.get(reverse("assignments:index"))
    assert everything.context["page"].paginator.count == Assignment.objects.count() == 26 + 6 + 1
    second = client.get(reverse("assignments:index"), {"plan": CODE, "measure": 1})
    assert {a.item.measure.title for a in second.context["page"]} == {"建设社区养老服务站"}
    assert [label for _, label in second.context["form"].fields["measure"].choices][1:] == [
        "1.建设社区养老服务站", "2.培育养老服务队伍",
    ]  # fmt: skip
    first = client.get(reverse("assignments:index"), {"plan": FIRST, "measure": 1})
    assert first.context["page"].paginator.count == 26
    assert {a.round.plan.code for a in first.context["page"]} == {FIRST}


@pytest.mark.usefixtures("both_rounds")
def test_the_rounds_page_shows_the_chosen_plans_rounds(client, leader):
    client.force_login(leader)
    latest = client.get(reverse("assignments:rounds"))
    assert [row["round"].year for row in latest.context["summary"]] == [2026]
    first = client.get(reverse("assignments:rounds"), {"plan": FIRST})
    assert [row["round"].year for row in first.context["summary"]] == [2024]
