"""A bare viewflow flow of the assignment's shape: no FSM, no history, no checks. The baseline."""

from viewflow import this
from viewflow.workflow import flow


def _no_view(request, **kwargs):  # pragma: no cover - never served
    raise NotImplementedError


class BareFlow(flow.Flow):
    """Bare assignment flow"""

    start = flow.StartHandle().Next(this.work)
    work = flow.View(_no_view).Permission("assignments.work_unit_assignments").Next(this.review)
    review = flow.View(_no_view).Permission("assignments.review_unit_assignments").Next(this.decide)
    decide = flow.If(lambda activation: not activation.process.data.get("returned")).Then(this.end).Else(this.work)
    end = flow.End()
