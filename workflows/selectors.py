"""What waits for a user: the to-do list of the pages and the API."""

from django.db.models import Exists, OuterRef, Q, Subquery
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from assignments.models import Countersign, ItemSection, State, Submission
from permissions.roles import COUNTERSIGN, principal

from .flows import AssignmentFlow


def to_do(user):
    """Assignments waiting for `user`: their open task is in the queue of the user's unit or in the
    user's own inbox (viewflow's queue and inbox, routed by the unit grants), or, for a co-operating
    section, a report under review that the section has not countersigned yet."""
    queue = Task.objects.user_queue(user, flow_class=AssignmentFlow).filter(status=STATUS.NEW).values("pk")
    waiting = Q(task__in=queue) | Q(task__owner=user, task__status=STATUS.ASSIGNED)
    sections = principal(user).units_with(COUNTERSIGN)
    if sections:
        waiting |= awaiting_countersign(sections)
    return waiting


def awaiting_countersign(sections):
    """Reports under review on which one of `sections` co-operates (not as the lead) and has given no opinion
    on the latest submission yet."""
    # the assignment's latest submission, seen from inside the countersign subquery below
    latest = Submission.objects.filter(assignment=OuterRef(OuterRef("pk"))).order_by("-number").values("pk")[:1]
    co_operating = ItemSection.objects.filter(item=OuterRef("item_id"), unit__in=sections).exclude(
        unit=OuterRef("lead_section_id")
    )
    signed = Countersign.objects.filter(assignment=OuterRef("pk"), section__in=sections, submission=Subquery(latest))
    return Q(state=State.UNDER_REVIEW) & Exists(co_operating) & ~Exists(signed)
