"""Reading, loading and exporting the plan file.

The plan lives in the repository as a reviewed JSON file (see `assignments/plan/NOTES.md` for how it
was derived from the document). `parse` checks a file's structure and names the first bad place;
`load` writes a parsed plan by natural keys, changing only what differs; `export` gives the loaded
plan back in the file's own shape, so that export → load → export is byte-identical.
"""

import datetime
import json
import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F, Max, ProtectedError

from .models import (
    Duty,
    DutyCounty,
    Indicator,
    ItemCounty,
    ItemSection,
    Measure,
    MeasureGroup,
    MeasureSection,
    Plan,
    PlanUnit,
    Target,
    Unit,
    WorkItem,
    plain_number,
)
from .selectors import open_assignments


class PlanFileError(Exception):
    """A plan file that cannot be loaded; the message names the place in the file."""

    def __init__(self, place, message):
        self.place = place
        self.message = message
        super().__init__(f"{place}: {message}" if place else message)


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def changed(self):
        return bool(self.created or self.updated or self.deleted)


def _at(place, key):
    return f"{place}.{key}" if place else key


class _Reader:
    """Typed access to one object of the file, remembering where it is for error messages.

    A measure or an item is named as people name it ("第 7 项重点任务 7a 的 targets[0].value") once its
    number and code are read; before that, by its position in the file ("measures[6].items[0]").
    """

    def __init__(self, value, place, label=""):
        if not isinstance(value, dict):
            raise PlanFileError(place, "应为对象")
        self.value = value
        self.place = place
        self.label = label

    def at(self, key):
        """The place of `key` in this object, for an error message."""
        return f"{self.label} 的 {key}" if self.label else _at(self.place, key)

    def named(self, label):
        """The same object, named `label` in error messages from now on."""
        return _Reader(self.value, label, label)

    def _get(self, key, types, type_name, optional=False):
        where = self.at(key)
        if key not in self.value:
            if optional:
                return None
            raise PlanFileError(where, "缺少此项")
        value = self.value[key]
        if value is None and optional:
            return None
        if not isinstance(value, types) or isinstance(value, bool) and bool not in types:
            raise PlanFileError(where, f"应为{type_name}")
        return value

    def text(self, key, *, required=True, max_length=None):
        where = self.at(key)
        value = self._get(key, (str,), "字符串")
        if required and not value.strip():
            raise PlanFileError(where, "不能为空")
        if max_length is not None and len(value) > max_length:
            raise PlanFileError(where, f"不能超过 {max_length} 个字符")
        return value

    def integer(self, key, *, optional=False, minimum=None, maximum=None):
        value = self._get(key, (int,), "整数", optional=optional)
        if value is None:
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise PlanFileError(self.at(key), f"应在 {minimum} 到 {maximum} 之间")
        return value

    def date(self, key, *, optional=False):
        value = self._get(key, (str,), "日期字符串(YYYY-MM-DD)", optional=optional)
        if value is None:
            return None
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise PlanFileError(self.at(key), f"不是有效日期:{value!r}") from None

    def decimal(self, key, *, max_digits, decimal_places):
        """A non-negative number that its column (`max_digits`, `decimal_places`) holds exactly."""
        value = self._get(key, (str,), "数值字符串")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise PlanFileError(self.at(key), f"不是有效数值:{value!r}") from None
        if not number.is_finite() or number < 0:
            raise PlanFileError(self.at(key), f"应为非负数:{value!r}")
        whole_digits = max_digits - decimal_places
        if number >= 10**whole_digits:
            raise PlanFileError(self.at(key), f"数值过大:{value!r}(整数部分最多 {whole_digits} 位)")
        if number != number.quantize(Decimal(1).scaleb(-decimal_places), rounding=ROUND_DOWN):
            raise PlanFileError(self.at(key), f"小数位数过多:{value!r}(最多 {decimal_places} 位小数)")
        return number

    def items(self, key, *, allow_empty=False):
        value = self._get(key, (list,), "数组")
        if not value and not allow_empty:
            raise PlanFileError(self.at(key), "不能为空")
        return value

    def child(self, key):
        return _Reader(self._get(key, (dict,), "对象"), self.at(key))

    def children(self, key, *, allow_empty=False):
        values = self.items(key, allow_empty=allow_empty)
        return [_Reader(value, f"{self.at(key)}[{i}]") for i, value in enumerate(values)]

    def choice(self, key, choices):
        value = self.text(key)
        if value not in choices:
            raise PlanFileError(self.at(key), f"应为 {'、'.join(choices)} 之一,而非 {value!r}")
        return value

    def strings(self, key, *, allow_empty=False):
        values = self.items(key, allow_empty=allow_empty)
        for i, value in enumerate(values):
            if not isinstance(value, str) or not value.strip():
                raise PlanFileError(f"{self.at(key)}[{i}]", "应为非空字符串")
        if len(set(values)) != len(values):
            raise PlanFileError(self.at(key), "有重复的项")
        return values


