"""send_reminders: one notice per person of a reporting unit per day, naming its late (red) and due-soon
(yellow) open assignments; a second run on the same day sends nothing and says 0."""

import io

import pytest
from django.core.management import CommandError, call_command

from workflows.models import Notification


def run(day):
    out = io.StringIO()
    call_command("send_reminders", "--today", day, stdout=out)
    return out.getvalue()


def test_each_person_of_a_unit_gets_one_reminder_naming_its_late_assignments(
    round_2024, county_clerk, county_head, other_county_clerk
):
    assert "已发送提醒 3 条" in run("2024-11-05")
    mine = Notification.objects.get(recipient=county_clerk)
    assert mine.key == "reminder/2024-11-05" and mine.kind == "reminder"
    assert "已逾期" in mine.subject and "2024/7a/离石区:已逾期,报送期限 2024-10-31" in mine.body
    assert "兴县" not in mine.body
    assert Notification.objects.filter(recipient=other_county_clerk).get().body.count("兴县") >= 1


def test_a_second_run_on_the_same_day_sends_nothing_and_says_0(round_2024, county_clerk):
    run("2024-11-05")
    assert "已发送提醒 0 条" in run("2024-11-05")
    assert Notification.objects.filter(recipient=county_clerk).count() == 1
    assert "已发送提醒 1 条" in run("2024-11-06")  # the next day is another day


def test_due_soon_is_reminded_and_on_track_or_handed_in_is_not(round_2024, assignment, walk, county_clerk):
    assert "已发送提醒 0 条" in run("2024-10-01")  # more than five working days ahead: green
    assert "已发送提醒 1 条" in run("2024-10-28")
    assert "临近期限" in Notification.objects.get(recipient=county_clerk).body
    Notification.objects.all().delete()
    walk.submit(walk.start(assignment))
    run("2024-11-05")
    assert "7a/离石区" not in Notification.objects.get(recipient=county_clerk).body  # handed in: no longer owed


def test_a_bad_date_is_refused():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_reminders", "--today", "2024-13-01")
