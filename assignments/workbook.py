"""The plan as an Excel workbook, so the coordinating office can correct a text in Excel and load it back.

The workbook mirrors the document's 任务清单: a sheet for each part of the plan file, a header row naming
the columns (their order may change), one row per entry, rows read in order. `write` turns the plan file's
dict (as `plans.export` gives it) into a workbook; `read` turns a workbook back into that same dict and
passes it through `plans.parse`, so every check of a JSON file applies, and names a bad value by sheet,
row and column. JSON stays the canonical format: JSON → workbook → JSON is identical.
"""

import datetime
import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from . import plans
from .models import Indicator, Plan, Target, Unit, WorkItem, plain_number
from .plans import PlanFileError


@dataclass(frozen=True)
class Column:
    header: str
    width: int
    wrap: bool = False


SHEETS = {
    "计划": [Column("项目", 16), Column("内容", 100, wrap=True)],
    "工作目标": [Column("年度", 8), Column("内容", 100, wrap=True)],
    "保障措施": [Column("段落", 120, wrap=True)],
    "单位": [Column("类别", 12), Column("名称", 16), Column("全称", 30)],
    "分组": [Column("序号", 8), Column("标题", 50, wrap=True)],
    "重点任务": [
        Column("序号", 8),
        Column("分组", 8),
        Column("标题", 30, wrap=True),
        Column("内容", 60, wrap=True),
        Column("责任单位(原文)", 30, wrap=True),
        Column("责任科室", 20, wrap=True),
    ],
    "任务清单": [
        Column("编号", 8),
        Column("重点任务序号", 12),
        Column("工作措施", 50, wrap=True),
        Column("工作路径及任务指标", 60, wrap=True),
        Column("完成时限(原文)", 16, wrap=True),
        Column("起始年度", 10),
        Column("终止年度", 10),
        Column("完成日期", 12),
        Column("责任单位(原文)", 30, wrap=True),
        Column("责任科室", 20, wrap=True),
        Column("适用县", 20, wrap=True),
        Column("整理说明", 50, wrap=True),
    ],
    "量化指标": [
        Column("事项编号", 10),
        Column("指标", 30, wrap=True),
        Column("比较", 8),
        Column("目标值", 10),
        Column("单位", 8),
        Column("类型", 12),
        Column("年度", 8),
        Column("每年", 6),
        Column("原文", 50, wrap=True),
    ],
    "点名任务": [
        Column("事项编号", 10),
        Column("县(市、区)", 24, wrap=True),
        Column("起始年度", 10),
        Column("终止年度", 10),
        Column("内容", 60, wrap=True),
    ],
}

# The rows of the 计划 sheet: 项目, the key in the plan file's `plan` object, and the kind of value.
PLAN_ROWS = [
    ("文号", "code", "text"),
    ("标题", "title", "text"),
    ("发文机关", "issuer", "text"),
    ("成文日期", "signed", "date"),
    ("发布日期", "published", "date"),
    ("起始年度", "first_year", "integer"),
    ("终止年度", "last_year", "integer"),
    ("报送月", "report_month", "integer"),
    ("报送日", "report_day", "integer"),
    ("牵头汇总科室", "coordinator", "text"),
    ("指导思想", "guiding", "text"),
    ("保障措施标题", "safeguards_heading", "text"),
]

UNIT_KINDS = {Unit.Kind.CITY.label: "city", Unit.Kind.SECTION.label: "section", Unit.Kind.COUNTY.label: "county"}
SEPARATOR = "、"
YES = "是"
ALL_COUNTIES = "全部"  # 适用县 of an item issued to every county (`"counties": "all"` in the plan file)


# Writing


def write(data, path):
    """Save the plan file's dict `data` as a workbook at `path`."""
    build(data).save(path)