def read(path):
    """Read and parse a plan file from disk."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise PlanFileError("", f"找不到计划文件 {path}") from None
    except IsADirectoryError:
        raise PlanFileError("", f"{path} 是目录,不是计划文件") from None
    except OSError as error:
        raise PlanFileError("", f"无法读取计划文件 {path}:{error.strerror}") from None
    except UnicodeDecodeError as error:
        raise PlanFileError("", f"计划文件不是 UTF-8 编码:{error}") from None
    except json.JSONDecodeError as error:
        raise PlanFileError(f"第 {error.lineno} 行第 {error.colno} 列", f"不是有效的 JSON:{error.msg}") from None
    return parse(data)


def parse(data):
    """Check a decoded plan file and return it as a normalised dict; raise PlanFileError."""
    root = _Reader(data, "")
    plan = root.child("plan")
    first_year = plan.integer("first_year", minimum=2000, maximum=2100)
    last_year = plan.integer("last_year", minimum=first_year, maximum=2100)
    parsed_plan = {
        "code": plan.text("code", max_length=64),
        "title": plan.text("title", max_length=255),
        "issuer": plan.text("issuer", max_length=64),
        "signed": plan.date("signed"),
        "published": plan.date("published", optional=True),
        "first_year": first_year,
        "last_year": last_year,
        "report_month": plan.integer("report_month", minimum=1, maximum=12),
        "report_day": plan.integer("report_day", minimum=1, maximum=31),
        **_parse_document(plan, range(first_year, last_year + 1)),
    }
    coordinator = plan.text("coordinator", max_length=64)
    years = range(first_year, last_year + 1)

    units = root.child("units")
    city = units.text("city", max_length=64)
    sections = []
    for section in units.children("sections"):
        sections.append(
            {"name": section.text("name", max_length=64), "full_name": section.text("full_name", required=False)}
        )
    section_names = [section["name"] for section in sections]
    counties = units.strings("counties")
    names = [city, *section_names, *counties]
    if len(set(names)) != len(names):
        raise PlanFileError("units", "单位名称有重复")
    if coordinator not in section_names:
        raise PlanFileError("plan.coordinator", f"未知科室 {coordinator!r}(应为 {'、'.join(section_names)} 之一)")
    parsed_plan["coordinator"] = coordinator

    groups = []
    for group in root.children("groups"):
        groups.append({"number": group.text("number", max_length=4), "title": group.text("title", max_length=255)})
    group_numbers = [group["number"] for group in groups]
    if len(set(group_numbers)) != len(group_numbers):
        raise PlanFileError("groups", "分组序号有重复")

    measures = []
    seen_codes = set()
    for index, measure in enumerate(root.children("measures")):
        number = measure.integer("number", minimum=1, maximum=999)
        if number != index + 1:
            raise PlanFileError(measure.at("number"), f"应为 {index + 1}(按顺序编号),而非 {number}")
        measure = measure.named(f"第 {number} 项重点任务")
        measure_sections = measure.strings("sections")
        _check_sections(measure, "sections", measure_sections, section_names)
        items = []
        for item in measure.children("items"):
            code = item.text("code", max_length=8)
            if code in seen_codes:
                raise PlanFileError(item.at("code"), f"编号 {code} 重复")
            seen_codes.add(code)
            item = item.named(f"{measure.label} {code}")
            item_years = item.items("years")
            if any(not isinstance(year, int) or isinstance(year, bool) for year in item_years):
                raise PlanFileError(item.at("years"), "应为整数年度的数组")
            if item_years != list(range(item_years[0], item_years[-1] + 1)):
                raise PlanFileError(item.at("years"), "应为连续递增的年度")
            if item_years[0] not in years or item_years[-1] not in years:
                raise PlanFileError(item.at("years"), f"应在计划年度 {first_year}–{last_year} 之内")
            final_due = item.date("final_due", optional=True)
            if final_due is not None and final_due.year != item_years[-1]:
                raise PlanFileError(item.at("final_due"), "应落在最后一个年度之内")
            deadline_text = item.text("deadline_text", required=False, max_length=64)
            _check_deadline(item, deadline_text, item_years, final_due, years)
            path_text = item.text("path_text", required=False)
            item_sections = item.strings("sections")
            _check_sections(item, "sections", item_sections, section_names)
            scope = _parse_scope(item, counties, section_names)
            notes = item.items("notes", allow_empty=True)
            if any(not isinstance(note, str) for note in notes):
                raise PlanFileError(item.at("notes"), "应为字符串数组")
            targets = _parse_targets(item, path_text, item_years, first_year, last_year)
            duties = _parse_duties(item, path_text, item_years, scope or counties, counties)
            items.append(
                {
                    "code": code,
                    "measure_text": item.text("measure_text"),
                    "path_text": path_text,
                    "deadline_text": deadline_text,
                    "first_year": item_years[0],
                    "last_year": item_years[-1],
                    "final_due": final_due,
                    "sections_text": item.text("sections_text", max_length=255),
                    "counties": scope,
                    "sections": item_sections,
                    "notes": notes,
                    "targets": targets,
                    "duties": duties,
                }
            )
        measures.append(
            {
                "number": number,
                "title": measure.text("title", max_length=255),
                "group": measure.choice("group", group_numbers),
                "body": measure.text("body"),
                "sections_text": measure.text("sections_text", max_length=255),
                "sections": measure_sections,
                "items": items,
            }
        )
    return {
        "plan": parsed_plan,
        "units": {"city": city, "sections": sections, "counties": counties},
        "groups": groups,
        "measures": measures,
    }


def _parse_document(plan, years):
    """The document's own parts around the task list: 指导思想, 工作目标 by year, 保障措施 (all optional)."""
    guiding = plan.text("guiding", required=False) if plan.value.get("guiding") is not None else ""
    goals = []
    if plan.value.get("goals") is not None:
        for goal in plan.children("goals", allow_empty=True):
            year = goal.integer("year", minimum=years[0], maximum=years[-1])
            goals.append({"year": year, "text": goal.text("text")})
        goal_years = [goal["year"] for goal in goals]
        if goal_years != sorted(set(goal_years)):
            raise PlanFileError(plan.at("goals"), "应按年度递增,每年一条")
    safeguards = {}
    if plan.value.get("safeguards") is not None:
        block = plan.child("safeguards")
        safeguards = {"heading": block.text("heading", max_length=255), "paragraphs": block.strings("paragraphs")}
    return {"guiding": guiding, "goals": goals, "safeguards": safeguards}


