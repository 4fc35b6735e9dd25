"""The assignment pages: scoped lists, detail, actions through forms, files, rounds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assignments.models import Assignment, Measure, State
from workflows import actions, rounds
from workflows.models import Event

from .conftest import fresh, indicators, snapshot

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def detail(a):
    return reverse("assignments:detail", args=[a.pk])


def act(a, action):
    return reverse("assignments:act", args=[a.pk, action])


def test_a_clerk_lists_only_their_countys_assignments(client, assignment, county_clerk):
    client.force_login(county_clerk)
    response = client.get(reverse("assignments:index"))
    page = response.context["page"]
    assert page.paginator.count == Assignment.objects.filter(unit=assignment.unit).count() > 0
    assert {a.county.name for a in page} == {"离石区"}
    content = response.content.decode()
    assert "兴县" not in content  # not in the rows, not in the county filter


def test_a_section_chief_lists_every_county(client, assignment, section_chief):
    client.force_login(section_chief)
    page = client.get(reverse("assignments:index")).context["page"]
    assert page.paginator.count == Assignment.objects.count()


def test_the_list_filters_by_state_and_year(client, assignment, walk, county_clerk):
    walk.start(assignment)
    client.force_login(county_clerk)
    page = client.get(reverse("assignments:index"), {"state": "in_progress", "year": 2024}).context["page"]
    assert [a.pk for a in page] == [assignment.pk]


def test_another_countys_assignment_is_404_everywhere(client, other_county_assignment, county_clerk):
    client.force_login(county_clerk)
    before = snapshot(other_county_assignment)
    assert client.get(detail(other_county_assignment)).status_code == 404
    response = client.post(act(other_county_assignment, "start"), {"version": 1})
    assert response.status_code == 404
    assert client.post(reverse("assignments:upload", args=[other_county_assignment.pk])).status_code == 404
    assert snapshot(other_county_assignment) == before


def test_the_detail_page_shows_the_actions_the_user_may_take(client, assignment, county_clerk, auditor):
    client.force_login(county_clerk)
    content = client.get(detail(assignment)).content.decode()
    assert act(assignment, "start") in content
    assert act(assignment, "accept") not in content
    client.force_login(auditor)
    content = client.get(detail(assignment)).content.decode()
    assert "可执行的操作" not in content
    assert "历史记录" in content and "下达" in content


def test_a_county_runs_its_part_through_the_pages(client, assignment, county_clerk, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(county_clerk)
    assert client.post(act(assignment, "start"), {"version": 1}).status_code == 302
    upload = client.post(
        reverse("assignments:upload", args=[assignment.pk]),
        {"file": _file("汇报.pdf", PDF)},
    )
    assert upload.status_code == 302
    data = {"version": 2, "narrative": "已完成全部工作"}
    data.update({f"indicator_{pk}": "60" for pk in indicators(assignment)})
    response = client.post(act(assignment, "submit"), data, follow=True)
    assert "已报送" in response.content.decode()
    a = fresh(assignment)
    assert a.state == State.SUBMITTED
    submit = Event.objects.get(assignment=a, action="submit")
    assert len(submit.attachments) == 1
    attachment = a.attachments.get()
    download = client.get(reverse("assignments:download", args=[attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert "attachment" in download["Content-Disposition"]


def test_a_stale_page_gets_a_clear_message_and_changes_nothing(client, assignment, walk, section_chief):
    a = walk.to(assignment, "under_review")
    client.force_login(section_chief)
    before = snapshot(a)
    response = client.post(act(a, "accept"), {"version": a.version - 1}, follow=True)
    assert "已被他人更新" in response.content.decode()
    assert snapshot(a) == before


def test_a_return_without_a_reason_is_shown_again_with_the_error(client, assignment, walk, section_chief):
    a = walk.to(assignment, "under_review")
    client.force_login(section_chief)
    before = snapshot(a)
    response = client.post(act(a, "return"), {"version": a.version, "reason": ""})
    assert response.status_code == 400
    assert "请填写理由" in response.content.decode()
    assert snapshot(a) == before


def test_a_forged_action_is_forbidden_and_changes_nothing(client, assignment, walk, county_clerk, auditor):
    a = walk.to(assignment, "under_review")
    before = snapshot(a)
    client.force_login(county_clerk)
    assert client.post(act(a, "accept"), {"version": a.version}).status_code == 403
    client.force_login(auditor)
    assert client.post(act(a, "cancel"), {"version": a.version, "reason": "x"}).status_code == 403
    assert client.post(act(a, "fly"), {"version": a.version}).status_code == 404
    assert client.get(act(a, "accept")).status_code == 405  # GET never changes state
    assert snapshot(a) == before


def test_a_resubmission_shows_what_changed(client, assignment, walk, section_chief, county_clerk):
    a = walk.to(assignment, "returned")
    actions.submit(a, by=county_clerk, version=a.version, narrative="补充了数据", indicators=indicators(a, "75"))
    client.force_login(section_chief)
    content = client.get(detail(a)).content.decode()
    assert "与上次报送相比" in content
    assert "补充了数据" in content and "已按要求完成" in content


def test_a_wrong_type_upload_is_refused_and_leaves_nothing(client, assignment, walk, county_clerk, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    walk.start(assignment)
    client.force_login(county_clerk)
    response = client.post(
        reverse("assignments:upload", args=[assignment.pk]),
        {"file": _file("报告.pdf", b"MZ\x90\x00 not a pdf")},
        follow=True,
    )
    assert "文件内容与扩展名" in response.content.decode()
    assert not fresh(assignment).attachments.exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_chief_opens_a_round_for_the_measures_their_section_leads(client, plan, other_section_chief):
    client.force_login(other_section_chief)
    page = client.get(reverse("assignments:rounds"))
    measures = page.context["form"].fields["measures"].choices
    assert [label.split(".")[0] for _, label in measures] == ["3", "18"]
    response = client.post(
        reverse("assignments:rounds"), {"year": 2024, "measures": [Measure.objects.get(number=3).pk]}, follow=True
    )
    assert "新建督办事项 26 个" in response.content.decode()
    assert Assignment.objects.count() == 26
    forged = client.post(reverse("assignments:rounds"), {"year": 2024, "measures": [Measure.objects.get(number=1).pk]})
    assert forged.status_code == 200 and Assignment.objects.count() == 26  # not a choice the form offers


def test_people_who_cannot_issue_see_no_form_and_cannot_post_one(client, plan, county_clerk):
    client.force_login(county_clerk)
    assert client.get(reverse("assignments:rounds")).context["form"] is None
    response = client.post(reverse("assignments:rounds"), {"year": 2024, "measures": [1]})
    assert response.status_code == 403
    assert not Assignment.objects.exists()


def _file(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def grow(times):
    """More assignments for the list: another round of measure 7 for every county."""
    for year in [2022, 2023, 2025][:times]:
        rounds.open_round(year, measures=[Measure.objects.get(number=7)])


@pytest.mark.parametrize("persona", ["county_clerk", "section_chief", "auditor"])
def test_the_list_costs_the_same_queries_at_two_sizes(request, client, assignment, persona):
    client.force_login(request.getfixturevalue(persona))
    with CaptureQueriesContext(connection) as small:
        before = client.get(reverse("assignments:index")).context["page"].paginator.count
    grow(3)
    with CaptureQueriesContext(connection) as large:
        response = client.get(reverse("assignments:index"))
    assert response.context["page"].paginator.count == 4 * before
    assert len(large) == len(small), [q["sql"][:80] for q in large.captured_queries]


def test_the_detail_page_costs_the_same_queries_however_long_the_history(
    client, assignment, walk, section_chief, county_clerk, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    a = walk.to(assignment, "returned")
    client.force_login(section_chief)
    with CaptureQueriesContext(connection) as small:
        client.get(detail(a))
    for _ in range(3):
        actions.attach(a, by=county_clerk, upload=_file(f"{_}.png", b"\x89PNG\r\n\x1a\n" + bytes([_]) * 20))
        a = walk.submit(fresh(a))
        a = walk.begin_review(a)
        a = walk.return_(a)
    with CaptureQueriesContext(connection) as large:
        response = client.get(detail(a))
    assert len(response.context["reports"]) == 4
    assert len(large) == len(small), [q["sql"][:80] for q in large.captured_queries]


def test_the_to_do_list_follows_the_queue_and_the_inbox(
    client, assignment, walk, county_clerk, section_chief, make_user
):
    colleague = make_user("lishi_clerk2", "county_clerk", "离石区")

    def to_do(user):
        client.force_login(user)
        page = client.get(reverse("assignments:index"), {"todo": "on"}).context["page"]
        return {f"{a.round.year}/{a.item.code}/{a.county.name}" for a in page}

    assert to_do(county_clerk) == {"2024/7a/离石区", "2024/7b/离石区"}  # the county's queue
    assert to_do(section_chief) == set()
    a = walk.start(assignment)
    assert to_do(county_clerk) == {"2024/7a/离石区", "2024/7b/离石区"}  # now in the clerk's inbox
    assert to_do(colleague) == {"2024/7b/离石区"}  # taken by a colleague: no longer in the queue
    walk.submit(fresh(a))
    assert to_do(section_chief) == {"2024/7a/离石区"}
    assert to_do(county_clerk) == {"2024/7b/离石区"}


def test_a_co_operating_section_finds_the_reports_waiting_for_its_opinion(
    client, assignment, walk, co_section_staff, county_clerk
):
    def to_do():
        client.force_login(co_section_staff)
        page = client.get(reverse("assignments:index"), {"todo": "on"}).context["page"]
        return {f"{a.round.year}/{a.item.code}/{a.county.name}" for a in page}

    a = walk.to(assignment, "submitted")
    assert to_do() == set()
    a = walk.begin_review(a)
    assert to_do() == {"2024/7a/离石区"}  # 社事科 co-operates on 7a
    a = actions.countersign(a, by=co_section_staff, version=a.version, opinion="同意", agree=True)
    assert to_do() == set()
    a = walk.begin_review(walk.submit(walk.return_(a)))
    assert to_do() == {"2024/7a/离石区"}  # a new report wants a new opinion


def test_reported_values_read_as_people_write_them(client, assignment, walk, section_chief, county_clerk):
    a = walk.to(assignment, "in_progress")
    actions.submit(a, by=county_clerk, version=a.version, narrative="完成", indicators=indicators(a, "100"))
    client.force_login(section_chief)
    content = client.get(detail(a)).content.decode()
    assert "<td>100%</td>" in content and "1E+2" not in content


def test_a_reason_made_only_of_invisible_characters_is_no_reason(client, assignment, walk, section_chief):
    a = walk.to(assignment, "under_review")
    client.force_login(section_chief)
    before = snapshot(a)
    response = client.post(act(a, "return"), {"version": a.version, "reason": "\u200b\u202e\u2066 \ufeff\u3000"})
    assert response.status_code == 400
    assert "请填写理由" in response.content.decode()
    assert snapshot(a) == before
