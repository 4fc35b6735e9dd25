"""Assignments in every state, reached through the real actions."""

import pytest

from assignments.models import Assignment, Indicator, Measure, Unit
from workflows import actions, rounds

# Measure 7's first row (7a): led by 基政科, with 救助科, 社事科 and 社管科 co-operating; two indicators
# (未保站覆盖率 with its 2022 and 2025 targets, 未保工作人员覆盖率 with its 2022 one).
MEASURE = 7
ITEM = "7a"
YEAR = 2024


@pytest.fixture
def round_2024(plan):
    round_, _ = rounds.open_round(YEAR, measures=[Measure.objects.get(number=MEASURE)])
    return round_


def fresh(assignment):
    return Assignment.objects.get(pk=assignment.pk)


def indicators(assignment, value="50"):
    """A value for every indicator the assignment's round asks, keyed by indicator id as submit takes them."""
    return {str(pk): value for pk in Indicator.objects.filter(item=assignment.item).values_list("pk", flat=True)}


@pytest.fixture
def assignment(round_2024):
    """离石区's 2024 assignment of item 7a, just issued."""
    return Assignment.objects.get(round=round_2024, item__code=ITEM, unit=Unit.objects.get(name="离石区"))


@pytest.fixture
def other_county_assignment(round_2024):
    return Assignment.objects.get(round=round_2024, item__code=ITEM, unit=Unit.objects.get(name="兴县"))


class Walker:
    """Moves an assignment to a state through the actions a county and its reviewer take."""

    def __init__(self, clerk, chief):
        self.clerk, self.chief = clerk, chief

    def start(self, a):
        return actions.start(a, by=self.clerk, version=a.version)

    def submit(self, a, narrative="已按要求完成", values=None):
        return actions.submit(
            a, by=self.clerk, version=a.version, narrative=narrative, indicators=values or indicators(a)
        )

    def begin_review(self, a):
        return actions.begin_review(a, by=self.chief, version=a.version)

    def to(self, a, state):
        paths = {
            "assigned": [],
            "in_progress": [self.start],
            "submitted": [self.start, self.submit],
            "under_review": [self.start, self.submit, self.begin_review],
            "accepted": [self.start, self.submit, self.begin_review, self.accept],
            "returned": [self.start, self.submit, self.begin_review, self.return_],
            "cancelled": [self.cancel],
        }
        for step in paths[state]:
            a = step(a)
        assert a.state == state
        return a

    def accept(self, a):
        return actions.accept(a, by=self.chief, version=a.version)

    def return_(self, a):
        return actions.return_for_rework(a, by=self.chief, version=a.version, reason="数据不完整")

    def cancel(self, a):
        return actions.cancel(a, by=self.chief, version=a.version, reason="任务调整")


@pytest.fixture
def walk(county_clerk, section_chief):
    return Walker(county_clerk, section_chief)


def snapshot(assignment):
    """Everything an action may write about one assignment, to show that a refusal changed nothing."""
    from viewflow.workflow.models import Process, Task

    from assignments.models import Attachment, Countersign, IndicatorValue, Submission
    from workflows.models import Event

    return {
        "assignment": Assignment.objects.filter(pk=assignment.pk).values().get(),
        "process": Process.objects.filter(pk=assignment.process_id).values().get(),
        "tasks": list(Task.objects.filter(process_id=assignment.process_id).order_by("pk").values()),
        "links": list(
            Task.previous.through.objects.filter(from_task__process_id=assignment.process_id)
            .order_by("pk")
            .values_list("from_task_id", "to_task_id")
        ),
        "events": list(Event.objects.filter(assignment=assignment).order_by("pk").values()),
        "submissions": list(Submission.objects.filter(assignment=assignment).values()),
        "values": list(IndicatorValue.objects.filter(submission__assignment=assignment).values()),
        "attachments": list(Attachment.objects.filter(assignment=assignment).values()),
        "countersigns": list(Countersign.objects.filter(assignment=assignment).values()),
    }