def _parse_targets(item, path_text, item_years, first_year, last_year):
    """The row's targets, in the file's order. Targets of one subject are one indicator (asked once a
    round): they share its unit and kind and differ in year; `every_year` marks a yearly duty."""
    targets = []
    indicators = {}
    for target in item.children("targets", allow_empty=True):
        target_year = target.integer("year", optional=True, minimum=first_year, maximum=last_year)
        if target_year is not None and target_year not in item_years:
            raise PlanFileError(
                target.at("year"), f"应在本行的年度 {item_years[0]}–{item_years[-1]} 之内,而非 {target_year}"
            )
        every_year = target.value.get("every_year", False)
        if not isinstance(every_year, bool):
            raise PlanFileError(target.at("every_year"), "应为 true 或 false")
        if every_year and target_year is not None:
            raise PlanFileError(target.at("every_year"), "每年目标不能再写年度(year 应为 null)")
        text = target.text("text", max_length=255)
        if _squeeze(text) not in _squeeze(path_text):
            raise PlanFileError(target.at("text"), f"在本行的工作路径及任务指标中找不到:{text!r}")
        parsed = {
            "subject": target.text("subject", max_length=128),
            "comparator": target.choice("comparator", Target.Comparator.values),
            "value": target.decimal("value", max_digits=_VALUE.max_digits, decimal_places=_VALUE.decimal_places),
            "unit": target.text("unit", max_length=16),
            "kind": target.choice("kind", Indicator.Kind.values),
            "year": target_year,
            "every_year": every_year,
            "text": text,
        }
        if parsed["kind"] == Indicator.Kind.PERCENT and parsed["value"] > 100:
            raise PlanFileError(target.at("value"), "百分比不能超过 100")
        first = indicators.setdefault(parsed["subject"], parsed)
        if (first["unit"], first["kind"]) != (parsed["unit"], parsed["kind"]):
            raise PlanFileError(
                target.at("unit"),
                f"同一指标“{parsed['subject']}”的单位和类型应一致({first['unit']}、{first['kind']})",
            )
        if any(other["subject"] == parsed["subject"] and other["year"] == target_year for other in targets):
            when = f"{target_year} 年" if target_year else "不写年度"
            raise PlanFileError(target.at("year"), f"指标“{parsed['subject']}”已有{when}的目标")
        targets.append(parsed)
    return targets


