"""The assignment's viewflow process, and the task moves the action functions make on it.

Every assignment has one process of `AssignmentFlow`:

    start ─► work (the county's task) ─► review (the lead section's task) ─► decide ─► end
                ▲                                                             │
                └──────────────────────── returned / recalled ◄───────────────┘

The nodes route each human task to exactly one unit's queue through a guardian object permission on
the unit row. The action functions move tasks through `workflows.tasks` (a few statements instead of
viewflow's activations); the rows it writes are the rows viewflow writes for the same path, as
`tests/workflows/test_flow_rows.py` shows by running both side by side.
"""

from viewflow import this
from viewflow.workflow import flow

from assignments.models import State

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
