"""The task writer writes the rows viewflow writes: every path of the lifecycle is taken twice, once by the
action functions and once through viewflow's own activations (start, assign, reassign, start and execute
of a human task, the process cancel), and every row and field of the process, its tasks and the task
links must be equal, with ids, order and times normalised (a time is compared as set or not)."""

import pytest
from django.db import models, transaction
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from assignments.models import Assignment, Measure, Unit
from workflows import actions, rounds
from workflows.flows import AssignmentFlow

from .conftest import MEASURE, indicators

Previous = Task.previous.through


def normalised(model, row, index):
    """A row's values with ids replaced by their place and times by whether they are set."""
    out = {}
    for field in model._meta.concrete_fields:
        value = row[field.attname]
        if field.primary_key or field.attname == "process_id":
            continue
        if isinstance(field, models.DateTimeField):
            value = value is not None
        elif field.attname == "parent_task_id":
            value = index.get(value, value)
        out[field.attname] = value
    return out


def rows(process_id):
    process = Process.objects.filter(pk=process_id).values().get()
    tasks = list(Task.objects.filter(process_id=process_id).order_by("pk").values())
    index = {task["id"]: position for position, task in enumerate(tasks)}
    links = Previous.objects.filter(from_task__process_id=process_id).values_list("from_task_id", "to_task_id")
    return {
        "process": normalised(Process, process, index),
        "tasks": [normalised(Task, task, index) for task in tasks],
        "links": sorted((index[later], index[earlier]) for later, earlier in links),
    }


class Writer:
    """The lifecycle through the action functions (which write the tasks through `workflows.tasks`)."""

    def __init__(self, assignment):
        self.assignment = assignment

    def move(self, action, by, to=None):
        a = self.assignment
        calls = {
            "start": lambda: actions.start(a, by=by, version=a.version),
            "submit": lambda: actions.submit(
                a, by=by, version=a.version, narrative="已按要求完成", indicators=indicators(a)
            ),
            "recall": lambda: actions.recall(a, by=by, version=a.version),
            "begin_review": lambda: actions.begin_review(a, by=by, version=a.version),
            "accept": lambda: actions.accept(a, by=by, version=a.version),
            "return": lambda: actions.return_for_rework(a, by=by, version=a.version, reason="数据不完整"),
            "reassign": lambda: actions.reassign(a, by=by, version=a.version, to=to.username),
            "cancel": lambda: actions.cancel(a, by=by, version=a.version, reason="任务调整"),
        }
        self.assignment = calls[action]()
        return self.assignment


class Viewflow:
    """The same lifecycle through viewflow's own API, on a process viewflow started itself.

    The nodes' callables (the queue's unit, the assignee, the gateway's branch) read the assignment:
    before each move it takes the state and assignee the action functions gave their assignment.
    """

    def __init__(self, assignment):
        start = AssignmentFlow.start
        activation = start.activation_class.create(start, None, None)
        with transaction.atomic():
            activation.process.save()
            Assignment.objects.filter(pk=assignment.pk).update(process=activation.process)
            activation.execute()
        self.pk, self.process_id = assignment.pk, activation.process.pk

    def open_task(self):
        return (
            Task.objects.filter(process_id=self.process_id, flow_task_type="HUMAN")
            .exclude(status__in=[STATUS.DONE, STATUS.CANCELED])
            .get()
        )

    def move(self, action, by, to=None, *, like):
        Assignment.objects.filter(pk=self.pk).update(state=like.state, assignee_id=like.assignee_id)
        with transaction.atomic():
            if action == "cancel":
                AssignmentFlow.instance.cancel(Process.objects.get(pk=self.process_id))
                return
            with self.open_task().activation() as activation:
                user = to if action == "reassign" else by
                if activation.task.status == STATUS.NEW:
                    activation.assign(user)
                elif activation.task.owner_id != user.pk:
                    activation.reassign(user)
                if action in ("submit", "recall", "accept", "return"):
                    activation.start(None)
                    activation.execute()


PATHS = {
    "accepted": ["start", "submit", "begin_review", "accept"],
    "returned and resubmitted": ["start", "submit", "begin_review", "return", "submit", "begin_review", "accept"],
    "recalled and resubmitted": ["start", "submit", "recall", "submit", "begin_review", "accept"],
    "returned twice": ["start", "submit", "begin_review", "return", "submit", "begin_review", "return", "submit"],
    "cancelled when assigned": ["cancel"],
    "cancelled in progress": ["start", "cancel"],
    "cancelled when submitted": ["start", "submit", "cancel"],
    "cancelled under review": ["start", "submit", "begin_review", "cancel"],
    "cancelled when returned": ["start", "submit", "begin_review", "return", "cancel"],
    "reassigned before start": ["reassign", "start", "submit", "begin_review", "accept"],
    "reassigned in progress": ["start", "reassign", "submit", "begin_review", "accept"],
    "reassigned when returned": ["start", "submit", "begin_review", "return", "reassign", "submit", "cancel"],
}


@pytest.fixture
def pair(round_2024, county_clerk):
    """离石区's assignment of item 7a in two rounds: one for each side."""
    later, _ = rounds.open_round(round_2024.year + 1, measures=[Measure.objects.get(number=MEASURE)])
    county = Unit.objects.get(name="离石区")
    return [Assignment.objects.get(round=r, item__code="7a", unit=county) for r in (round_2024, later)]


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_the_action_functions_write_the_rows_viewflows_activations_write(
    path, pair, county_clerk, county_head, section_chief, make_user
):
    colleague = make_user("lishi_clerk2", "county_clerk", "离石区")
    writer, reference = Writer(pair[0]), Viewflow(pair[1])
    assert rows(writer.assignment.process_id) == rows(reference.process_id)
    clerk = county_clerk
    for action in path:
        by = {"begin_review": section_chief, "accept": section_chief, "return": section_chief,
              "cancel": section_chief, "reassign": county_head}.get(action, clerk)  # fmt: skip
        to = colleague if action == "reassign" else None
        if action == "reassign":
            clerk = colleague
        like = writer.move(action, by, to)
        reference.move(action, by, to, like=like)
        assert rows(writer.assignment.process_id) == rows(reference.process_id), action
    ended = {"accept": "DONE", "cancel": "CANCELED"}.get(path[-1], "NEW")
    assert Process.objects.get(pk=reference.process_id).status == ended