def build(data):
    """The plan file's dict as an openpyxl Workbook."""
    book = Workbook()
    book.remove(book.active)
    sheets = {name: _new_sheet(book, name, columns) for name, columns in SHEETS.items()}
    plan = data["plan"]
    safeguards = plan.get("safeguards") or {}
    values = {**plan, "safeguards_heading": safeguards.get("heading", "")}
    for label, key, kind in PLAN_ROWS:
        value = values.get(key)
        _append(sheets["计划"], [label, datetime.date.fromisoformat(value) if kind == "date" and value else value])
    for goal in plan.get("goals") or []:
        _append(sheets["工作目标"], [goal["year"], goal["text"]])
    for paragraph in safeguards.get("paragraphs", []):
        _append(sheets["保障措施"], [paragraph])

    units = data["units"]
    _append(sheets["单位"], [Unit.Kind.CITY.label, units["city"], None])
    for section in units["sections"]:
        _append(sheets["单位"], [Unit.Kind.SECTION.label, section["name"], section["full_name"]])
    for county in units["counties"]:
        _append(sheets["单位"], [Unit.Kind.COUNTY.label, county, None])
    for group in data["groups"]:
        _append(sheets["分组"], [group["number"], group["title"]])

    for measure in data["measures"]:
        _append(
            sheets["重点任务"],
            [
                measure["number"],
                measure["group"],
                measure["title"],
                measure["body"],
                measure["sections_text"],
                SEPARATOR.join(measure["sections"]),
            ],
        )
        for item in measure["items"]:
            place = f"第 {measure['number']} 项重点任务 {item['code']} 的 notes"
            for i, note in enumerate(item["notes"]):
                if not note.strip() or "\n" in note:
                    raise PlanFileError(f"{place}[{i}]", "整理说明为空或含换行,不能写入工作簿的一个单元格(每行一条)")
            _append(
                sheets["任务清单"],
                [
                    item["code"],
                    measure["number"],
                    item["measure_text"],
                    item["path_text"],
                    item["deadline_text"],
                    item["years"][0],
                    item["years"][-1],
                    datetime.date.fromisoformat(item["final_due"]) if item["final_due"] else None,
                    item["sections_text"],
                    SEPARATOR.join(item["sections"]),
                    ALL_COUNTIES if item["counties"] == "all" else SEPARATOR.join(item["counties"]),
                    "\n".join(item["notes"]),
                ],
            )
            for target in item["targets"]:
                _append(
                    sheets["量化指标"],
                    [
                        item["code"],
                        target["subject"],
                        Target.Comparator(target["comparator"]).label,
                        _number_cell(target["value"]),
                        target["unit"],
                        Indicator.Kind(target["kind"]).label,
                        target["year"],
                        YES if target.get("every_year") else None,
                        target["text"],
                    ],
                )
            for duty in item.get("duties") or []:
                _append(
                    sheets["点名任务"],
                    [item["code"], SEPARATOR.join(duty["counties"]), duty["years"][0], duty["years"][-1], duty["text"]],
                )
    return book


def _new_sheet(book, name, columns):
    sheet = book.create_sheet(name)
    sheet.append([column.header for column in columns])
    for index, column in enumerate(columns, start=1):
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    return sheet


def _append(sheet, values):
    row = sheet.max_row + 1
    for index, (column, value) in enumerate(zip(SHEETS[sheet.title], values, strict=True), start=1):
        cell = sheet.cell(row=row, column=index, value=value)
        if isinstance(value, str) and cell.data_type == "f":
            cell.data_type = "s"  # a text that starts with "=" is text, not a formula
        if isinstance(value, datetime.date):
            cell.number_format = "yyyy-mm-dd"
        cell.alignment = Alignment(wrap_text=column.wrap, vertical="top")


def _number_cell(text):
    """A target value as a number cell when Excel holds it exactly, else as text."""
    number = Decimal(text)
    if number == number.to_integral_value():
        return int(number)
    if Decimal(repr(float(number))) == number:
        return float(number)
    return text


# Reading


def is_workbook(path):
    """Whether `path` names a workbook: by its extension, or by content (an xlsx file is a zip archive)."""
    if str(path).lower().endswith((".xlsx", ".xlsm")):
        return True
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def read(path):
    """Read a workbook and parse it as a plan file; a bad value is named by sheet, row and column."""
    return _Reading(path).parsed


def load(path):
    """Read a workbook and load it, in one transaction; return the LoadReport.

    A workbook corrects the texts of a plan. Once a plan has opened rounds, its item codes identify the
    assignments across rounds, so a workbook for it keeps every item code under its measure: adding,
    dropping, renaming or moving items goes through the plan file.
    """
    reading = _Reading(path)
    with transaction.atomic():
        reading.check_codes()
        try:
            return plans.load(reading.parsed)
        except PlanFileError as error:
            raise reading.located(error) from None


