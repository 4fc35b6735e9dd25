"""The bulk round writes the viewflow rows viewflow itself writes, and tasks reach the right queues."""

from viewflow.workflow.models import Process, Task

from assignments.models import Assignment, Measure, Unit
from workflows import rounds
from workflows.flows import AssignmentFlow

from .conftest import fresh, snapshot


def open_one_by_one(round_, item, county):
    """viewflow's own start, one process at a time (the slow way `open_round` replaces)."""
    lead = item.item_sections.order_by("position").first().unit
    assignment = Assignment(round=round_, item=item, county=county, lead_section=lead, due=round_.due_for(item))
    AssignmentFlow.start.run(assignment=assignment)
    work = Task.objects.get(process_id=assignment.process_id, flow_task=AssignmentFlow.work)
    Assignment.objects.filter(pk=assignment.pk).update(task=work)
    return fresh(assignment)


def shape(assignment):
    """The process and its tasks with what may differ between two runs (ids, times) taken out."""
    process = Process.objects.get(pk=assignment.process_id)
    tasks = list(Task.objects.filter(process=process).order_by("pk"))
    index = {task.pk: position for position, task in enumerate(tasks)}
    return {
        "process": (str(process.flow_class), process.status, process.finished is None, process.data),
        "tasks": [
            (
                task.flow_task.name,
                task.flow_task_type,
                task.status,
                task.owner_id,
                task.owner_permission,
                task.owner_permission_content_type_id,
                task.owner_permission_obj_pk,
                str(task.token),
                task.data,
                task.started is None,
                task.finished is None,
                sorted(index[previous.pk] for previous in task.previous.all()),
            )
            for task in tasks
        ],
    }


def lifecycle(a, walk):
    for step in (walk.start, walk.submit, walk.begin_review, walk.return_, walk.submit, walk.begin_review, walk.accept):
        a = step(a)
        yield shape(a)


def test_bulk_and_one_by_one_opened_assignments_have_the_same_rows_through_the_lifecycle(plan, walk):
    measure = Measure.objects.get(number=7)
    round_, _ = rounds.open_round(2024, measures=[measure])
    bulk = Assignment.objects.get(round=round_, item__code="7a", county__name="离石区")
    item = bulk.item
    # the same item for the same county in another year, started the viewflow way
    other_round, _ = rounds.open_round(2025, measures=[Measure.objects.get(number=1)])
    reference = open_one_by_one(other_round, item, Unit.objects.get(name="离石区"))

    assert shape(bulk) == shape(reference)
    # both go on through the same actions and stay alike at every step
    for bulk_step, reference_step in zip(lifecycle(bulk, walk), lifecycle(fresh(reference), walk), strict=True):
        assert bulk_step == reference_step
    assert shape(fresh(bulk))["process"][1] == "DONE"


def test_the_countys_task_is_in_its_own_queue_only(
    assignment, other_county_assignment, county_clerk, other_county_clerk
):
    queue = Task.objects.user_queue(county_clerk, flow_class=AssignmentFlow).filter(status="NEW")
    processes = set(queue.values_list("process_id", flat=True))
    assert assignment.process_id in processes
    assert other_county_assignment.process_id not in processes
    assert len(processes) == Assignment.objects.filter(county=assignment.county).count()
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
