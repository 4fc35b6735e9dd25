"""The desks (本县待办, 审核台), the flow chart on the assignment page, dates in Chinese, the file picker,
and what each of these pages costs in queries."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assignments.models import Assignment, Measure
from permissions.roles import principal
from workflows import actions, rounds

from .conftest import fresh

INBOX = "/inbox/"
REVIEW = "/review/"


def detail(a):
    return reverse("assignments:detail", args=[a.pk])


def rows(response, key):
    return [a.pk for group in response.context["groups"] if group.key == key for a in group.rows]


def test_a_county_lands_on_its_desk_and_a_section_on_the_review_desk(client, county_clerk, section_staff, leader):
    client.force_login(county_clerk)
    assert client.get("/")["Location"] == INBOX
    client.force_login(section_staff)
    assert client.get("/")["Location"] == REVIEW
    client.force_login(leader)
    assert client.get("/")["Location"] == reverse("assignments:index")


def test_the_desks_are_in_the_menu_only_for_their_people(client, round_2024, county_clerk, section_chief, leader):
    client.force_login(county_clerk)
    content = client.get(INBOX).content.decode()
    assert "本县待办" in content and 'href="/review/"' not in content
    assert client.get(REVIEW).status_code == 403
    client.force_login(section_chief)
    assert 'href="/review/"' in client.get(REVIEW).content.decode()
    client.force_login(leader)
    assert client.get(INBOX).status_code == 403 and client.get(REVIEW).status_code == 403


def test_the_inbox_groups_a_countys_open_assignments_by_what_they_need(
    client, assignment, walk, county_clerk, other_county_clerk
):
    b = Assignment.objects.get(round=assignment.round, item__code="7b", unit=assignment.unit)
    returned = walk.to(assignment, "returned")
    started = walk.start(b)
    client.force_login(county_clerk)
    response = client.get(INBOX)
    assert rows(response, "returned") == [returned.pk]
    assert rows(response, "in_progress") == [started.pk]
    assert rows(response, "assigned") == []
    content = response.content.decode()
    assert content.index("已退回") < content.index("办理中")
    assert "退回理由:数据不完整" in content
    assert returned.item.measure_text[:20] in content  # the item's own task, not only the measure's title
    assert "2024年10月31日" in content and "2024-10-31" not in content
    assert "兴县" not in content
    client.force_login(other_county_clerk)
    assert returned.pk not in [a.pk for g in client.get(INBOX).context["groups"] for a in g.rows]


def test_a_county_head_reassigns_from_the_inbox(client, assignment, county_head, county_clerk, make_user):
    colleague = make_user("lishi_clerk2", "county_clerk", "离石区")
    client.force_login(county_head)
    content = client.get(INBOX).content.decode()
    assert reverse("assignments:act", args=[assignment.pk, "reassign"]) in content
    response = client.post(
        reverse("assignments:act", args=[assignment.pk, "reassign"]), {"version": 1, "to": colleague.username}
    )
    assert response.status_code == 302
    assert fresh(assignment).assignee == colleague
    client.force_login(county_clerk)  # a clerk may not reassign: no form
    assert reverse("assignments:act", args=[assignment.pk, "reassign"]) not in client.get(INBOX).content.decode()


def test_the_review_desk_lists_reports_to_review_and_to_countersign_oldest_first(
    client, assignment, walk, section_chief, co_section_staff, county_clerk
):
    b = Assignment.objects.get(round=assignment.round, item__code="7b", unit=assignment.unit)
    first = walk.to(assignment, "submitted")
    second = walk.to(b, "submitted")
    client.force_login(section_chief)
    assert rows(client.get(REVIEW), "review") == [first.pk, second.pk]  # the earlier submission first
    first = walk.begin_review(first)
    client.force_login(co_section_staff)  # 社事科 co-operates on 7a
    response = client.get(REVIEW)
    assert rows(response, "countersign") == [first.pk] and rows(response, "review") == []
    actions.countersign(first, by=co_section_staff, version=first.version, opinion="同意", agree=True)
    assert rows(client.get(REVIEW), "countersign") == []


def test_the_reviewer_reads_the_report_what_changed_and_then_judges_it(client, assignment, walk, section_chief):
    a = walk.begin_review(walk.submit(walk.return_(walk.to(assignment, "under_review")), narrative="补充了数据"))
    client.force_login(section_chief)
    content = client.get(detail(a)).content.decode()
    assert content.index("与上次报送相比") < content.index("可执行的操作")
    assert "<th>上次</th><th>本次</th>" in content and "补充了数据" in content
    assert "对照目标" in content and "是否达到" in content
    for action in ("accept", "return"):
        assert reverse("assignments:act", args=[a.pk, action]) in content


def test_the_assignment_page_draws_the_flow_with_the_current_step_and_the_moves_now(
    client, assignment, walk, county_clerk, auditor
):
    a = walk.start(assignment)
    client.force_login(county_clerk)
    content = client.get(detail(a)).content.decode()
    chart = content[content.index("办理流程") :]
    assert 'aria-current="step">办理中' in chart
    assert "报送 → 已报送" in chart and "(你可执行)" in chart
    assert "撤销 → 已撤销" in chart  # a move of the lifecycle the clerk may not take is drawn, not offered
    client.force_login(auditor)
    chart = client.get(detail(a)).content.decode().split("办理流程", 1)[1]
    assert "(你可执行)" not in chart


def test_dates_read_in_chinese_on_the_pages(client, assignment, walk, county_clerk):
    walk.to(assignment, "submitted")
    client.force_login(county_clerk)
    for url in (reverse("assignments:index"), detail(assignment), reverse("assignments:rounds"), INBOX):
        content = client.get(url).content.decode()
        assert "年" in content and "2024-10-31" not in content, url
    content = client.get(detail(assignment)).content.decode()
    assert "报送期限 2024年10月31日" in content
    assert assignment.created.astimezone().strftime("%Y-%m-%d") not in content  # the history's times too


def test_the_file_picker_speaks_chinese_and_is_reachable_by_keyboard(client, assignment, walk, county_clerk):
    walk.start(assignment)
    client.force_login(county_clerk)
    content = client.get(detail(assignment)).content.decode()
    assert '<label for="id_file" class="mdc-button mdc-button--outlined duban-file__button">选择文件</label>' in content
    assert "未选择文件" in content
    assert 'type="file" name="file" id="id_file"' in content and "hidden" not in content.split('id="id_file"')[1][:40]


def test_the_grants_are_read_once_per_request_behind_the_lazy_user(rf, county_clerk):
    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware

    request = rf.get("/")
    SessionMiddleware(lambda r: None).process_request(request)
    request.session["_auth_user_id"] = str(county_clerk.pk)
    request.session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    AuthenticationMiddleware(lambda r: None).process_request(request)
    principal(request.user)
    with CaptureQueriesContext(connection) as again:
        principal(request.user)
    assert len(again) == 0


def test_one_more_countersign_opinion_adds_no_query_to_the_assignment_page(
    client, assignment, walk, section_chief, co_section_staff, make_user
):
    a = walk.to(assignment, "under_review")
    a = actions.countersign(a, by=co_section_staff, version=a.version, opinion="同意", agree=True)
    client.force_login(section_chief)
    with CaptureQueriesContext(connection) as one:
        client.get(detail(a))
    relief = make_user("jiuzhu_staff", "section_staff", "救助科")
    a = actions.countersign(fresh(a), by=relief, version=fresh(a).version, opinion="同意", agree=True)
    with CaptureQueriesContext(connection) as two:
        response = client.get(detail(a))
    assert len(response.context["assignment"].countersigns.all()) == 2
    # session, user, grants (3), role, calendar, the assignment with its 9 prefetches, co-operating sections,
    # open urgings, unread notifications, history: a fixed number, whatever the opinions
    assert len(two) == len(one) <= 22, "\n".join(q["sql"][:150] for q in two.captured_queries)


def test_the_inbox_costs_the_same_queries_at_one_row_and_at_fifty(client, assignment, county_head, make_user):
    make_user("lishi_clerk2", "county_clerk", "离石区")
    client.force_login(county_head)
    with CaptureQueriesContext(connection) as small:
        response = client.get(INBOX)
    assert response.context["total"] == 2  # 7a and 7b
    for year in (2024, 2025):
        rounds.open_round(year, measures=list(Measure.objects.all()))
    with CaptureQueriesContext(connection) as large:
        response = client.get(INBOX)
    assert response.context["total"] >= 50
    assert len(large) == len(small) <= 15, [q["sql"][:80] for q in large.captured_queries]


def test_the_review_desk_costs_the_same_queries_at_one_row_and_at_fifty(client, assignment, walk, section_chief):
    walk.to(assignment, "submitted")
    client.force_login(section_chief)
    with CaptureQueriesContext(connection) as small:
        response = client.get(REVIEW)
    assert response.context["total"] == 1
    for a in Assignment.objects.filter(item__code__in=["7a", "7b"]).exclude(pk=assignment.pk).order_by("pk")[:24]:
        clerk = _clerk_of(a.unit)
        a = actions.start(a, by=clerk, version=a.version)
        walk.clerk = clerk
        walk.submit(a)
    with CaptureQueriesContext(connection) as large:
        response = client.get(REVIEW)
    assert response.context["total"] == 25
    assert len(large) == len(small) <= 15, [q["sql"][:80] for q in large.captured_queries]


_clerks = {}


def _clerk_of(unit):
    from django.contrib.auth import get_user_model

    from permissions.roles import assign_role

    if unit.pk not in _clerks or not get_user_model().objects.filter(pk=_clerks[unit.pk].pk).exists():
        user = get_user_model().objects.create_user(f"clerk_{unit.pk}", password="x")
        assign_role(user, "county_clerk", unit)
        _clerks[unit.pk] = user
    return _clerks[unit.pk]
