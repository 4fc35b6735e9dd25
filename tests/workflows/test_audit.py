"""审计 (/audit/): the auditors' event search with paging, its CSV and xlsx exports, and no action button
for an auditor anywhere."""

import csv
import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from assignments.models import Measure
from workflows import rounds
from workflows.models import Event

from .conftest import ITEM, YEAR

AUDIT = reverse("audit:index")


def rows(response):
    return list(response.context["page"].object_list)


def test_an_auditor_finds_events_by_unit_action_actor_measure_item_and_day(
    client, assignment, other_county_assignment, walk, auditor
):
    walked = walk.to(assignment, "returned")
    client.force_login(auditor)
    found = rows(client.get(AUDIT, {"unit": "离石区", "action": "return"}))
    assert [(event.assignment_id, event.action) for event in found] == [(walked.pk, "return")]
    by_actor = rows(client.get(AUDIT, {"actor": walk.clerk.username}))
    assert {event.action for event in by_actor} == {"start", "submit"}
    assert all(event.assignment_id == walked.pk for event in by_actor)
    by_item = client.get(AUDIT, {"measure": "7", "item": ITEM, "unit": "兴县"})
    assert [event.assignment_id for event in rows(by_item)] == [other_county_assignment.pk]
    assert rows(client.get(AUDIT, {"section": "区划科"})) == []  # 区划科 leads none of these
    today = timezone.localdate()
    assert len(rows(client.get(AUDIT, {"since": today.isoformat(), "unit": "离石区", "item": ITEM}))) == 5
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    assert rows(client.get(AUDIT, {"until": yesterday})) == []


def test_each_row_links_to_its_assignments_history(client, assignment, auditor):
    client.force_login(auditor)
    content = client.get(AUDIT, {"unit": "离石区"}).content.decode()
    assert f'href="{reverse("assignments:detail", args=[assignment.pk])}#history"' in content
    assert client.get(reverse("assignments:detail", args=[assignment.pk])).status_code == 200


def test_a_bad_search_says_why_and_finds_nothing(client, assignment, auditor):
    client.force_login(auditor)
    response = client.get(AUDIT, {"since": "2024-05-02", "until": "2024-05-01"})
    assert "起始日期晚于截止日期" in response.content.decode()
    assert rows(response) == []


def test_the_search_pages_by_fifty_and_keeps_its_filters(client, plan, auditor):
    rounds.open_round(YEAR, measures=list(Measure.objects.filter(number__in=[1, 7])))
    client.force_login(auditor)
    total = Event.objects.count()
    assert total > 50
    first = client.get(AUDIT, {"action": "issue"})
    assert len(rows(first)) == 50 and first.context["page"].paginator.count == total
    assert "action=issue&amp;page=2" in first.content.decode()
    second = client.get(AUDIT, {"action": "issue", "page": "2"})
    assert len(rows(second)) == min(50, total - 50)
    assert not {event.pk for event in rows(first)} & {event.pk for event in rows(second)}


def test_the_search_costs_the_same_queries_at_one_event_and_at_fifty(client, plan, auditor):
    rounds.open_round(YEAR, measures=[Measure.objects.get(number=21)])
    client.force_login(auditor)
    with CaptureQueriesContext(connection) as one:
        assert len(rows(client.get(AUDIT, {"unit": "离石区"}))) == 1
    rounds.open_round(YEAR, measures=list(Measure.objects.all()))
    with CaptureQueriesContext(connection) as fifty:
        assert len(rows(client.get(AUDIT))) == 50
    assert len(fifty) == len(one) <= 15, [query["sql"][:80] for query in fifty.captured_queries]


def test_the_search_exports_as_csv_with_a_byte_order_mark(client, assignment, walk, auditor):
    walk.to(assignment, "in_progress")
    client.force_login(auditor)
    response = client.get(reverse("audit:export", args=["csv"]), {"unit": "离石区", "item": ITEM})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert table[0][:3] == ["时间", "督办事项", "计划"]
    assert [(row[1], row[8]) for row in table[1:]] == [("2024/7a/离石区", "开始办理"), ("2024/7a/离石区", "下达")]


def test_the_search_exports_as_a_workbook_with_a_frozen_chinese_header(client, assignment, auditor):
    client.force_login(auditor)
    response = client.get(reverse("audit:export", args=["xlsx"]), {"action": "issue", "unit": "离石区", "item": ITEM})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    assert [cell.value for cell in sheet[1]][:2] == ["时间", "督办事项"]
    assert sheet.max_row == 2 and sheet["I2"].value == "下达"


def test_a_comment_that_looks_like_a_formula_stays_text_in_the_workbook(assignment, walk):
    from workflows import audit

    walk.to(assignment, "cancelled")  # the walker's reason, replaced below by one that looks like a formula
    event = Event.objects.get(assignment=assignment, action="cancel")
    event.comment = "=1+1"  # not saved: the history refuses changes; the writer gets it as it would from a row
    out = io.BytesIO()
    audit.write_xlsx(_Events([event]), out)
    cell = load_workbook(io.BytesIO(out.getvalue())).active["O2"]
    assert cell.value == "=1+1" and cell.data_type == "s"


class _Events(list):
    def iterator(self, chunk_size=None):
        return iter(self)


@pytest.mark.parametrize("persona", ["leader", "section_chief", "county_clerk"])
def test_only_auditors_search_and_export_the_history(request, client, assignment, persona):
    client.force_login(request.getfixturevalue(persona))
    for url in (AUDIT, reverse("audit:export", args=["csv"]), reverse("audit:export", args=["xlsx"])):
        response = client.get(url)
        assert response.status_code == 403
        assert "审计" in response.content.decode()  # the refusal names who the page is for


ACTION_URL = re.compile(r'<form[^>]*action="[^"]*/(actions/\w+|attachments|rounds/\w+)/?"', re.I)


def test_no_action_button_shows_to_an_auditor(client, assignment, other_county_assignment, walk, auditor):
    walk.to(assignment, "under_review")
    client.force_login(auditor)
    pages = [
        reverse("assignments:detail", args=[assignment.pk]),
        reverse("assignments:detail", args=[other_county_assignment.pk]),
        reverse("assignments:index"),
        reverse("assignments:rounds"),
        reverse("matrix:year", args=[YEAR]),
        AUDIT,
    ]
    for url in pages:
        content = client.get(url).content.decode()
        assert not ACTION_URL.search(content), url
        forms = re.findall(r"<form[^>]*>", content)
        assert all("logout" in form or 'method="get"' in form.lower() for form in forms), (url, forms)
