"""年度总览 (/matrix/<year>/): the round's measures × counties, its counts, filters, the matrix as it stood on
a past day, and the rounds page's queries."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assignments.models import Assignment, Measure, Unit
from workflows import rounds

from .conftest import ITEM, YEAR, fresh

MATRIX = reverse("matrix:year", args=[YEAR])


def cells(response):
    """{assignment id: the cell's text} of a matrix page."""
    found = re.findall(
        r'<a class="duban-cell duban-state--(\w+)" href="/assignments/(\d+)/" title="([^"]*)">',
        response.content.decode(),
    )
    return {int(pk): (state, title) for state, pk, title in found}


def test_the_leader_sees_every_county_of_the_round_with_state_light_and_link(client, assignment, leader):
    client.force_login(leader)
    response = client.get(MATRIX)
    assert response.status_code == 200
    shown = cells(response)
    round_assignments = Assignment.objects.filter(round__year=YEAR)
    assert set(shown) == set(round_assignments.values_list("pk", flat=True))
    state, title = shown[assignment.pk]
    assert state == "assigned"
    assert title.startswith(f"离石区 · {ITEM} · 已下达 · ")  # where, the state's label, then its light
    assert "灯" in title
    counties = [unit.name for unit in response.context["matrix"].counties]
    assert counties[:2] == ["离石区", "孝义市"] and len(counties) == 13
    assert response.context["matrix"].total == round_assignments.count()


def test_the_counts_roll_up_per_measure_per_county_and_in_all(client, assignment, walk, leader):
    walk.to(assignment, "accepted")
    client.force_login(leader)
    matrix = client.get(MATRIX).context["matrix"]
    block = next(block for block in matrix.measures if block.measure.number == 7)
    total = Assignment.objects.filter(round__year=YEAR, item__measure__number=7).count()
    assert block.total == total
    assert {value: count for value, _, count in block.counts} == {"assigned": total - 1, "accepted": 1}
    lishi = [unit.name for unit in matrix.counties].index("离石区")
    accepted = next(counts for label, counts, _ in matrix.county_counts if label == "已验收")
    assert accepted[lishi] == 1 and sum(accepted) == 1
    assert matrix.county_totals[lishi] == Assignment.objects.filter(round__year=YEAR, unit__name="离石区").count()


def test_the_filters_keep_only_the_cells_asked_for(client, assignment, walk, leader):
    walk.to(assignment, "in_progress")
    client.force_login(leader)
    shown = cells(client.get(MATRIX, {"state": "in_progress"}))
    assert list(shown) == [assignment.pk]
    assert cells(client.get(MATRIX, {"light": "green"})) == {}  # 2024's due dates have passed: every one is red
    assert assignment.pk in cells(client.get(MATRIX, {"light": "red", "section": "基政科"}))
    assert cells(client.get(MATRIX, {"section": "区划科"})) == {}  # 区划科 leads none of measure 7's rows
    assert cells(client.get(MATRIX, {"group": "一"})) == {}  # measure 7 is in group 二
    assert assignment.pk in cells(client.get(MATRIX, {"group": "二"}))


def test_a_sections_reports_form_a_block_of_their_own(client, plan, leader):
    rounds.open_round(YEAR, measures=[Measure.objects.get(number=3)], reports=True)
    client.force_login(leader)
    response = client.get(MATRIX)
    reports = response.context["matrix"].reports
    assert [name for name, _ in reports] == list(
        Assignment.objects.filter(round__year=YEAR, item=None)
        .order_by("unit__position")
        .values_list("unit__name", flat=True)
    )
    assert reports and all(cell.label == "已下达" for _, cell in reports)
    assert "各科室年度工作报告" in response.content.decode()


def test_a_county_is_refused_with_a_reason(client, assignment, county_clerk):
    client.force_login(county_clerk)
    response = client.get(MATRIX)
    assert response.status_code == 403
    assert "县局请在“督办事项”中查看本县的事项" in response.content.decode()


def test_a_section_sees_the_rows_of_its_own_measures(client, plan, co_section_staff):
    rounds.open_round(YEAR, measures=list(Measure.objects.filter(number__in=[7, 1])))
    client.force_login(co_section_staff)  # 社事科 co-operates on measure 7, not on measure 1
    matrix = client.get(MATRIX).context["matrix"]
    assert [block.measure.number for block in matrix.measures] == [7]


def test_a_year_without_a_round_is_404(client, assignment, leader):
    client.force_login(leader)
    assert client.get(reverse("matrix:year", args=[2023])).status_code == 404
    assert client.get(reverse("matrix:index")).url.startswith(MATRIX)


def test_the_matrix_costs_the_same_queries_for_one_measure_and_the_whole_round(client, assignment, leader):
    client.force_login(leader)
    with CaptureQueriesContext(connection) as small:
        before = client.get(MATRIX).context["matrix"].total
    rounds.open_round(YEAR, reports=True)  # the rest of the round: every measure and the sections' reports
    with CaptureQueriesContext(connection) as large:
        after = client.get(MATRIX).context["matrix"].total
    assert after > 10 * before
    assert len(large) == len(small) <= 15, [query["sql"][:80] for query in large.captured_queries]


def test_the_matrix_as_of_a_past_day_is_rebuilt_from_the_history(client, plan, walk, leader, monkeypatch):
    def on(day):
        moment = timezone.make_aware(datetime.datetime(2024, 3, day, 23, 30))
        monkeypatch.setattr(timezone, "now", lambda: moment)

    on(1)
    round_, _ = rounds.open_round(YEAR, measures=[Measure.objects.get(number=7)])
    a = Assignment.objects.get(round=round_, item__code=ITEM, unit=Unit.objects.get(name="离石区"))
    on(2)
    a = walk.start(a)
    on(4)
    a = walk.submit(a)
    on(5)
    a = walk.begin_review(a)
    a = walk.accept(a)
    monkeypatch.undo()
    client.force_login(leader)

    def state_on(day):
        return cells(client.get(MATRIX, {"as_of": f"2024-03-{day:02d}"})).get(a.pk, (None,))[0]

    assert state_on(1) == "assigned"
    assert state_on(2) == state_on(3) == "in_progress"
    assert state_on(4) == "submitted"
    assert state_on(5) == "accepted" == fresh(a).state
    assert cells(client.get(MATRIX, {"as_of": "2024-02-29"})) == {}  # not issued yet
    assert len(cells(client.get(MATRIX, {"as_of": "2024-03-04", "state": "submitted"}))) == 1


def test_the_day_ends_in_the_sites_time_zone(client, plan, walk, leader, monkeypatch):
    # 2024-03-02 00:30 in Shanghai is still 1 March in UTC: it belongs to 2 March
    moment = timezone.make_aware(datetime.datetime(2024, 3, 2, 0, 30))
    monkeypatch.setattr(timezone, "now", lambda: moment)
    rounds.open_round(YEAR, measures=[Measure.objects.get(number=7)])
    monkeypatch.undo()
    client.force_login(leader)
    assert cells(client.get(MATRIX, {"as_of": "2024-03-01"})) == {}
    assert cells(client.get(MATRIX, {"as_of": "2024-03-02"}))


def test_a_future_day_is_refused_with_a_reason(client, assignment, leader):
    client.force_login(leader)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.get(MATRIX, {"as_of": tomorrow.isoformat()})
    assert "截至日期不能晚于今天" in response.content.decode()


@pytest.mark.parametrize("persona", ["section_chief", "leader", "auditor"])
def test_the_rounds_page_costs_the_same_few_queries_at_one_round_and_at_several(request, client, plan, persona):
    rounds.open_round(2024, measures=[Measure.objects.get(number=7)])
    client.force_login(request.getfixturevalue(persona))
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(reverse("assignments:rounds")).context["summary"]) == 1
    for year in (2022, 2023, 2025):
        rounds.open_round(year, reports=True)
    with CaptureQueriesContext(connection) as several:
        assert len(client.get(reverse("assignments:rounds")).context["summary"]) == 4
    assert len(several) == len(one) <= 15, [query["sql"][:80] for query in several.captured_queries]
