import json
import zipfile
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from assignments import plans, workbook
from assignments.models import (
    Duty,
    DutyCounty,
    Indicator,
    ItemSection,
    Measure,
    MeasureGroup,
    MeasureSection,
    Plan,
    PlanUnit,
    Target,
    Unit,
    WorkItem,
)
from tests.plans_fixtures import CODE, second_plan_data
from workflows import rounds


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def snapshot():
    """Every row a plan load writes, as plain values, to compare before and after."""
    models = (Unit, Plan, PlanUnit, MeasureGroup, Measure, MeasureSection, WorkItem, ItemSection, Indicator, Target)
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in (*models, Duty, DutyCounty)}


def export_workbook(tmp_path, *extra):
    path = tmp_path / "plan.xlsx"
    run("export_plan", "--format", "xlsx", "-o", str(path), *extra)
    return path


def edit(path, change):
    book = load_workbook(path)
    change(book)
    book.save(path)
    return path


def cell(book, sheet, key, header, key_header="编号"):
    """The cell under `header` in the row of `sheet` whose `key_header` column holds `key`."""
    rows = list(book[sheet].iter_rows())
    column = [c.value for c in rows[0]].index(header)
    key_column = [c.value for c in rows[0]].index(key_header)
    return next(row[column] for row in rows[1:] if row[key_column].value == key)


def setter(sheet, key, header, value, key_header="编号"):
    def change(book):
        cell(book, sheet, key, header, key_header).value = value

    return change


def delete_plan():
    """Empty the plan tables, as a database that never had the plan (rolled back with the test)."""
    Measure.objects.all().delete()
    MeasureGroup.objects.all().delete()
    Plan.objects.all().delete()
    Unit.objects.all().delete()


def test_a_workbook_exported_and_loaded_back_changes_nothing(plan, tmp_path):
    path = export_workbook(tmp_path)
    before = snapshot()
    assert "未作改动" in run("load_plan", str(path))
    assert snapshot() == before


def test_json_to_workbook_to_json_is_byte_identical(plan, tmp_path):
    path = export_workbook(tmp_path)
    assert workbook.read(path) == plans.read(settings.PLAN_FILE)
    delete_plan()
    assert "新建" in run("load_plan", str(path))
    assert run("export_plan") == settings.PLAN_FILE.read_text(encoding="utf-8")


def test_the_second_plan_round_trips_through_a_workbook(second_plan, tmp_path):
    path = export_workbook(tmp_path, "--plan", CODE)
    assert "未作改动" in run("load_plan", str(path))
    text = run("export_plan", "--plan", CODE)
    assert json.loads(text)["measures"] == second_plan_data()["measures"]
    second_plan.measures.all().delete()
    second_plan.delete()
    assert "新建" in run("load_plan", str(path))
    assert run("export_plan", "--plan", CODE) == text


def test_the_workbook_mirrors_the_task_list_with_chinese_headers_frozen_and_wrapped(plan, tmp_path):
    book = load_workbook(export_workbook(tmp_path))
    assert book.sheetnames == [
        "计划",
        "工作目标",
        "保障措施",
        "单位",
        "分组",
        "重点任务",
        "任务清单",
        "量化指标",
        "点名任务",
    ]
    sheet = book["任务清单"]
    assert [c.value for c in sheet[1]] == [
        "编号", "重点任务序号", "工作措施", "工作路径及任务指标", "完成时限(原文)", "起始年度", "终止年度",
        "完成日期", "责任单位(原文)", "责任科室", "适用县", "整理说明",
    ]  # fmt: skip
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["D"].width == 60
    item = WorkItem.objects.get(code="4a")
    row = cell(book, "任务清单", "4a", "编号").row
    values = [c.value for c in sheet[row]]
    assert values[:7] == ["4a", 4, item.measure_text, item.path_text, "2023年底", 2022, 2023]
    assert values[7].date().isoformat() == "2023-12-31"
    assert values[9] == "、".join(unit.name for unit in item.ordered_sections())
    assert values[10] == "全部"
    assert sheet.cell(row=row, column=4).alignment.wrap_text
    target = cell(book, "量化指标", "7a", "目标值", key_header="事项编号")
    assert [c.value for c in book["量化指标"][target.row]][1:8] == [
        "乡镇(街道)未保站覆盖率", "不低于", 40, "%", "百分比", 2022, None,
    ]  # fmt: skip
    assert cell(book, "量化指标", "4c", "每年", key_header="事项编号").value == "是"
    assert [c.value for c in book["点名任务"][2]][:4] == ["11b", "临县、石楼县、兴县", 2022, 2022]
    plan_rows = {row[0].value: row[1].value for row in book["计划"].iter_rows(min_row=2)}
    assert plan_rows["文号"] == "吕民发〔2022〕31号" and plan_rows["成文日期"].date().isoformat() == "2022-07-26"


