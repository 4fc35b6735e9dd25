"""The assignment's viewflow process, and the task moves the action functions make on it.

Every assignment has one process of `AssignmentFlow`:

    start ─► work (the county's task) ─► review (the lead section's task) ─► decide ─► end
                ▲                                                             │
                └──────────────────────── returned / recalled ◄───────────────┘

The nodes route each human task to exactly one unit's queue through a guardian object permission on
the unit row. The action functions in `workflows.transitions` move tasks with the few statements
below instead of viewflow's activations (which re-select the process, save whole rows and open a
savepoint per node); the rows they write are the rows viewflow writes for the same path, as
`tests/workflows/test_flow_rows.py` shows by running both side by side.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS
from viewflow.workflow.token import Token

from assignments.models import Assignment, Countersign, ItemSection, State, Submission, Unit
from permissions.roles import COUNTERSIGN, principal

from . import bulk

WORK_PERMISSION = "assignments.work_unit_assignments"
REVIEW_PERMISSION = "assignments.review_unit_assignments"


def _assignment_page(request, **kwargs):
    from .views import task_redirect

    return task_redirect(request, **kwargs)


class AssignmentFlow(flow.Flow):
    """督办事项

    一个县级民政局在一个报送年度对一个工作事项的办理、报送、审核与验收。
    """

    start = flow.StartHandle(this.start_assignment).Next(this.work)
    work = (
        flow.View(_assignment_page)
        .Annotation(title="县局办理与报送")
        .Permission(WORK_PERMISSION, obj=lambda process: process.assignment.county)
        .Assign(lambda activation: activation.process.assignment.assignee)
        .Next(this.review)
    )
    review = (
        flow.View(_assignment_page)
        .Annotation(title="牵头科室审核验收")
        .Permission(REVIEW_PERMISSION, obj=lambda process: process.assignment.lead_section)
        .Next(this.decide)
    )
    decide = (
        flow.If(lambda activation: activation.process.assignment.state == State.ACCEPTED)
        .Annotation(title="是否验收")
        .Then(this.end)
        .Else(this.work)
    )
    end = flow.End()

    def start_assignment(self, activation, assignment):
        """viewflow's own, one-by-one start of an assignment's process (`open_round` writes the same rows
        in bulk; the tests run both)."""
        activation.process.save()
        assignment.process = activation.process
        assignment.save()
        return assignment


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


def work_task(process_id, county_id, assignee_id=None, now=None):
    """The county's task: in its queue, or in the assignee's inbox when someone already works on it."""
    return task_row(process_id, AssignmentFlow.work, **_work(county_id, assignee_id), now=now)


def _work(county_id, assignee_id=None):
    return {
        "status": STATUS.ASSIGNED if assignee_id else STATUS.NEW,
        "owner_id": assignee_id,
        "permission": WORK_PERMISSION,
        "unit": county_id,
    }


def review_task(process_id, lead_section_id, now=None):
    return task_row(process_id, AssignmentFlow.review, permission=REVIEW_PERMISSION, unit=lead_section_id, now=now)


def start(processes, now):
    """Start new processes ((pk, county pk) pairs) as viewflow does: a finished start task and an open
    work task each, the one leading to the other; three statements in all. Returns the work tasks' ids."""
    starts = [
        task_row(process_id, AssignmentFlow.start, status=STATUS.DONE, now=now, started=now, finished=now)
        for process_id, _ in processes
    ]
    works = [work_task(process_id, county_id, now=now) for process_id, county_id in processes]
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


def claim(task_id, user, now):
    """Put an open task in `user`'s inbox (viewflow's assign/reassign)."""
    Task.objects.filter(pk=task_id).update(owner=user, status=STATUS.ASSIGNED, assigned=now)


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


def to_do(user):
    """Assignments waiting for `user`: their open task is in the queue of the user's unit or in the
    user's own inbox (viewflow's queue and inbox, routed by the unit grants), or, for a co-operating
    section, a report under review that the section has not countersigned yet."""
    queue = Task.objects.user_queue(user, flow_class=AssignmentFlow).filter(status=STATUS.NEW).values("pk")
    waiting = Q(task__in=queue) | Q(task__owner=user, task__status=STATUS.ASSIGNED)
    sections = principal(user).units_with(COUNTERSIGN)
    if sections:
        # the assignment's latest submission, seen from inside the countersign subquery below
        latest = Submission.objects.filter(assignment=OuterRef(OuterRef("pk"))).order_by("-number").values("pk")[:1]
        co_operating = ItemSection.objects.filter(item=OuterRef("item_id"), unit__in=sections).exclude(
            unit=OuterRef("lead_section_id")
        )
        signed = Countersign.objects.filter(
            assignment=OuterRef("pk"), section__in=sections, submission=Subquery(latest)
        )
        waiting |= Q(state=State.UNDER_REVIEW) & Exists(co_operating) & ~Exists(signed)
    return waiting


def lifecycle_diagram():
    """A Mermaid state diagram of `Assignment.state`, drawn from its transition declarations."""
    field = Assignment._meta.get_field("state")
    labels = dict(State.choices)
    lines = ["stateDiagram-v2", f"    [*] --> {State.ASSIGNED}: issue"]
    for state in State.values:
        lines.append(f"    {state}: {state} {labels[state]}")
    order = {state: index for index, state in enumerate(State.values)}
    edges = {
        (transition.source, transition.target or transition.source, transition.name)
        for transition in field.get_all_transitions(Assignment)
    }
    for source, target, name in sorted(edges, key=lambda edge: (order[edge[0]], order[edge[1]], edge[2])):
        lines.append(f"    {source} --> {target}: {name}")
    lines.append(f"    {State.ACCEPTED} --> [*]")
    lines.append(f"    {State.CANCELLED} --> [*]")
    return "\n".join(lines) + "\n"