class _Reading:
    def __init__(self, path):
        self.cells = {}  # path in the plan file's dict → (sheet, row or None, column or None)
        book = _open(path)
        self.sheets = {name: _Sheet(book, name, self.cells) for name in SHEETS}
        unknown = [name for name in book.sheetnames if name not in SHEETS]
        if unknown:
            raise PlanFileError(f"工作表“{unknown[0]}”", f"不是计划工作簿的工作表(应为 {'、'.join(SHEETS)})")
        self.data = {
            "plan": self._plan(),
            "units": self._units(),
            "groups": self._groups(),
            "measures": self._measures(),
        }
        try:
            self.parsed = plans.parse(self.data)
        except PlanFileError as error:
            raise self.located(error) from None

    def _plan(self):
        sheet = self.sheets["计划"]
        sheet.mark(("plan",))
        by_label = {label: (key, kind) for label, key, kind in PLAN_ROWS}
        values = {}
        for row in sheet.rows():
            label = row.text("项目")
            if label not in by_label:
                raise PlanFileError(row.place("项目"), f"未知项目 {label!r}(应为 {'、'.join(by_label)} 之一)")
            key, kind = by_label.pop(label)
            path = ("plan", "safeguards", "heading") if key == "safeguards_heading" else ("plan", key)
            values[key] = getattr(row, kind)("内容", optional=kind != "text", path=path)
        if by_label:
            raise PlanFileError(sheet.where(), f"缺少项目“{next(iter(by_label))}”")
        goals = []
        self.sheets["工作目标"].mark(("plan", "goals"))
        for index, row in enumerate(self.sheets["工作目标"].rows()):
            path = ("plan", "goals", index)
            self.sheets["工作目标"].mark(path, row)
            goals.append(
                {"year": row.integer("年度", path=(*path, "year")), "text": row.text("内容", path=(*path, "text"))}
            )
        paragraphs = []
        self.sheets["保障措施"].mark(("plan", "safeguards", "paragraphs"))
        for index, row in enumerate(self.sheets["保障措施"].rows()):
            paragraphs.append(row.text("段落", path=("plan", "safeguards", "paragraphs", index)))
        heading = values.pop("safeguards_heading") or ""
        return {
            **{key: values[key] for _, key, _ in PLAN_ROWS if key != "safeguards_heading"},
            "goals": goals,
            "safeguards": {"heading": heading, "paragraphs": paragraphs} if heading or paragraphs else None,
        }

    def _units(self):
        sheet = self.sheets["单位"]
        sheet.mark(("units",))
        city, sections, counties = None, [], []
        for row in sheet.rows():
            kind = row.text("类别")
            if kind not in UNIT_KINDS:
                raise PlanFileError(row.place("类别"), f"应为 {'、'.join(UNIT_KINDS)} 之一,而非 {kind!r}")
            kind = UNIT_KINDS[kind]
            if kind != "section" and row.text("全称"):
                raise PlanFileError(row.place("全称"), "只有科室记全称,应留空")
            if kind == "city":
                if city is not None:
                    raise PlanFileError(row.place("类别"), "市局只能有一行")
                city = row.text("名称", path=("units", "city"))
            elif kind == "section":
                path = ("units", "sections", len(sections))
                sheet.mark(path, row)
                sections.append(
                    {
                        "name": row.text("名称", path=(*path, "name")),
                        "full_name": row.text("全称", path=(*path, "full_name")),
                    }
                )
            else:
                counties.append(row.text("名称", path=("units", "counties", len(counties))))
        return {"city": city, "sections": sections, "counties": counties}

    def _groups(self):
        sheet = self.sheets["分组"]
        sheet.mark(("groups",))
        groups = []
        for index, row in enumerate(sheet.rows()):
            path = ("groups", index)
            sheet.mark(path, row)
            groups.append(
                {"number": row.text("序号", path=(*path, "number")), "title": row.text("标题", path=(*path, "title"))}
            )
        return groups

    def _measures(self):
        sheet = self.sheets["重点任务"]
        sheet.mark(("measures",))
        measures = {}
        for index, row in enumerate(sheet.rows()):
            path = ("measures", index)
            sheet.mark(path, row)
            number = row.integer("序号", path=(*path, "number"))
            if number in measures:
                raise PlanFileError(row.place("序号"), f"第 {number} 项重点任务重复")
            measures[number] = {
                "number": number,
                "title": row.text("标题", path=(*path, "title")),
                "group": row.text("分组", path=(*path, "group")),
                "body": row.text("内容", path=(*path, "body")),
                "sections_text": row.text("责任单位(原文)", path=(*path, "sections_text")),
                "sections": row.names("责任科室", path=(*path, "sections")),
                "items": [],
            }
            self.sheets["任务清单"].mark((*path, "items"))
        items = self._items(measures)
        self._targets(items)
        self._duties(items)
        return list(measures.values())

    def _items(self, measures):
        """The 任务清单 rows, each under its measure; returns {code: (item, its path)}."""
        sheet = self.sheets["任务清单"]
        positions = list(measures)
        items = {}
        for row in sheet.rows():
            number = row.integer("重点任务序号")
            if number not in measures:
                raise PlanFileError(row.place("重点任务序号"), f"工作表“重点任务”中没有第 {number} 项重点任务")
            measure = measures[number]
            path = ("measures", positions.index(number), "items", len(measure["items"]))
            sheet.mark(path, row)
            row.record((*path, "measure"), "重点任务序号")
            code = row.text("编号", path=(*path, "code"))
            if code in items:
                raise PlanFileError(row.place("编号"), f"编号 {code} 重复")
            first_year = row.integer("起始年度", path=(*path, "years"))
            last_year = row.integer("终止年度")
            item = {
                "code": code,
                "measure_text": row.text("工作措施", path=(*path, "measure_text")),
                "path_text": row.text("工作路径及任务指标", path=(*path, "path_text")),
                "deadline_text": row.text("完成时限(原文)", path=(*path, "deadline_text")),
                "years": _years(first_year, last_year),
                "final_due": row.date("完成日期", optional=True, path=(*path, "final_due")),
                "sections_text": row.text("责任单位(原文)", path=(*path, "sections_text")),
                "counties": row.scope("适用县", path=(*path, "counties")),
                "sections": row.names("责任科室", path=(*path, "sections")),
                "targets": [],
                "notes": [note for note in row.text("整理说明", path=(*path, "notes")).split("\n") if note],
            }
            self.sheets["量化指标"].mark((*path, "targets"))
            self.sheets["点名任务"].mark((*path, "duties"))
            measure["items"].append(item)
            items[code] = (item, path)
        return items

    def _targets(self, items):
        for row in self.sheets["量化指标"].rows():
            item, item_path = self._item_of(row, items)
            path = (*item_path, "targets", len(item["targets"]))
            self.sheets["量化指标"].mark(path, row)
            target = {
                "subject": row.text("指标", path=(*path, "subject")),
                "comparator": row.label("比较", Target.Comparator, path=(*path, "comparator")),
                "value": row.decimal("目标值", path=(*path, "value")),
                "unit": row.text("单位", path=(*path, "unit")),
                "kind": row.label("类型", Indicator.Kind, path=(*path, "kind")),
                "year": row.integer("年度", optional=True, path=(*path, "year")),
            }
            if row.flag("每年", path=(*path, "every_year")):
                target["every_year"] = True
            target["text"] = row.text("原文", path=(*path, "text"))
            item["targets"].append(target)

    def _duties(self, items):
        for row in self.sheets["点名任务"].rows():
            item, item_path = self._item_of(row, items)
            duties = item.setdefault("duties", [])
            path = (*item_path, "duties", len(duties))
            self.sheets["点名任务"].mark(path, row)
            duties.append(
                {
                    "counties": row.names("县(市、区)", path=(*path, "counties")),
                    "years": _years(row.integer("起始年度", path=(*path, "years")), row.integer("终止年度")),
                    "text": row.text("内容", path=(*path, "text")),
                }
            )
        # The plan file writes `duties` after `counties`, and only for an item that has some.
        for item, _ in items.values():
            if "duties" in item:
                duties = item.pop("duties")
                keys = list(item)
                rest = {key: item.pop(key) for key in keys[keys.index("counties") + 1 :]}
                item.update(duties=duties, **rest)

    @staticmethod
    def _item_of(row, items):
        code = row.text("事项编号")
        if code not in items:
            raise PlanFileError(row.place("事项编号"), f"工作表“任务清单”中没有编号 {code}")
        return items[code]

    def check_codes(self):
        """Refuse a workbook that adds, drops, renames or moves an item of a plan with opened rounds."""
        plan = Plan.objects.filter(code=self.parsed["plan"]["code"]).first()
        if plan is None or not plan.rounds.exists():
            return
        loaded = dict(WorkItem.objects.filter(measure__plan=plan).values_list("code", "measure__number"))
        why = "本计划已开启报送轮次,事项编号用来在各轮次间识别事项,工作簿只能修改文字"
        for i, measure in enumerate(self.parsed["measures"]):
            for j, item in enumerate(measure["items"]):
                path = ("measures", i, "items", j)
                code = item["code"]
                if code not in loaded:
                    raise self.refusal((*path, "code"), f"编号 {code} 不是本计划已有的事项:{why}")
                if loaded[code] != measure["number"]:
                    raise self.refusal(
                        (*path, "measure"),
                        f"事项 {code} 原属第 {loaded[code]} 项重点任务,不能移到第 {measure['number']} 项:{why}",
                    )
        codes = {item["code"] for measure in self.parsed["measures"] for item in measure["items"]}
        missing = [code for code in loaded if code not in codes]
        if missing:
            sheet = self.sheets["任务清单"]
            raise PlanFileError(sheet.where(header="编号"), f"缺少事项 {'、'.join(missing)}:{why}")

    def located(self, error):
        """`error` with its place in the plan file's dict turned into the sheet, row and column it came from."""
        path = self._path(error.place)
        return error if path is None else self.refusal(path, error.message, error.place)

    def refusal(self, path, message, place=None):
        """A PlanFileError naming the cell the value at `path` came from (the nearest row or sheet if none)."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.cells:
                sheet, row, header = self.cells[path[:end]]
                where = self.sheets[sheet].where(row, header)
                if header is None and place:
                    where += f"({place})"
                return PlanFileError(where, message)
        return PlanFileError(place or "", message)

    def _path(self, place):
        """The dict path that a PlanFileError place names: "第 7 项重点任务 7a 的 targets[0].value" →
        ("measures", 6, "items", 0, "targets", 0, "value"); "plan.signed" → ("plan", "signed")."""
        match = re.fullmatch(r"第 (\d+) 项重点任务(?: (\S+))? 的 (.+)", place)
        if match is None:
            return _steps(place) if place else None
        index = int(match[1]) - 1
        head = ("measures", index)
        if match[2] is not None:
            codes = [item["code"] for item in self.data["measures"][index]["items"]]
            if match[2] not in codes:
                return None
            head += ("items", codes.index(match[2]))
        return head + _steps(match[3])


def _steps(place):
    return tuple(int(index) if index else name for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", place))


def _years(first, last):
    if last - first > 100:
        return [first, last]  # refused by the plan's checks, named at 起始年度
    return list(range(first, last + 1))


def _open(path):
    try:
        with open(path, "rb") as handle:
            content = io.BytesIO(handle.read())
    except FileNotFoundError:
        raise PlanFileError("", f"找不到计划文件 {path}") from None
    except IsADirectoryError:
        raise PlanFileError("", f"{path} 是目录,不是计划文件") from None
    except OSError as error:
        raise PlanFileError("", f"无法读取计划文件 {path}:{error.strerror}") from None
    try:
        return load_workbook(content)  # from bytes: openpyxl would refuse a path by its extension
    except zipfile.BadZipFile:
        raise PlanFileError("", f"{path} 不是 Excel 工作簿(.xlsx),无法打开") from None
    except Exception as error:  # openpyxl raises many kinds of error for a damaged archive
        raise PlanFileError("", f"{path} 不是可读的 Excel 工作簿(.xlsx):{type(error).__name__}") from None


class _Sheet:
    """One sheet of a workbook being read: its columns by header, its non-empty rows."""

    def __init__(self, book, name, cells):
        if name not in book.sheetnames:
            raise PlanFileError(f"工作簿缺少工作表“{name}”", f"计划工作簿应有工作表 {'、'.join(SHEETS)}")
        self.sheet = book[name]
        self.name = name
        self.cells = cells
        self.columns = {}
        for cell in next(self.sheet.iter_rows(max_row=1), ()):
            if cell.value is None:
                continue
            header = str(cell.value).strip()
            known = [column.header for column in SHEETS[name]]
            if header not in known:
                raise PlanFileError(
                    self.where(1, letter=cell.column_letter), f"未知列“{header}”(应为 {'、'.join(known)})"
                )
            if header in self.columns:
                raise PlanFileError(self.where(1, letter=cell.column_letter), f"列“{header}”重复")
            self.columns[header] = cell.column_letter
        for column in SHEETS[name]:
            if column.header not in self.columns:
                raise PlanFileError(f"工作表“{name}”第 1 行", f"缺少列“{column.header}”")

    def where(self, row=None, header=None, *, letter=None):
        """The place of a cell in words: 工作表“任务清单”第 12 行 E 列(完成时限(原文))."""
        text = f"工作表“{self.name}”"
        if row is not None:
            text += f"第 {row} 行"
        if header is not None:
            text += f" {self.columns[header]} 列({header})"
        elif letter is not None:
            text += f" {letter} 列"
        return text

    def mark(self, path, row=None):
        self.cells[path] = (self.name, row.number if row else None, None)

    def rows(self):
        for cells in self.sheet.iter_rows(min_row=2):
            values = {cell.column_letter: cell for cell in cells}
            row = _Row(self, cells[0].row, {header: values.get(letter) for header, letter in self.columns.items()})
            if not row.empty:
                yield row


class _Row:
    """One row of a sheet, its cells by header, converted strictly; `path` records where a value came from."""

    def __init__(self, sheet, number, cells):
        self.sheet = sheet
        self.number = number
        self.cells = cells

    @property
    def empty(self):
        return all(
            cell is None or cell.value is None or isinstance(cell.value, str) and not cell.value.strip()
            for cell in self.cells.values()
        )

    def place(self, header):
        return self.sheet.where(self.number, header)

    def record(self, path, header):
        self.sheet.cells[path] = (self.sheet.name, self.number, header)

    def _value(self, header, path):
        if path is not None:
            self.record(path, header)
        cell = self.cells[header]
        if cell is None:
            return None
        if cell.data_type == "f":
            raise PlanFileError(self.place(header), f"不能是公式({cell.value}),请填写值")
        return cell.value

    def text(self, header, *, optional=False, path=None):
        value = self._value(header, path)
        if value is None:
            return None if optional else ""
        if not isinstance(value, str):
            raise PlanFileError(self.place(header), f"应为文字,而非{_kind(value)} {value!r}(请把单元格设为文本格式)")
        return value.replace("\r\n", "\n")

    def integer(self, header, *, optional=False, path=None):
        value = self._value(header, path)
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if value is None or isinstance(value, str) and not value.strip():
            if optional:
                return None
            raise PlanFileError(self.place(header), "不能为空,应为整数")
        raise PlanFileError(self.place(header), f"应为整数,而非{_kind(value)} {_shown(value)}")

    def date(self, header, *, optional=False, path=None):
        value = self._value(header, path)
        if isinstance(value, datetime.datetime):
            if value.time() != datetime.time():
                raise PlanFileError(self.place(header), f"应为日期,不带时刻:{value}")
            return value.date().isoformat()
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, str) and value.strip():
            return value.strip()  # an ISO date, checked by the plan's checks
        if value is None or isinstance(value, str):
            if optional:
                return None
            raise PlanFileError(self.place(header), "不能为空,应为日期")
        raise PlanFileError(self.place(header), f"应为日期(YYYY-MM-DD),而非{_kind(value)} {_shown(value)}")

    def decimal(self, header, *, path=None):
        value = self._value(header, path)
        if isinstance(value, bool | datetime.date):
            raise PlanFileError(self.place(header), f"应为数值,而非{_kind(value)} {_shown(value)}")
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return plain_number(Decimal(repr(value)))
        return self.text(header)

    def label(self, header, choices, *, path=None):
        """A choice written as its Chinese label (its stored value is accepted too)."""
        value = self.text(header, path=path).strip()
        by_label = {label: key for key, label in choices.choices}
        if value in by_label:
            return by_label[value]
        if value in choices.values:
            return value
        raise PlanFileError(self.place(header), f"应为 {'、'.join(by_label)} 之一,而非 {value!r}")

    def flag(self, header, *, path=None):
        value = self.text(header, optional=True, path=path)
        if value is None or value.strip() in ("", "否"):
            return False
        if value.strip() == YES:
            return True
        raise PlanFileError(self.place(header), f"应为“是”或留空,而非 {value!r}")

    def names(self, header, *, path=None):
        """A 、-separated list of names."""
        value = self.text(header, path=path)
        return [name.strip() for name in value.split(SEPARATOR)] if value.strip() else []

    def scope(self, header, *, path=None):
        """An item's counties: 全部 ("all") or a 、-separated list of county names."""
        value = self.text(header, path=path).strip()
        if not value:
            raise PlanFileError(self.place(header), f"不能为空,应为“{ALL_COUNTIES}”或以“、”分隔的县(市、区)名称")
        return "all" if value == ALL_COUNTIES else self.names(header)


def _kind(value):
    if isinstance(value, bool):
        return "逻辑值"
    if isinstance(value, datetime.date):
        return "日期"
    if isinstance(value, int | float | Decimal):
        return "数值"
    return "文字"


def _shown(value):
    return value.isoformat() if isinstance(value, datetime.date) else repr(value)