def test_editing_one_text_in_excel_changes_exactly_that_field(plan, tmp_path):
    path = export_workbook(tmp_path)
    item = WorkItem.objects.get(code="7a")
    corrected = item.measure_text.replace("建立直接面向群众", "直接面向群众")
    edit(path, setter("任务清单", "7a", "工作措施", corrected))
    before = snapshot()
    assert "更新 1 条" in run("load_plan", str(path))
    after = snapshot()
    item.refresh_from_db()
    assert item.measure_text == corrected
    changed = [
        (model, row.get("code"), key)
        for model in before
        for old_row, row in zip(before[model], after[model], strict=True)
        for key in row
        if old_row[key] != row[key]
    ]
    assert changed == [("WorkItem", "7a", "measure_text")]


def test_a_workbook_is_recognised_by_its_content_whatever_its_name(plan, tmp_path):
    path = edit(export_workbook(tmp_path), setter("任务清单", "7a", "工作措施", "改过的工作措施。"))
    renamed = path.rename(tmp_path / "plan.dat")
    assert "更新 1 条" in run("load_plan", str(renamed))
    assert WorkItem.objects.get(code="7a").measure_text == "改过的工作措施。"


def without_column(sheet, header):
    def change(book):
        headers = [c.value for c in book[sheet][1]]
        book[sheet].delete_cols(headers.index(header) + 1)

    return change


def with_formula(book):
    cell(book, "任务清单", "7a", "起始年度").value = "=2020+2"


def with_extra_sheet(book):
    book.create_sheet("草稿")


BAD_WORKBOOKS = [
    pytest.param(without_column("任务清单", "完成时限(原文)"), "工作表“任务清单”第 1 行: 缺少列“完成时限(原文)”",
                 id="missing column"),
    pytest.param(lambda book: book.remove(book["量化指标"]), "工作簿缺少工作表“量化指标”", id="missing sheet"),
    pytest.param(with_extra_sheet, "工作表“草稿”: 不是计划工作簿的工作表", id="unknown sheet"),
    pytest.param(lambda book: book["任务清单"].cell(row=1, column=12, value="备注"),
                 "工作表“任务清单”第 1 行 L 列: 未知列“备注”", id="unknown column"),
    pytest.param(setter("任务清单", "6c", "责任科室", "基政科、社管科、财务科"),
                 "工作表“任务清单”第 15 行 J 列(责任科室): 未知科室 '财务科'", id="unknown section"),
    pytest.param(setter("重点任务", 5, "分组", "六", key_header="序号"),
                 "工作表“重点任务”第 6 行 B 列(分组): 应为 一、二、三、四、五 之一,而非 '六'", id="unknown group"),
    pytest.param(setter("任务清单", "14b", "完成时限(原文)", "明年"),
                 "工作表“任务清单”第 35 行 F 列(起始年度): 与完成时限 '明年' 不符:应为 2022–2025 年",
                 id="deadline naming no year"),
    pytest.param(setter("任务清单", "14b", "完成时限(原文)", "2024年"),
                 "工作表“任务清单”第 35 行 F 列(起始年度): 与完成时限 '2024年' 不符:应为 2024–2024 年",
                 id="deadline of another year"),
    pytest.param(setter("任务清单", "4a", "完成日期", None),
                 "工作表“任务清单”第 8 行 H 列(完成日期): 与完成时限 '2023年底' 不符:应为 2023-12-31",
                 id="due date dropped"),
    pytest.param(setter("任务清单", "7a", "起始年度", "明年"),
                 "工作表“任务清单”第 16 行 F 列(起始年度): 应为整数,而非文字 '明年'", id="year as words"),
    pytest.param(setter("任务清单", "7a", "工作措施", 42),
                 "工作表“任务清单”第 16 行 C 列(工作措施): 应为文字,而非数值 42", id="text as a number"),
    pytest.param(setter("任务清单", "4a", "完成日期", "2023年底"),
                 "工作表“任务清单”第 8 行 H 列(完成日期): 不是有效日期", id="date as words"),
    pytest.param(setter("量化指标", "3a", "目标值", "十个", key_header="事项编号"),
                 "工作表“量化指标”第 2 行 D 列(目标值): 不是有效数值", id="value as words"),
    pytest.param(setter("量化指标", "7a", "比较", "大于", key_header="事项编号"),
                 "列(比较): 应为 不低于、不高于、达到 之一", id="unknown comparator"),
    pytest.param(setter("量化指标", "7a", "原文", "2022年,覆盖率不低于90%", key_header="事项编号"),
                 "列(原文): 在本行的工作路径及任务指标中找不到", id="target text not in the row"),
    pytest.param(setter("量化指标", "7a", "事项编号", "7z", key_header="事项编号"),
                 "列(事项编号): 工作表“任务清单”中没有编号 7z", id="target of no item"),
    pytest.param(with_formula, "工作表“任务清单”第 16 行 F 列(起始年度): 不能是公式", id="formula"),
    pytest.param(setter("任务清单", "1b", "编号", "1a"), "工作表“任务清单”第 3 行 A 列(编号): 编号 1a 重复",
                 id="duplicate code"),
    pytest.param(setter("计划", "成文日期", "内容", "2022-13-01", key_header="项目"),
                 "工作表“计划”第 5 行 B 列(内容): 不是有效日期", id="bad plan date"),
]  # fmt: skip