def _parse_scope(item, counties, section_names):
    """The counties an item is issued to: "all" (every county the plan names, given as []) or a list of
    them, in the file's order."""
    where = item.at("counties")
    if "counties" not in item.value:
        raise PlanFileError(where, "缺少此项")
    value = item.value["counties"]
    if value == "all":
        return []
    if not isinstance(value, list) or not value:
        raise PlanFileError(where, '应为 "all" 或县(市、区)名称的非空数组')
    for i, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            raise PlanFileError(f"{where}[{i}]", "应为非空字符串")
        if name in value[:i]:
            raise PlanFileError(f"{where}[{i}]", f"{name!r} 重复")
        if name in section_names:
            raise PlanFileError(f"{where}[{i}]", f"{name!r} 是科室,不是县(市、区):适用县只能列计划所列的县")
        if name not in counties:
            raise PlanFileError(f"{where}[{i}]", f"未知的县(市、区) {name!r}(应为 units.counties 所列之一)")
    return list(value)


def _parse_duties(item, path_text, item_years, counties, all_counties):
    """Parts of the row the document asks of named counties in named years (optional `duties`), of the
    row's `counties` (its scope, or all the plan names)."""
    if item.value.get("duties") is None:
        return []
    duties = []
    for duty in item.children("duties"):
        names = duty.strings("counties")
        for i, name in enumerate(names):
            if name not in counties:
                raise PlanFileError(
                    f"{duty.at('counties')}[{i}]",
                    f"未知的县(市、区) {name!r}"
                    if name not in all_counties
                    else f"{name!r} 不在本行的适用县({'、'.join(counties)})之内",
                )
        duty_years = duty.items("years")
        if any(not isinstance(year, int) or isinstance(year, bool) for year in duty_years) or duty_years != list(
            range(duty_years[0], duty_years[-1] + 1)
        ):
            raise PlanFileError(duty.at("years"), "应为连续递增的整数年度")
        if duty_years[0] not in item_years or duty_years[-1] not in item_years:
            raise PlanFileError(duty.at("years"), f"应在本行的年度 {item_years[0]}–{item_years[-1]} 之内")
        text = duty.text("text")
        if _squeeze(text) not in _squeeze(path_text):
            raise PlanFileError(duty.at("text"), f"在本行的工作路径及任务指标中找不到:{text!r}")
        duties.append({"counties": names, "first_year": duty_years[0], "last_year": duty_years[-1], "text": text})
    return duties


def _check_sections(reader, key, names, known):
    for i, name in enumerate(names):
        if name not in known:
            raise PlanFileError(f"{reader.at(key)}[{i}]", f"未知科室 {name!r}(应为 {'、'.join(known)} 之一)")


_VALUE = Target._meta.get_field("value")
_YEAR = re.compile(r"(\d{4})年(底)?")


def _squeeze(text):
    """Text with all whitespace removed: the printed text may break a phrase over lines or spaces."""
    return re.sub(r"\s+", "", text)


