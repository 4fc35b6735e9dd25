"""The plan file against the document it was derived from."""

import re
from pathlib import Path

from django.conf import settings

SOURCE = Path(settings.PLAN_FILE).parent / "source" / "lvliang-minzheng-2022-31.txt"
SECTIONS = ["基政科", "社管科", "社事科", "救助科", "区划科"]


def squeeze(text):
    return re.sub(r"\s+", "", text)


def document():
    return SOURCE.read_text(encoding="utf-8")


def body_measures():
    """Number → (title, 责任单位 line) as printed in the body of the document."""
    body = document().split("提升基层治理体系和治理能力现代化建设水平的任务清单")[0]
    found = {}
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        match = re.match(r"^(\d{1,2})\.([^。]+)。", line)
        if match and 1 <= int(match.group(1)) <= 21:
            following = lines[index + 1]
            found[int(match.group(1))] = (match.group(2), following.removeprefix("责任单位:"))
    return found


def table_rows_per_measure():
    """How many 完成时限 cells the document's task list prints under each measure."""
    table = document().split("提升基层治理体系和治理能力现代化建设水平的任务清单")[1]
    counts = {}
    current = None
    for cell in (cell.strip() for cell in table.split("\n\n")):
        heading = re.match(r"^(\d{1,2})\.?[^\d]", cell)
        if heading and int(heading.group(1)) <= 21 and len(cell) < 40:
            current = int(heading.group(1))
        elif current and re.fullmatch(r"(持续推进|\d{4}\s*年(底)?(\s*-\s*\d{4}年)?)", squeeze(cell)):
            counts[current] = counts.get(current, 0) + 1
        elif current and squeeze(cell) == "-2025年":
            continue  # the second half of a 完成时限 cell split over two lines
    return counts


def test_the_plan_has_the_documents_21_measures_in_five_groups(plan_data):
    assert [measure["number"] for measure in plan_data["measures"]] == list(range(1, 22))
    assert [group["number"] for group in plan_data["groups"]] == ["一", "二", "三", "四", "五"]
    assert [measure["group"] for measure in plan_data["measures"]] == (
        ["一"] * 5 + ["二"] * 3 + ["三"] * 3 + ["四"] * 7 + ["五"] * 3
    )


def test_measure_titles_and_sections_match_the_body_of_the_document(plan_data):
    printed = body_measures()
    assert sorted(printed) == list(range(1, 22))
    for measure in plan_data["measures"]:
        title, sections_line = printed[measure["number"]]
        assert measure["title"] == title
        assert measure["sections_text"] == sections_line
        named = [name for name in SECTIONS if name in sections_line]
        if "各业务科室" not in sections_line:
            assert sorted(measure["sections"]) == sorted(named)
            assert measure["sections"][0] == min(named, key=sections_line.index), measure["number"]


def test_each_measure_has_as_many_items_as_the_task_list_has_rows(plan_data):
    rows = table_rows_per_measure()
    for measure in plan_data["measures"]:
        expected = rows.get(measure["number"], 0) or 1  # measure 21: one item from the body text
        assert len(measure["items"]) == expected, measure["number"]
    assert sum(len(measure["items"]) for measure in plan_data["measures"]) == 44


def test_every_printed_text_appears_in_the_document(plan_data):
    text = squeeze(document())
    for measure in plan_data["measures"]:
        assert squeeze(measure["body"]) in text
        for item in measure["items"]:
            for field in ("measure_text", "path_text", "deadline_text", "sections_text"):
                assert squeeze(item[field]) in text, (item["code"], field)
            for target in item["targets"]:
                assert squeeze(target["text"]) in squeeze(item["path_text"]), item["code"]


def test_deadlines_are_normalised_to_the_years_they_cover(plan_data):
    for measure in plan_data["measures"]:
        for item in measure["items"]:
            years = list(range(item["first_year"], item["last_year"] + 1))
            printed = squeeze(item["deadline_text"])
            if printed in {"持续推进", "2022年-2025年", ""}:
                assert years == [2022, 2023, 2024, 2025], item["code"]
                assert item["final_due"] is None
            elif printed == "2022年":
                assert years == [2022], item["code"]
            elif printed == "2023年底":
                assert years == [2022, 2023]
                assert item["final_due"].isoformat() == "2023-12-31"
            else:
                raise AssertionError(f"unexpected deadline {printed!r} in {item['code']}")


def test_section_normalisation_follows_the_printed_cell(plan_data):
    items = {item["code"]: item for measure in plan_data["measures"] for item in measure["items"]}
    for code, item in items.items():
        printed = item["sections_text"]
        if "各业务科室" in printed:
            assert sorted(item["sections"]) == sorted(SECTIONS)
        else:
            named = [name for name in SECTIONS if name in printed]
            assert item["sections"] == sorted(named, key=printed.index), code
    assert items["18b"]["sections"][0] == "社管科"
    assert items["19a"]["sections"] == ["基政科", "区划科"]
    assert items["6c"]["sections_text"].startswith("各市民政局")
    assert items["1b"]["sections_text"] == items["1a"]["sections_text"]  # a merged cell


def test_targets_are_typed_and_percentages_stay_within_100(plan_data):
    targets = [t for m in plan_data["measures"] for item in m["items"] for t in item["targets"]]
    assert len(targets) >= 20
    for target in targets:
        assert target["value"] >= 0
        if target["kind"] == "percent":
            assert target["unit"] == "%" and target["value"] <= 100
        if target["kind"] == "count":
            assert target["value"] == int(target["value"])
