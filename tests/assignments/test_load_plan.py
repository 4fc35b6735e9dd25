import copy
import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from assignments import plans
from assignments.models import (
    Assignment,
    Duty,
    DutyCounty,
    Indicator,
    ItemSection,
    Measure,
    MeasureSection,
    Plan,
    Target,
    Unit,
    WorkItem,
)
from workflows import actions, rounds


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def raw_plan():
    return json.loads(settings.PLAN_FILE.read_text(encoding="utf-8"))


def snapshot():
    """Every row the loader writes, as plain values, to compare before and after."""
    return [
        list(model.objects.order_by("pk").values())
        for model in (Unit, Plan, Measure, MeasureSection, WorkItem, ItemSection, Indicator, Target, Duty, DutyCounty)
    ]


def write(tmp_path, data, name="plan.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.usefixtures("no_plan")
def test_load_plan_creates_units_measures_items_and_targets():
    output = run("load_plan")
    assert "新建" in output
    assert Unit.objects.sections().count() == 5
    assert list(Unit.objects.counties().values_list("name", flat=True)) == [
        "离石区", "孝义市", "汾阳市", "文水县", "交城县", "兴县", "临县",
        "柳林县", "石楼县", "岚县", "方山县", "中阳县", "交口县",
    ]  # fmt: skip
    assert Unit.objects.filter(kind=Unit.Kind.CITY).get().name == "吕梁市民政局"
    assert Measure.objects.count() == 21
    assert WorkItem.objects.count() == 44
    counts = [Measure.objects.get(number=n).items.count() for n in range(1, 22)]
    assert counts == [2, 2, 2, 4, 1, 3, 2, 2, 2, 4, 2, 1, 5, 2, 1, 1, 2, 2, 2, 1, 1]
    assert Target.objects.count() == sum(
        len(item["targets"]) for measure in raw_plan()["measures"] for item in measure["items"]
    )


@pytest.mark.usefixtures("no_plan")
def test_a_measures_sections_keep_the_lead_first():
    run("load_plan")
    measure = Measure.objects.get(number=19)
    assert [unit.name for unit in measure.ordered_sections()] == ["区划科", "基政科"]
    item = WorkItem.objects.get(code="4a")
    assert [unit.name for unit in item.ordered_sections()] == ["基政科", "社管科"]
    assert item.deadline_text == "2023年底"
    assert (item.first_year, item.last_year, item.final_due.isoformat()) == (2022, 2023, "2023-12-31")


@pytest.mark.usefixtures("no_plan")
def test_loading_twice_changes_nothing():
    run("load_plan")
    before = snapshot()
    output = run("load_plan")
    assert "未作改动" in output
    assert snapshot() == before


@pytest.mark.usefixtures("no_plan")
def test_export_load_export_is_byte_identical_and_equals_the_file():
    run("load_plan")
    first = run("export_plan")
    assert first == settings.PLAN_FILE.read_text(encoding="utf-8")
    plans.load(plans.parse(json.loads(first)))
    assert run("export_plan") == first


@pytest.mark.usefixtures("no_plan")
def test_export_has_the_documented_shape():
    run("load_plan")
    data = json.loads(run("export_plan"))
    measure = data["measures"][0]
    assert data["plan"]["code"] == "吕民发〔2022〕31号"
    assert (measure["number"], measure["group"], measure["sections"]) == (1, "一", ["基政科"])
    item = measure["items"][0]
    assert set(item) >= {"code", "measure_text", "path_text", "deadline_text", "years", "sections", "targets"}
    assert item["years"] == [2022, 2023, 2024, 2025]


@pytest.mark.usefixtures("no_plan")
def test_a_changed_file_updates_only_what_changed(tmp_path):
    run("load_plan")
    data = raw_plan()
    data["measures"][2]["items"][0]["targets"][0]["value"] = "12"
    data["measures"][2]["items"][0]["sections"] = ["社管科", "基政科"]
    ids = list(WorkItem.objects.order_by("pk").values_list("pk", flat=True))
    output = run("load_plan", str(write(tmp_path, data)))
    assert "更新 1 条" in output
    target = Target.objects.get(indicator__item__code="3a", position=0)
    assert target.value == 12
    assert [unit.name for unit in WorkItem.objects.get(code="3a").ordered_sections()] == ["社管科", "基政科"]
    assert list(WorkItem.objects.order_by("pk").values_list("pk", flat=True)) == ids


def broken(mutate):
    data = raw_plan()
    mutate(data)
    return data


MALFORMED = [
    pytest.param(lambda d: d["measures"][3]["items"][1].pop("measure_text"),
                 "第 4 项重点任务 4b 的 measure_text: 缺少此项", id="missing field"),
    pytest.param(lambda d: d["measures"][0]["items"][0].update(years=[2022, 2024]), "第 1 项重点任务 1a 的 years",
                 id="gap in years"),
    pytest.param(lambda d: d["measures"][0]["items"][0].update(years=[2021, 2022]), "计划年度", id="year outside plan"),
    pytest.param(lambda d: d["measures"][5]["items"][2]["sections"].append("财务科"),
                 "第 6 项重点任务 6c 的 sections[3]", id="unknown section"),
    pytest.param(lambda d: d["measures"][2]["items"][0]["targets"][0].update(value="十个"),
                 "第 3 项重点任务 3a 的 targets[0].value", id="non-numeric target"),
    pytest.param(lambda d: d["measures"][6]["items"][0]["targets"][0].update(value="140"), "百分比不能超过 100",
                 id="percent over 100"),
    pytest.param(lambda d: d["measures"][2]["items"][0]["targets"][0].update(value="1e400"),
                 "第 3 项重点任务 3a 的 targets[0].value: 数值过大", id="value beyond any column"),
    pytest.param(lambda d: d["measures"][2]["items"][0]["targets"][0].update(value="123456789012345"),
                 "第 3 项重点任务 3a 的 targets[0].value: 数值过大", id="fifteen digits"),
    pytest.param(lambda d: d["measures"][2]["items"][0]["targets"][0].update(value="10.125"),
                 "第 3 项重点任务 3a 的 targets[0].value: 小数位数过多", id="three decimal places"),
    pytest.param(lambda d: d["measures"][2]["items"][0].update(targets=None),
                 "第 3 项重点任务 3a 的 targets: 应为数组", id="targets null"),
    pytest.param(lambda d: d["measures"][2]["items"][0].pop("targets"),
                 "第 3 项重点任务 3a 的 targets: 缺少此项", id="targets missing"),
    pytest.param(lambda d: d["measures"][13]["items"][1].update(years=[2022, 2023]),
                 "第 14 项重点任务 14b 的 years: 与完成时限 '2022年' 不符", id="years beyond the deadline"),
    pytest.param(lambda d: d["measures"][0]["items"][0].update(years=[2022, 2023, 2024]),
                 "第 1 项重点任务 1a 的 years: 与完成时限 '持续推进' 不符", id="years short of an open deadline"),
    pytest.param(lambda d: d["measures"][3]["items"][0].update(final_due=None),
                 "第 4 项重点任务 4a 的 final_due: 与完成时限 '2023年底' 不符", id="year-end deadline without a date"),
    pytest.param(lambda d: d["measures"][3]["items"][0]["targets"][0].update(year=2025),
                 "第 4 项重点任务 4a 的 targets[0].year: 应在本行的年度 2022–2023 之内", id="target year outside row"),
    pytest.param(lambda d: d["measures"][6]["items"][0]["targets"][0].update(text="2022年,覆盖率不低于90%"),
                 "第 7 项重点任务 7a 的 targets[0].text: 在本行的工作路径及任务指标中找不到",
                 id="target text not printed"),
    pytest.param(lambda d: d["measures"][1]["items"][1].update(code="1a"), "编号 1a 重复", id="duplicate code"),
    pytest.param(lambda d: d["measures"][4].update(number=7), "measures[4].number", id="measure out of order"),
    pytest.param(lambda d: d["measures"][4].update(group="六"), "第 5 项重点任务 的 group", id="unknown group"),
    pytest.param(lambda d: d["plan"].update(signed="2022-13-01"), "plan.signed", id="bad date"),
    pytest.param(lambda d: d.pop("units"), "units: 缺少此项", id="no units"),
]  # fmt: skip


@pytest.mark.usefixtures("no_plan")
@pytest.mark.parametrize("mutate, place", MALFORMED)
def test_a_malformed_file_is_refused_naming_the_place_and_changes_nothing(tmp_path, mutate, place):
    run("load_plan")
    before = snapshot()
    with pytest.raises(CommandError) as raised:
        run("load_plan", str(write(tmp_path, broken(mutate))))
    assert place in str(raised.value)
    assert "未载入任何数据" in str(raised.value)
    assert snapshot() == before


@pytest.mark.usefixtures("no_plan")
def test_a_file_that_is_not_json_is_refused_with_its_line(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text('{"plan": {\n  "code": oops}\n', encoding="utf-8")
    with pytest.raises(CommandError, match="第 2 行"):
        run("load_plan", str(path))
    assert not Plan.objects.exists()


@pytest.mark.usefixtures("no_plan")
def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="找不到计划文件"):
        run("load_plan", str(tmp_path / "nope.json"))


@pytest.mark.usefixtures("no_plan")
def test_a_directory_is_refused_as_not_a_plan_file(tmp_path):
    with pytest.raises(CommandError, match="是目录,不是计划文件"):
        run("load_plan", str(tmp_path))
    assert not Plan.objects.exists()


@pytest.mark.usefixtures("no_plan")
def test_a_failure_late_in_the_file_leaves_no_partial_load(tmp_path):
    data = raw_plan()
    data["measures"][20]["items"][0]["sections"] = ["基政科", "不存在科"]
    with pytest.raises(CommandError):
        run("load_plan", str(write(tmp_path, data)))
    assert not Unit.objects.exists() and not Measure.objects.exists()


def test_parse_refuses_a_document_that_is_not_an_object():
    with pytest.raises(plans.PlanFileError, match="应为对象"):
        plans.parse([1, 2, 3])


def test_parse_keeps_the_printed_text_beside_the_normalised_value(plan_data):
    item = copy.deepcopy(plan_data["measures"][5]["items"][2])
    assert item["sections_text"].startswith("各市民政局")
    assert item["sections"] == ["基政科", "社管科", "区划科"]


def issue_measure_3():
    """The 2024 round of measure 3 (items 3a and 3b, led by 社管科), one assignment per county and item."""
    rounds.open_round(2024, measures=[Measure.objects.get(number=3)])
    return list(Assignment.objects.filter(item__code="3a").order_by("pk"))


def test_an_items_sections_do_not_change_while_its_assignments_are_open(tmp_path, plan, other_section_chief):
    issued = issue_measure_3()
    for assignment in issued[1:]:
        actions.cancel(assignment, by=other_section_chief, version=assignment.version, reason="任务调整")
    data = raw_plan()
    data["measures"][2]["items"][0]["sections"] = ["基政科", "社管科"]
    before = snapshot()
    with pytest.raises(CommandError) as raised:
        run("load_plan", str(write(tmp_path, data)))
    assert "第 3 项重点任务 3a 的 sections: 有 1 件未办结的督办事项" in str(raised.value)
    assert snapshot() == before
    actions.cancel(issued[0], by=other_section_chief, version=issued[0].version, reason="任务调整")
    run("load_plan", str(write(tmp_path, data)))
    assert [unit.name for unit in WorkItem.objects.get(code="3a").ordered_sections()] == ["基政科", "社管科"]


def test_a_measures_sections_do_not_change_while_its_assignments_are_open(tmp_path, plan):
    issue_measure_3()
    data = raw_plan()
    data["measures"][2]["sections"] = ["社管科", "基政科"]
    before = snapshot()
    with pytest.raises(CommandError, match="第 3 项重点任务 的 sections: 有 26 件未办结的督办事项"):
        run("load_plan", str(write(tmp_path, data)))
    assert snapshot() == before


def test_other_changes_load_while_assignments_are_open(tmp_path, plan):
    issue_measure_3()
    data = raw_plan()
    data["measures"][2]["items"][0]["targets"][0]["value"] = "12"
    run("load_plan", str(write(tmp_path, data)))
    assert Target.objects.get(indicator__item__code="3a", position=0).value == 12
