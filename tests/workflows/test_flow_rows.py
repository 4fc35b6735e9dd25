"""Tasks reach the right queues (the rows themselves: test_flow_contract.py)."""

from viewflow.workflow.models import Task

from assignments.models import Assignment
from workflows.flows import AssignmentFlow

from .conftest import snapshot


def test_the_countys_task_is_in_its_own_queue_only(
    assignment, other_county_assignment, county_clerk, other_county_clerk
):
    queue = Task.objects.user_queue(county_clerk, flow_class=AssignmentFlow).filter(status="NEW")
    processes = set(queue.values_list("process_id", flat=True))
    assert assignment.process_id in processes
    assert other_county_assignment.process_id not in processes
    assert len(processes) == Assignment.objects.filter(unit=assignment.unit).count()
    other = set(
        Task.objects.user_queue(other_county_clerk, flow_class=AssignmentFlow).values_list("process_id", flat=True)
    )
    assert assignment.process_id not in other and other_county_assignment.process_id in other


def test_the_review_task_is_in_the_lead_sections_queue_only(
    assignment, walk, section_chief, other_section_chief, county_clerk
):
    a = walk.to(assignment, "submitted")
    reviewing = Task.objects.user_queue(section_chief, flow_class=AssignmentFlow).filter(
        flow_task=AssignmentFlow.review
    )
    assert list(reviewing.values_list("process_id", flat=True)) == [a.process_id]
    for user in (other_section_chief, county_clerk):
        assert (
            not Task.objects.user_queue(user, flow_class=AssignmentFlow)
            .filter(flow_task=AssignmentFlow.review)
            .exists()
        )


def test_the_started_assignment_is_in_the_clerks_inbox(assignment, walk, county_clerk):
    a = walk.start(assignment)
    inbox = Task.objects.filter(owner=county_clerk, status="ASSIGNED")
    assert list(inbox.values_list("process_id", flat=True)) == [a.process_id]
    assert snapshot(a)["assignment"]["task_id"] == inbox.get().pk
