"""More than one plan: a second plan loads beside the first, shares units, and keeps its own rounds,
numbering and export; commands name their plan when there are several."""

import json
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management.base import CommandError
from django.urls import reverse

from assignments import plans, selectors
from assignments.models import Assignment, Plan, Round, Unit
from workflows import rounds
from workflows.actions import Invalid

from ..plans_fixtures import CODE, exported, plan_file_text, run, second_plan_data

FIRST = "吕民发〔2022〕31号"


def test_a_second_plan_loads_beside_the_first_and_creates_the_units_it_names(plan, second_plan):
    assert set(Plan.objects.values_list("code", flat=True)) == {FIRST, CODE}
    assert plan.measures.count() == 21 and second_plan.measures.count() == 2
    assert Unit.objects.get(name="养老科").kind == Unit.Kind.SECTION
    assert Unit.objects.get(name="新区").kind == Unit.Kind.COUNTY
    assert second_plan.coordinator.name == "养老科"
    # The first plan's units keep their names, order and full names.
    assert Unit.objects.get(name="基政科").full_name == "基层政权建设和社区治理科"
    assert list(Unit.objects.counties().values_list("name", flat=True))[:2] == ["离石区", "孝义市"]


def test_each_plan_exports_its_own_units_and_the_first_still_equals_the_file(second_plan):
    assert run("export_plan", "--plan", FIRST) == settings.PLAN_FILE.read_text(encoding="utf-8")
    units = exported(CODE)["units"]
    assert [section["name"] for section in units["sections"]] == ["养老科", "基政科"]
    assert units["counties"] == ["离石区", "孝义市", "新区"]


def test_export_load_export_is_byte_identical_for_both_plans(second_plan):
    for code in (FIRST, CODE):
        first = run("export_plan", "--plan", code)
        plans.load(plans.parse(json.loads(first)))
        assert run("export_plan", "--plan", code) == first
    assert exported(CODE)["measures"] == second_plan_data()["measures"]


def test_a_unit_named_with_another_kind_is_refused_with_its_place(plan, tmp_path):
    data = second_plan_data()
    data["units"]["sections"].append({"name": "汾阳市", "full_name": ""})
    path = tmp_path / "wrong.json"
    path.write_text(plan_file_text(data), encoding="utf-8")
    with pytest.raises(CommandError, match=r"units\.sections\[2\].*汾阳市.*已是县级民政局"):
        run("load_plan", str(path))
    assert not Plan.objects.filter(code=CODE).exists()


@pytest.mark.usefixtures("second_plan")
@pytest.mark.parametrize("command", [["export_plan"], ["open_round", "2026"]])
def test_commands_ask_which_plan_when_two_are_loaded(command):
    with pytest.raises(CommandError, match=f"已载入 2 个计划,请用 --plan 指定文号:{CODE}、{FIRST}"):
        run(*command)
    assert not Round.objects.exists()


@pytest.mark.usefixtures("second_plan")
def test_a_plan_code_that_is_not_loaded_is_refused_naming_the_loaded_ones():
    with pytest.raises(CommandError, match="没有文号为“吕民发〔2030〕1号”的计划"):
        run("export_plan", "--plan", "吕民发〔2030〕1号")


def test_open_round_without_a_plan_is_refused_when_there_are_two(second_plan):
    with pytest.raises(Invalid, match="请用 --plan 指定文号"):
        rounds.open_round(2026)


def test_open_round_opens_the_named_plans_round_for_the_counties_it_names(plan, second_plan):
    output = run("open_round", "2026", "--plan", CODE)
    assert f"{CODE} 2026 年度已下达:新建督办事项 7 个" in output  # and 基政科's report to 养老科
    round_ = Round.objects.get()
    assert round_.plan == second_plan
    assert sorted(round_.assignments.exclude(item=None).values_list("item__code", "unit__name")) == [
        ("1a", "孝义市"), ("1a", "新区"), ("1a", "离石区"), ("2a", "孝义市"), ("2a", "新区"), ("2a", "离石区"),
    ]  # fmt: skip
    assert list(round_.assignments.reports().values_list("unit__name", "lead_section__name")) == [("基政科", "养老科")]
    with pytest.raises(CommandError, match="2026 年不在计划年度"):
        run("open_round", "2026", "--plan", FIRST)
    first, _ = rounds.open_round(2024, plan=plan, measures=[plan.measures.get(number=1)])
    assert "新区" not in set(first.assignments.values_list("unit__name", flat=True))
    assert first.assignments.count() == 2 * 13


def test_measure_numbers_do_not_mix_between_plans(plan, second_plan):
    rounds.open_round(2024, plan=plan, measures=[plan.measures.get(number=1)])
    rounds.open_round(2026, plan=second_plan)
    everything = Assignment.objects.all()
    first = selectors.assignment_list(everything, plan=plan, measure=1)
    second = selectors.assignment_list(everything, plan=second_plan, measure=1)
    assert {a.item.measure.title for a in first} == {"健全基层治理党的领导体制"}
    assert {a.item.measure.title for a in second} == {"建设社区养老服务站"}
    assert first.count() == 26 and second.count() == 3


def test_the_plan_page_shows_the_whole_document_with_both_dates(client, leader, plan):
    client.force_login(leader)
    page = client.get(reverse("plan:index")).content.decode()
    assert "成文日期 2022年7月26日" in page and "发布日期 2022年8月8日" in page
    assert "指导思想" in page and "奠定坚实基础" in page
    assert "2022 年</strong> 到2022年底,全市社区设置更加合理" in page
    assert "2025 年</strong> 到2025年底,在全市建立起" in page
    assert plan.measures.get(number=21).body in page
    assert "加强领导、压实责任,保障基层治理体系和治理能力现代化建设各项工作落地落实" in page
    assert "(四)注重信息报送。" in page
    assert page.index("工作目标") < page.index("(一)完善党全面领导基层治理体制机制") < page.index("保障措施")


def test_the_plan_page_shows_the_latest_plan_and_offers_the_other(client, leader, plan, second_plan):
    client.force_login(leader)
    latest = client.get(reverse("plan:index"))
    assert latest.context["plan"] == second_plan
    assert f'href="?plan={quote(FIRST)}"' in latest.content.decode()
    chosen = client.get(reverse("plan:index"), {"plan": FIRST})
    assert chosen.context["plan"] == plan
    measure = client.get(reverse("plan:measure", args=[1]), {"plan": CODE})
    assert measure.context["measure"].title == "建设社区养老服务站"
    assert client.get(reverse("plan:index"), {"plan": "没有的文号"}).status_code == 404
