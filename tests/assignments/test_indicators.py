"""What a round asks: one value per indicator, judged against the target in force that year."""

import json

import pytest
from django.conf import settings

from assignments import plans
from assignments.models import Indicator, WorkItem

YEARS = [2022, 2023, 2024, 2025]


def asked(code, year):
    """{subject: (target in force as (year, comparator, value) or None, [(year, value) of later targets])}."""
    item = WorkItem.objects.prefetch_related("indicators__targets").get(code=code)
    return {
        ask.indicator.subject: (
            (ask.target.year, ask.target.comparator, ask.target.value) if ask.target else None,
            [(target.year, target.value) for target in ask.later],
        )
        for ask in item.asks(year)
    }


@pytest.mark.parametrize(
    ("year", "in_force", "later"),
    [
        (2022, (2022, ">=", 40), [(2023, 80), (2024, 100)]),
        (2023, (2023, ">=", 80), [(2024, 100)]),
        (2024, (2024, "=", 100), []),
        (2025, (2024, "=", 100), []),
    ],
)
def test_7b_asks_one_coverage_value_each_round_judged_against_that_years_target(plan, year, in_force, later):
    assert asked("7b", year) == {"乡镇(街道)社工站覆盖率": (in_force, later)}


@pytest.mark.parametrize(
    ("year", "in_force", "later"),
    [
        (2022, (2022, ">=", 40), [(2025, 100)]),
        (2023, (2022, ">=", 40), [(2025, 100)]),  # 2022's floor stays in force; 2025's is shown beside it
        (2024, (2022, ">=", 40), [(2025, 100)]),
        (2025, (2025, "=", 100), []),
    ],
)
def test_7a_asks_its_station_coverage_once_a_year_with_the_2025_target_as_context(plan, year, in_force, later):
    asks = asked("7a", year)
    assert list(asks) == ["乡镇(街道)未保站覆盖率", "乡镇(街道)未保工作人员覆盖率"]
    assert asks["乡镇(街道)未保站覆盖率"] == (in_force, later)
    assert asks["乡镇(街道)未保工作人员覆盖率"] == ((2022, "=", 100), [])


@pytest.mark.parametrize("year", YEARS)
def test_15a_keeps_its_2022_coverage_in_force_and_asks_the_2025_figures_against_2025(plan, year):
    asks = asked("15a", year)
    assert asks["村级综合服务设施覆盖率"] == ((2022, "=", 100), [])
    for subject, comparator, value in [
        ("村级综合服务设施每百户30平方米的农村社区覆盖率", ">=", 80),
        ("综合服务设施每百户30平方米的城市社区覆盖率", "=", 100),
        ("新建城市社区综合服务设施面积", ">=", 500),
    ]:
        if year == 2025:
            assert asks[subject] == ((2025, comparator, value), [])
        else:  # not yet due: asked, with the coming target as context only
            assert asks[subject] == (None, [(2025, value)])
    assert len(asks) == 4


@pytest.mark.parametrize("year", YEARS[:2])
def test_a_yearly_duty_is_in_force_every_year_of_its_item(plan, year):
    item = WorkItem.objects.prefetch_related("indicators__targets").get(code="4c")
    (training,) = [ask for ask in item.asks(year) if ask.indicator.subject == "县级每年对村(社区)主干系统培训次数"]
    assert training.target.every_year and training.target.value == 2
    assert training.target.phrase == "每年不低于 2次"


def test_3a_indicators_are_averages(plan):
    kinds = set(Indicator.objects.filter(item__code="3a").values_list("kind", flat=True))
    assert kinds == {Indicator.Kind.AVERAGE}


def item_11b(data):
    return data["measures"][10]["items"][1]


def item_4c(data):
    return data["measures"][3]["items"][2]


@pytest.mark.parametrize(
    ("mutate", "place"),
    [
        pytest.param(lambda d: item_11b(d)["duties"][0]["counties"].append("太原市"),
                     "第 11 项重点任务 11b 的 duties[0].counties[3]: 未知的县(市、区) '太原市'", id="unknown county"),
        pytest.param(lambda d: item_11b(d)["duties"][1].update(years=[2026]),
                     "第 11 项重点任务 11b 的 duties[1].years: 应在本行的年度 2022–2025 之内", id="year outside row"),
        pytest.param(lambda d: item_11b(d)["duties"][1].update(text="总结推广枫桥经验"),
                     "第 11 项重点任务 11b 的 duties[1].text: 在本行的工作路径及任务指标中找不到",
                     id="text not printed"),
        pytest.param(lambda d: item_4c(d)["targets"][0].update(year=2023),
                     "第 4 项重点任务 4c 的 targets[0].every_year: 每年目标不能再写年度", id="yearly duty with a year"),
        pytest.param(lambda d: d["measures"][6]["items"][1]["targets"][1].update(kind="count"),
                     "第 7 项重点任务 7b 的 targets[1].unit: 同一指标“乡镇(街道)社工站覆盖率”的单位和类型应一致",
                     id="one subject, two kinds"),
        pytest.param(lambda d: d["measures"][6]["items"][1]["targets"][1].update(year=2022),
                     "第 7 项重点任务 7b 的 targets[1].year: 指标“乡镇(街道)社工站覆盖率”已有2022 年的目标",
                     id="two targets for one year"),
    ],
)  # fmt: skip
def test_a_plan_file_with_a_bad_duty_or_target_is_refused_naming_the_place(mutate, place):
    data = json.loads(settings.PLAN_FILE.read_text(encoding="utf-8"))
    mutate(data)
    with pytest.raises(plans.PlanFileError) as refused:
        plans.parse(data)
    assert str(refused.value).startswith(place)


def test_the_plan_file_scopes_11b_to_its_named_counties_in_2022(plan_data):
    (duties,) = [item["duties"] for m in plan_data["measures"] for item in m["items"] if item["code"] == "11b"]
    assert [(d["counties"], d["first_year"], d["last_year"]) for d in duties] == [
        (["临县", "石楼县", "兴县"], 2022, 2022),
        (["离石区"], 2022, 2022),
    ]


def test_row_notes_agree_with_the_normalisation_of_floors(plan_data):
    items = {item["code"]: item for m in plan_data["measures"] for item in m["items"]}
    for code in ("5a", "7b"):
        assert not any('comparator 记为 "="' in note for note in items[code]["notes"]), code
        assert any('comparator 记为 ">="' in note for note in items[code]["notes"]), code
    assert {t["comparator"] for t in items["5a"]["targets"] + items["7b"]["targets"][:2]} == {">="}