def _check_deadline(item, deadline_text, item_years, final_due, plan_years):
    """The row's years and final date must be those its printed deadline names (see plan/NOTES.md):
    no year ("持续推进") → the whole plan; "2022年-2025年" → that span; "2022年" → that year;
    "2023年底" → from the plan's first year to then, due on 31 December."""
    found = _YEAR.findall(_squeeze(deadline_text))
    named = [int(year) for year, _ in found]
    by_year_end = bool(found) and found[-1][1] == "底"
    if not named:
        expected = list(plan_years)
    elif by_year_end and len(named) == 1:
        expected = list(range(plan_years[0], named[0] + 1))
    else:
        expected = list(range(min(named), max(named) + 1))
    if item_years != expected:
        shown = f"{expected[0]}–{expected[-1]} 年" if expected else "计划年度之内的年份"
        raise PlanFileError(
            item.at("years"),
            f"与完成时限 {deadline_text!r} 不符:应为 {shown},而非 {item_years[0]}–{item_years[-1]} 年",
        )
    expected_due = datetime.date(named[-1], 12, 31) if by_year_end else None
    if final_due != expected_due:
        shown = expected_due.isoformat() if expected_due else "空(完成时限未写明日期)"
        raise PlanFileError(item.at("final_due"), f"与完成时限 {deadline_text!r} 不符:应为 {shown}")


class _Writer:
    """Creates or updates rows by natural key, saving only what differs, and counts what it did."""

    def __init__(self):
        self.report = LoadReport()

    def upsert(self, model, lookup, values):
        obj = model.objects.filter(**lookup).first()
        if obj is None:
            self.report.created += 1
            return model.objects.create(**lookup, **values)
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if changed:
            for name in changed:
                setattr(obj, name, values[name])
            obj.save(update_fields=changed)
            self.report.updated += 1
        return obj

    def delete_others(self, queryset):
        try:
            count, _ = queryset.delete()
        except ProtectedError:
            raise PlanFileError("", "计划文件删除了已被使用的数据(例如已有下达事项的工作事项),不能载入") from None
        self.report.deleted += count


@transaction.atomic
def load(parsed):
    """Write a parsed plan to the database; return a LoadReport. Idempotent by natural keys."""
    writer = _Writer()
    units = _write_units(writer, parsed["units"])

    plan_data = dict(parsed["plan"])
    plan_data["coordinator"] = units[plan_data["coordinator"]]
    plan = writer.upsert(Plan, {"code": plan_data.pop("code")}, plan_data)
    for position, unit in enumerate(units.values()):
        writer.upsert(PlanUnit, {"plan": plan, "unit": unit}, {"position": position})
    writer.delete_others(plan.plan_units.exclude(unit__in=units.values()))

    groups = {}
    for position, group in enumerate(parsed["groups"]):
        groups[group["number"]] = writer.upsert(
            MeasureGroup, {"plan": plan, "number": group["number"]}, {"title": group["title"], "position": position}
        )

    measure_ids = []
    for data in parsed["measures"]:
        measure = writer.upsert(
            Measure,
            {"plan": plan, "number": data["number"]},
            {
                "group": groups[data["group"]],
                "title": data["title"],
                "body": data["body"],
                "sections_text": data["sections_text"],
            },
        )
        measure_ids.append(measure.id)
        place = f"第 {measure.number} 项重点任务"
        _write_sections(
            writer,
            MeasureSection,
            "measure",
            measure,
            data["sections"],
            units,
            place=f"{place} 的 sections",
            in_use=open_assignments().filter(item__measure=measure),
        )
        item_ids = []
        for position, item_data in enumerate(data["items"]):
            values = {key: item_data[key] for key in _ITEM_FIELDS}
            item = writer.upsert(
                WorkItem, {"measure": measure, "code": item_data["code"]}, {**values, "position": position}
            )
            item_ids.append(item.id)
            _write_sections(
                writer,
                ItemSection,
                "item",
                item,
                item_data["sections"],
                units,
                place=f"{place} {item.code} 的 sections",
                in_use=open_assignments().filter(item=item),
            )
            _write_scope(writer, item, item_data["counties"], units)
            _write_indicators(writer, item, item_data["targets"])
            _write_duties(writer, item, item_data["duties"], units)
        writer.delete_others(measure.items.exclude(id__in=item_ids))
    writer.delete_others(plan.measures.exclude(id__in=measure_ids))
    writer.delete_others(plan.groups.exclude(number__in=groups))
    return writer.report