@pytest.mark.parametrize("change, place", BAD_WORKBOOKS)
def test_a_bad_workbook_is_refused_naming_sheet_row_and_column_and_changes_nothing(plan, tmp_path, change, place):
    path = edit(export_workbook(tmp_path), change)
    before = snapshot()
    with pytest.raises(CommandError) as raised:
        run("load_plan", str(path))
    assert place in str(raised.value)
    assert "未载入任何数据" in str(raised.value)
    assert snapshot() == before


def open_measure_3():
    rounds.open_round(2024, measures=[Measure.objects.get(number=3)])


def test_a_renamed_code_of_a_plan_with_opened_rounds_is_refused_at_its_cell(plan, tmp_path):
    open_measure_3()

    def rename_3a(book):
        cell(book, "任务清单", "3a", "编号").value = "3x"
        for row in book["量化指标"].iter_rows(min_row=2):
            if row[0].value == "3a":
                row[0].value = "3x"

    path = edit(export_workbook(tmp_path), rename_3a)
    before = snapshot()
    with pytest.raises(CommandError) as raised:
        run("load_plan", str(path))
    assert "工作表“任务清单”第 6 行 A 列(编号): 编号 3x 不是本计划已有的事项" in str(raised.value)
    assert snapshot() == before


def test_an_item_moved_to_another_measure_of_a_plan_with_opened_rounds_is_refused(plan, tmp_path):
    open_measure_3()
    path = edit(export_workbook(tmp_path), setter("任务清单", "1b", "重点任务序号", 2))
    before = snapshot()
    with pytest.raises(CommandError, match=r"第 3 行 B 列\(重点任务序号\): 事项 1b 原属第 1 项重点任务"):
        run("load_plan", str(path))
    assert snapshot() == before


def test_a_dropped_item_of_a_plan_with_opened_rounds_is_refused_naming_it(plan, tmp_path):
    open_measure_3()

    def drop_1b(book):
        book["任务清单"].delete_rows(cell(book, "任务清单", "1b", "编号").row)

    path = edit(export_workbook(tmp_path), drop_1b)
    before = snapshot()
    with pytest.raises(CommandError, match="工作表“任务清单” A 列\\(编号\\): 缺少事项 1b"):
        run("load_plan", str(path))
    assert snapshot() == before


def test_codes_may_change_while_the_plan_has_no_rounds(plan, tmp_path):
    path = edit(export_workbook(tmp_path), setter("任务清单", "1b", "编号", "1c"))
    run("load_plan", str(path))
    assert list(Measure.objects.get(number=1).items.values_list("code", flat=True)) == ["1a", "1c"]


def test_a_file_that_is_not_a_workbook_is_refused_in_words(plan, tmp_path):
    text = tmp_path / "plan.xlsx"
    text.write_text("编号,工作措施\n", encoding="utf-8")
    archive = tmp_path / "other.xlsx"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("readme.txt", "not a workbook")
    before = snapshot()
    with pytest.raises(CommandError, match="不是 Excel 工作簿"):
        run("load_plan", str(text))
    with pytest.raises(CommandError, match="不是可读的 Excel 工作簿"):
        run("load_plan", str(archive))
    assert snapshot() == before


def test_exporting_a_workbook_needs_an_output_file(plan):
    with pytest.raises(CommandError, match="须用 -o 指定文件"):
        run("export_plan", "--format", "xlsx")


def test_export_plan_writes_json_to_a_file_with_o(plan, tmp_path):
    path = tmp_path / "plan.json"
    run("export_plan", "-o", str(path))
    assert path.read_text(encoding="utf-8") == settings.PLAN_FILE.read_text(encoding="utf-8")
