"""The assignment's viewflow process: every move the action functions make is an edge of this graph.

Every assignment has one process of `AssignmentFlow`:

    start ─► work (the county's task) ─► review (the lead section's task) ─► decide ─┬─ accepted ─► end
               ▲                                                                     │
               └──────────────────── returned / recalled ◄───────────────────────────┘
    work, review ─ cancel ─► cancelled

- issue: `start` runs and opens `work` in the county's queue;
- start, begin_review: the open task is assigned (claimed) on its node; reassign assigns it again;
- submit: `work` is executed and opens `review` in the lead section's queue;
- accept, return: `review` is executed and `decide` routes by the assignment's new state, to `end`
  or back to `work` (assigned to the clerk who works on it);
- recall: the county executes `review` before review begins and `decide` routes it back to `work`
  (the action functions check who may act; viewflow's own task permission is not asked);
- cancel: viewflow's process cancel: the open task is cancelled and the process ends as cancelled.
  It writes no task for the `cancelled` end, which is there to draw the edge.

The nodes route each human task to exactly one unit's queue through a guardian object permission on
the unit row. The action functions write the tasks through `workflows.tasks` (a few statements
instead of viewflow's activations); `tests/workflows/test_flow_contract.py` drives the same paths
through viewflow's own activations and compares every row. The work happens on the assignment's own
pages: viewflow's task pages are not routed.
"""

from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.base import Edge

from assignments.models import State

WORK_PERMISSION = "assignments.work_unit_assignments"
REVIEW_PERMISSION = "assignments.review_unit_assignments"


class HumanTask(flow.ManualTask):
    """A person's task, done through the action functions; `Cancel(node)` draws the edge that viewflow's
    process cancel takes from it."""

    _cancel = None

    def Cancel(self, node):  # noqa: N802 (viewflow's builder style)
        self._cancel = node
        return self

    def _resolve(self, instance):
        super()._resolve(instance)
        self._cancel = this.resolve(instance, self._cancel)

    def _outgoing(self):
        yield from super()._outgoing()
        if self._cancel:
            yield Edge(src=self, dst=self._cancel, edge_class="cancel", label="撤销")


def _state(activation):
    return activation.process.assignment.state


class AssignmentFlow(flow.Flow):
    """督办事项

    一个报送单位(县级民政局,或报送年度工作报告的科室)在一个报送年度的办理、报送、审核与验收。
    """

    start = flow.StartHandle().Next(this.work)
    work = (
        HumanTask()
        .Annotation(title="报送单位办理与报送")  # a county bureau, or a section on its annual report
        .Permission(WORK_PERMISSION, obj=lambda process: process.assignment.unit)
        .Assign(lambda activation: activation.process.assignment.assignee)
        .Next(this.review)
        .Cancel(this.cancelled)
    )
    review = (
        HumanTask()
        .Annotation(title="牵头科室审核验收")
        .Permission(REVIEW_PERMISSION, obj=lambda process: process.assignment.lead_section)
        .Next(this.decide)
        .Cancel(this.cancelled)
    )
    decide = (
        flow.Switch()
        .Annotation(title="验收、退回或撤回")
        .Case(this.end, lambda activation: _state(activation) == State.ACCEPTED)
        .Case(this.work, lambda activation: _state(activation) == State.RETURNED)
        .Case(this.work, lambda activation: _state(activation) == State.IN_PROGRESS)
    )
    end = flow.End().Annotation(title="已验收")
    cancelled = flow.End().Annotation(title="已撤销")