def _write_indicators(writer, item, targets):
    """The item's indicators (one per subject, in the order of first mention) and their targets, each
    found by its natural key: an indicator by subject, a target by its indicator and year. A target
    or an indicator that submitted values refer to is not deleted (the load is refused)."""
    grouped = {}
    for position, target in enumerate(targets):
        grouped.setdefault(target["subject"], []).append((position, target))
    writer.delete_others(item.indicators.exclude(subject__in=grouped))
    wanted = {subject: position for position, subject in enumerate(grouped)}
    current = dict(item.indicators.values_list("subject", "position"))
    if any(current.get(subject, position) != position for subject, position in wanted.items()) or any(
        subject not in current and position in current.values() for subject, position in wanted.items()
    ):
        item.indicators.update(position=F("position") + len(wanted) + len(current))  # out of the new order's way
    for subject, position in wanted.items():
        first = grouped[subject][0][1]
        indicator = writer.upsert(
            Indicator,
            {"item": item, "subject": subject},
            {"position": position, "unit": first["unit"], "kind": first["kind"]},
        )
        kept = []
        for target_position, target in grouped[subject]:
            values = {key: target[key] for key in ("comparator", "value", "every_year", "text")}
            kept.append(
                writer.upsert(
                    Target, {"indicator": indicator, "year": target["year"]}, {**values, "position": target_position}
                ).pk
            )
        writer.delete_others(indicator.targets.exclude(pk__in=kept))


def _write_scope(writer, item, names, units):
    """The counties the item is scoped to, in the file's order (none: every county). Assignments already
    issued stay as they are; the scope decides what later rounds issue."""
    links = ItemCounty.objects.filter(item=item)
    if [link.unit.name for link in links.select_related("unit")] == names:
        return
    writer.delete_others(links)
    ItemCounty.objects.bulk_create(
        ItemCounty(item=item, unit=units[name], position=position) for position, name in enumerate(names)
    )
    writer.report.created += len(names)


def _write_duties(writer, item, duties, units):
    """The item's duties of named counties, by position, with their counties in the document's order."""
    for position, data in enumerate(duties):
        duty = writer.upsert(
            Duty,
            {"item": item, "position": position},
            {"text": data["text"], "first_year": data["first_year"], "last_year": data["last_year"]},
        )
        links = DutyCounty.objects.filter(duty=duty)
        if [link.unit.name for link in links.select_related("unit")] != data["counties"]:
            writer.delete_others(links)
            DutyCounty.objects.bulk_create(
                DutyCounty(duty=duty, unit=units[name], position=index) for index, name in enumerate(data["counties"])
            )
            writer.report.created += len(data["counties"])
    writer.delete_others(item.duties.filter(position__gte=len(duties)))


def _write_units(writer, units_data):
    """The file's units by name, created when new. Units are shared by every plan, so a plan file never
    renames, reorders or deletes them; a name already used by a unit of another kind is refused."""
    rows = [("units.city", Unit.Kind.CITY, units_data["city"], "")]
    rows += [
        (f"units.sections[{i}]", Unit.Kind.SECTION, section["name"], section["full_name"])
        for i, section in enumerate(units_data["sections"])
    ]
    rows += [(f"units.counties[{i}]", Unit.Kind.COUNTY, name, "") for i, name in enumerate(units_data["counties"])]
    existing = {unit.name: unit for unit in Unit.objects.filter(name__in=[name for _, _, name, _ in rows])}
    last_position = Unit.objects.aggregate(last=Max("position"))["last"]
    next_position = 0 if last_position is None else last_position + 1
    units = {}
    for place, kind, name, full_name in rows:
        unit = existing.get(name)
        if unit is None:
            unit = Unit.objects.create(name=name, kind=kind, full_name=full_name, position=next_position)
            next_position += 1
            writer.report.created += 1
        elif unit.kind != kind:
            raise PlanFileError(
                place,
                f"单位 {name!r} 已是{unit.get_kind_display()},不能再作为{Unit.Kind(kind).label}(单位由各计划共用)",
            )
        elif full_name and unit.full_name != full_name:
            # An empty full name leaves the one another plan gave.
            unit.full_name = full_name
            unit.save(update_fields=["full_name"])
            writer.report.updated += 1
        units[name] = unit
    return units


_ITEM_FIELDS = [
    "measure_text",
    "path_text",
    "deadline_text",
    "first_year",
    "last_year",
    "final_due",
    "sections_text",
    "notes",
]


