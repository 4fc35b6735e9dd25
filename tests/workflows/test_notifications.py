"""Notifications: an outbox row per (event, recipient) written in the action's transaction, delivered
after commit by a django-tasks task through the database backend's worker; exactly once, across a
retried action, a retried delivery and a restarted worker; a failed e-mail tried again."""

import pytest
from django.core import mail
from django.urls import reverse
from django_tasks_db.management.commands import db_worker
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from assignments.models import Unit
from workflows import actions, notifications
from workflows.models import Event, Notification

from .conftest import fresh


@pytest.fixture(autouse=True)
def keep_the_tests_connection(monkeypatch):
    """The worker closes a connection it finds inside a transaction, as a long-lived process should; here
    that transaction is the test's own, which sees the queued rows, so the worker keeps it."""
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)


def worker():
    """A fresh database worker, as `manage.py db_worker --batch` makes one: runs what is queued, then stops."""
    return Worker(
        queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
        max_tasks=None, worker_id="test-worker", excluded_queue_names=[],
    )  # fmt: skip


@pytest.fixture
def with_email(county_clerk, county_head, section_chief):
    for user in (county_clerk, county_head, section_chief):
        user.email = f"{user.username}@example.gov.cn"
        user.save(update_fields=["email"])


def urge(a, chief, capture, message="请速报"):
    with capture(execute=True):
        return actions.urge(a, by=chief, version=fresh(a).version, message=message)


def test_an_urging_tells_each_of_the_countys_people_once_in_the_same_transaction(
    assignment, section_chief, county_clerk, county_head, other_county_clerk
):
    actions.urge(assignment, by=section_chief, version=1, message="请速报")
    event = Event.objects.get(assignment=assignment, action="urge")
    rows = Notification.objects.filter(event=event)
    assert sorted(rows.values_list("recipient__username", flat=True)) == ["lishi_clerk", "lishi_head"]
    assert {(n.key, n.subject, n.link) for n in rows} == {
        (f"event/{event.pk}", "催办:2024/7a/离石区", reverse("assignments:detail", args=[assignment.pk]))
    }
    assert "请速报" in rows.first().body


def test_a_refused_action_writes_no_notification(assignment, section_chief, county_clerk):
    with pytest.raises(actions.Invalid):
        actions.urge(assignment, by=section_chief, version=1, message="")
    with pytest.raises(actions.Conflict):
        actions.urge(assignment, by=section_chief, version=7, message="请速报")
    assert not Notification.objects.exists()


def test_each_action_tells_whom_it_concerns(assignment, walk, section_chief, county_clerk, county_head):
    a = walk.submit(walk.start(assignment))
    assert list(Notification.objects.filter(kind="submit").values_list("recipient__username", flat=True)) == [
        "jizheng_chief"
    ]
    a = walk.return_(walk.begin_review(a))
    assert set(Notification.objects.filter(kind="return").values_list("recipient__username", flat=True)) == {
        "lishi_clerk", "lishi_head",
    }  # fmt: skip
    actions.urge(a, by=section_chief, version=a.version, message="请重报")
    actions.acknowledge(a, by=county_head, version=a.version + 1)
    assert list(Notification.objects.filter(kind="acknowledge").values_list("recipient", flat=True)) == [
        section_chief.pk
    ]
    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert "start" not in kinds and "begin_review" not in kinds  # nobody else needs to hear of these


def test_issuing_a_round_tells_each_unit_person_once_with_the_count(plan, county_clerk, county_head):
    from assignments.models import Measure
    from workflows import rounds

    rounds.open_round(2024, measures=[Measure.objects.get(number=7)])
    rows = Notification.objects.filter(kind="issue")
    assert sorted(rows.values_list("recipient__username", flat=True)) == ["lishi_clerk", "lishi_head"]
    items = Measure.objects.get(number=7).items.filter(first_year__lte=2024, last_year__gte=2024).count()
    assert f"下达督办事项 {items} 项" in rows.first().body


def test_delivery_runs_after_commit_through_the_database_worker_and_sends_each_email_once(
    assignment, section_chief, with_email, django_capture_on_commit_callbacks
):
    urge(assignment, section_chief, django_capture_on_commit_callbacks)
    queued = DBTaskResult.objects.filter(task_path="workflows.notifications.deliver")
    assert queued.count() == 2  # one task per outbox row, queued on commit
    assert notifications.unread_count(fresh_user("lishi_clerk")) == 0  # not delivered yet
    worker().run()
    assert sorted(message.to[0] for message in mail.outbox) == [
        "lishi_clerk@example.gov.cn",
        "lishi_head@example.gov.cn",
    ]
    assert all(row.status == "SUCCESSFUL" for row in queued)
    assert notifications.unread_count(fresh_user("lishi_clerk")) == 1
    # a delivery retried (the same task run again) finds the row sent and does nothing
    for row in Notification.objects.all():
        assert notifications.deliver.call(row.pk) == "already sent"
    assert len(mail.outbox) == 2


