"""The task writer: the rows of `AssignmentFlow`'s tasks and processes, written with a few statements.

viewflow's activations re-select the process, save whole rows and open a savepoint per node; the
action functions call the functions below instead, which write the same rows (as the tests show).
"""

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS
from viewflow.workflow.token import Token

from assignments.models import Unit

from . import bulk
from .flows import REVIEW_PERMISSION, WORK_PERMISSION, AssignmentFlow

Previous = Task.previous.through


def _unit_content_type():
    return ContentType.objects.get_for_model(Unit)


def task_row(process_id, node, *, status=STATUS.NEW, owner_id=None, permission=None, unit=None, now=None, **fields):
    """The values of a task row of `node`, as viewflow's activation would fill them."""
    row = {
        "process_id": process_id,
        "flow_task": node,
        "flow_task_type": node.task_type,
        "status": status,
        "owner_id": owner_id,
        "token": Token("start"),
        "data": {},
        "created": now or timezone.now(),
        **fields,
    }
    if permission:
        row["owner_permission"] = permission
        row["owner_permission_content_type_id"] = _unit_content_type().pk
        row["owner_permission_obj_pk"] = str(unit.pk if isinstance(unit, Unit) else unit)
    return row


def work_task(process_id, unit_id, assignee_id=None, now=None):
    """The reporting unit's task: in its queue, or in the assignee's inbox when someone already works on it."""
    return task_row(process_id, AssignmentFlow.work, **_work(unit_id, assignee_id), now=now)


def _work(unit_id, assignee_id=None):
    return {
        "status": STATUS.ASSIGNED if assignee_id else STATUS.NEW,
        "owner_id": assignee_id,
        "permission": WORK_PERMISSION,
        "unit": unit_id,
    }


def review_task(process_id, lead_section_id, now=None):
    return task_row(process_id, AssignmentFlow.review, permission=REVIEW_PERMISSION, unit=lead_section_id, now=now)


def start(processes, now):
    """Start new processes ((pk, reporting unit pk) pairs) as viewflow does: a finished start task and an open
    work task each, the one leading to the other; three statements in all. Returns the work tasks' ids."""
    starts = [
        task_row(process_id, AssignmentFlow.start, status=STATUS.DONE, now=now, started=now, finished=now)
        for process_id, _ in processes
    ]
    works = [work_task(process_id, unit_id, now=now) for process_id, unit_id in processes]
    ids = bulk.insert(Task, starts + works)
    start_ids, work_ids = ids[: len(starts)], ids[len(starts) :]
    _link(zip(start_ids, work_ids, strict=True))
    return work_ids


def follow(done_task_id, *rows):
    """Create the tasks that come after a finished one, in order, each linked to the one before it;
    two statements. Returns the new tasks' ids."""
    ids = bulk.insert(Task, list(rows))
    chain = [done_task_id, *ids]
    _link(zip(chain, chain[1:], strict=False))
    return ids


def _link(pairs):
    """Record which task led to which: viewflow's `Task.previous`, from (earlier, later) id pairs."""
    rows = [{"from_task_id": later, "to_task_id": earlier} for earlier, later in pairs]
    bulk.insert(Previous, rows, returning=False)


def claim(task_id, user):
    """Put an open task in `user`'s inbox (viewflow's assign or reassign, which leave `Task.assigned` empty:
    the event log records when)."""
    Task.objects.filter(pk=task_id).update(owner=user, status=STATUS.ASSIGNED)


def finish(task_id, user, now):
    """Complete a human task (viewflow's execute: started, then done)."""
    Task.objects.filter(pk=task_id).update(owner=user, status=STATUS.DONE, started=now, finished=now)


def cancel_task(task_id, now):
    Task.objects.filter(pk=task_id).update(status=STATUS.CANCELED, finished=now)


def gateway(process_id, now):
    """The decide gateway's task: evaluated and done at once."""
    return task_row(process_id, AssignmentFlow.decide, status=STATUS.DONE, now=now, finished=now)


def end(process_id, now):
    return task_row(process_id, AssignmentFlow.end, status=STATUS.DONE, now=now, started=now, finished=now)


def finish_process(process_id, now, status=PROCESS.DONE):
    Process.objects.filter(pk=process_id).update(status=status, finished=now)