def _write_sections(writer, model, owner_field, owner, names, units, *, place, in_use):
    """Make the owner's ordered section links match `names`, touching nothing when they already do.

    The sections decide who leads, countersigns and sees an assignment, so they do not change under
    assignments still open (`in_use`): those are accepted or cancelled first.
    """
    links = model.objects.filter(**{owner_field: owner})
    current = [link.unit.name for link in links.select_related("unit")]
    if current == names:
        return
    count = in_use.count() if current else 0
    if count:
        raise PlanFileError(
            place,
            f"有 {count} 件未办结的督办事项,不能把责任科室由 {'、'.join(current)} 改为 {'、'.join(names)}"
            "(请先验收或撤销这些事项)",
        )
    writer.delete_others(links)
    model.objects.bulk_create(
        model(**{owner_field: owner}, unit=units[name], position=position) for position, name in enumerate(names)
    )
    writer.report.created += len(names)


def export(plan):
    """The loaded plan as a dict in the plan file's shape."""
    measures = (
        plan.measures.select_related("group")
        .prefetch_related(
            "measure_sections__unit",
            "items__item_sections__unit",
            "items__item_counties__unit",
            "items__indicators__targets",
            "items__duties__duty_counties__unit",
        )
        .order_by("number")
    )
    units = [link.unit for link in plan.plan_units.select_related("unit").order_by("position")]
    return {
        "plan": {
            "code": plan.code,
            "title": plan.title,
            "issuer": plan.issuer,
            "signed": plan.signed.isoformat(),
            "published": plan.published.isoformat() if plan.published else None,
            "first_year": plan.first_year,
            "last_year": plan.last_year,
            "report_month": plan.report_month,
            "report_day": plan.report_day,
            "coordinator": plan.coordinator.name if plan.coordinator else None,
            "guiding": plan.guiding,
            # PostgreSQL's jsonb keeps no key order: write the file's own order back
            "goals": [{"year": goal["year"], "text": goal["text"]} for goal in plan.goals],
            "safeguards": (
                {"heading": plan.safeguards["heading"], "paragraphs": plan.safeguards["paragraphs"]}
                if plan.safeguards
                else None
            ),
        },
        "units": {
            "city": next((unit.name for unit in units if unit.kind == Unit.Kind.CITY), None),
            "sections": [
                {"name": unit.name, "full_name": unit.full_name} for unit in units if unit.kind == Unit.Kind.SECTION
            ],
            "counties": [unit.name for unit in units if unit.kind == Unit.Kind.COUNTY],
        },
        "groups": [{"number": group.number, "title": group.title} for group in plan.groups.all()],
        "measures": [
            {
                "number": measure.number,
                "title": measure.title,
                "group": measure.group.number,
                "body": measure.body,
                "sections_text": measure.sections_text,
                "sections": [unit.name for unit in measure.ordered_sections()],
                "items": [_export_item(item) for item in measure.items.all()],
            }
            for measure in measures
        ],
    }


def _export_item(item):
    return {
        "code": item.code,
        "measure_text": item.measure_text,
        "path_text": item.path_text,
        "deadline_text": item.deadline_text,
        "years": item.years,
        "final_due": item.final_due.isoformat() if item.final_due else None,
        "sections_text": item.sections_text,
        "counties": [unit.name for unit in item.scope()] or "all",
        **({"duties": [_export_duty(duty) for duty in item.duties.all()]} if item.duties.all() else {}),
        "sections": [unit.name for unit in item.ordered_sections()],
        "targets": [
            {
                "subject": target.indicator.subject,
                "comparator": target.comparator,
                "value": plain_number(target.value),
                "unit": target.indicator.unit,
                "kind": target.indicator.kind,
                "year": target.year,
                **({"every_year": True} if target.every_year else {}),
                "text": target.text,
            }
            for target in sorted(
                (target for indicator in item.indicators.all() for target in indicator.targets.all()),
                key=lambda target: target.position,
            )
        ],
        "notes": item.notes,
    }


def _export_duty(duty):
    return {
        "counties": [unit.name for unit in duty.ordered_counties()],
        "years": duty.years,
        "text": duty.text,
    }


def dumps(data):
    """The canonical text of a plan file: what `export_plan` prints and the repository stores."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