def fresh_user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def test_a_queued_delivery_survives_a_worker_restart_and_is_delivered_once(
    assignment, section_chief, with_email, django_capture_on_commit_callbacks
):
    urge(assignment, section_chief, django_capture_on_commit_callbacks)
    first = worker()
    first.max_tasks = 1
    first.run()  # the first worker delivers one and stops (a restart)
    assert len(mail.outbox) == 1
    worker().run()  # a new worker, as after a restart: the other task waited in the database
    assert len(mail.outbox) == 2
    worker().run()
    assert len(mail.outbox) == 2
    assert Notification.objects.filter(sent_at=None).count() == 0


def test_an_action_retried_after_a_conflict_tells_once(assignment, section_chief, county_clerk):
    actions.urge(assignment, by=section_chief, version=1, message="请速报")
    with pytest.raises(actions.Conflict):  # the same click again with the page's old version
        actions.urge(assignment, by=section_chief, version=1, message="请速报")
    assert Notification.objects.filter(recipient=county_clerk).count() == 1


def test_a_failed_email_is_recorded_and_tried_again_later(
    assignment, section_chief, with_email, monkeypatch, django_capture_on_commit_callbacks
):
    urge(assignment, section_chief, django_capture_on_commit_callbacks)
    row = Notification.objects.get(recipient__username="lishi_clerk")

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("SMTP 服务器拒绝连接")

    monkeypatch.setattr(notifications, "send_mail", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications.deliver.call(row.pk) == "failed"
    row.refresh_from_db()
    assert (row.sent_at, row.attempts, row.state) == (None, 1, "待重试")
    assert "SMTP 服务器拒绝连接" in row.last_error
    retry = DBTaskResult.objects.filter(args_kwargs__args=[row.pk]).order_by("-enqueued_at").first()
    assert retry.run_after is not None  # queued again, for later
    monkeypatch.undo()
    assert notifications.deliver.call(row.pk) == "sent"
    row.refresh_from_db()
    assert (row.attempts, row.last_error, row.state) == (2, "", "已发送")


def test_the_admin_lists_the_outbox_with_its_state(admin_client, assignment, section_chief, county_clerk):
    actions.urge(assignment, by=section_chief, version=1, message="请速报")
    Notification.objects.update(attempts=2, last_error="SMTPServerDisconnected")
    page = admin_client.get(reverse("admin:workflows_notification_changelist") + "?delivery=failed")
    assert page.status_code == 200
    assert "SMTPServerDisconnected" in page.content.decode() and "待重试" in page.content.decode()


def deliver_all():
    for pk in Notification.objects.values_list("pk", flat=True):
        notifications.deliver.call(pk)


def test_the_badge_counts_unread_and_opening_a_notification_marks_it_read(
    client, assignment, section_chief, county_clerk
):
    actions.urge(assignment, by=section_chief, version=1, message="请速报")
    deliver_all()
    client.force_login(county_clerk)
    page = client.get(reverse("assignments:index")).content.decode()
    assert 'title="未读通知">1</span>' in page
    listing = client.get(reverse("notifications:index")).content.decode()
    assert "催办:2024/7a/离石区" in listing
    notice = Notification.objects.get(recipient=county_clerk)
    opened = client.get(reverse("notifications:open", args=[notice.pk]))
    assert opened.status_code == 302 and opened.url == reverse("assignments:detail", args=[assignment.pk])
    assert Notification.objects.get(pk=notice.pk).read_at is not None
    assert 'title="未读通知"' not in client.get(reverse("assignments:index")).content.decode()


def test_a_user_sees_only_their_own_notifications(client, assignment, section_chief, county_clerk, other_county_clerk):
    actions.urge(assignment, by=section_chief, version=1, message="请速报")
    deliver_all()
    notice = Notification.objects.get(recipient=county_clerk)
    client.force_login(other_county_clerk)
    assert client.get(reverse("notifications:open", args=[notice.pk])).status_code == 404
    assert "请速报" not in client.get(reverse("notifications:index")).content.decode()
    assert Notification.objects.get(pk=notice.pk).read_at is None


def test_the_list_is_newest_first_and_paginated(client, assignment, section_chief, county_clerk):
    a = assignment
    for number in range(32):
        a = actions.urge(a, by=section_chief, version=a.version, message=f"第 {number} 次")
    deliver_all()
    client.force_login(county_clerk)
    first = client.get(reverse("notifications:index")).content.decode()
    assert "第 31 次" in first and "第 0 次" not in first and "第 1 / 2 页" in first
    assert "第 0 次" in client.get(reverse("notifications:index") + "?page=2").content.decode()


def test_the_badge_costs_one_query(rf, county_clerk, django_assert_num_queries):
    from workflows.context_processors import notifications as badge

    request = rf.get("/")
    request.user = county_clerk
    with django_assert_num_queries(1):  # the count of delivered, unread rows
        assert badge(request) == {"unread_notifications": 0}


def test_units_without_people_get_no_rows(plan):
    from workflows.notifications import _holders

    assert _holders("work_unit_assignments", [Unit.objects.get(name="兴县").pk]) == {}
