"""The whole lifecycle (README, "The lifecycle"), and every action's rule of who may take it."""

import pytest
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS

from assignments.models import Countersign, State, Submission
from workflows import actions
from workflows.models import Event

from .conftest import fresh, indicators, snapshot


def test_an_assignment_goes_from_issue_to_acceptance_with_a_return_on_the_way(assignment, county_clerk, section_chief):
    a = actions.start(assignment, by=county_clerk, version=1)
    assert (a.state, a.version, a.assignee) == (State.IN_PROGRESS, 2, county_clerk)
    a = actions.submit(a, by=county_clerk, version=2, narrative="第一次报送", indicators=indicators(a, "30"))
    a = actions.begin_review(a, by=section_chief, version=3)
    a = actions.return_for_rework(a, by=section_chief, version=4, reason="未保站覆盖率未达标")
    assert fresh(a).state == State.RETURNED
    a = actions.submit(a, by=county_clerk, version=5, narrative="第二次报送", indicators=indicators(a, "45"))
    a = actions.begin_review(a, by=section_chief, version=6)
    a = actions.accept(a, by=section_chief, version=7, comment="同意验收")

    stored = fresh(a)
    assert (stored.state, stored.version, stored.task_id) == (State.ACCEPTED, 8, None)
    events = list(Event.objects.filter(assignment=a).order_by("sequence"))
    assert [(e.action, e.from_state, e.to_state) for e in events] == [
        ("issue", "", "assigned"),
        ("start", "assigned", "in_progress"),
        ("submit", "in_progress", "submitted"),
        ("begin_review", "submitted", "under_review"),
        ("return", "under_review", "returned"),
        ("submit", "returned", "submitted"),
        ("begin_review", "submitted", "under_review"),
        ("accept", "under_review", "accepted"),
    ]
    assert events[4].comment == "未保站覆盖率未达标"
    assert events[4].actor == section_chief and events[4].unit_name == "基政科"
    assert events[1].unit_name == "离石区"
    assert [s.number for s in Submission.objects.filter(assignment=a)] == [1, 2]
    assert events[5].snapshot["narrative"] == "第二次报送"
    assert set(events[5].snapshot["indicators"].values()) == {"45"}
    process = Process.objects.get(pk=a.process_id)
    assert process.status == PROCESS.DONE and process.finished is not None
    assert not Task.objects.filter(process=process).exclude(status=STATUS.DONE).exists()


def test_the_open_task_follows_the_state(assignment, walk, county_clerk, section_chief):
    def open_task(a):
        task = Task.objects.get(pk=fresh(a).task_id)
        return task.flow_task.name, task.status, task.owner, task.owner_permission_obj

    a = assignment
    assert open_task(a) == ("work", STATUS.NEW, None, a.county)
    a = walk.start(a)
    assert open_task(a) == ("work", STATUS.ASSIGNED, county_clerk, a.county)
    a = walk.submit(a)
    assert open_task(a) == ("review", STATUS.NEW, None, a.lead_section)
    a = walk.begin_review(a)
    assert open_task(a) == ("review", STATUS.ASSIGNED, section_chief, a.lead_section)
    a = walk.return_(a)
    assert open_task(a) == ("work", STATUS.ASSIGNED, county_clerk, a.county)  # back in the clerk's inbox


def test_recall_takes_the_report_back_before_review(assignment, walk, county_clerk):
    a = walk.to(assignment, "submitted")
    a = actions.recall(a, by=county_clerk, version=a.version)
    assert fresh(a).state == State.IN_PROGRESS
    review = Task.objects.filter(process_id=a.process_id, flow_task_type="HUMAN").order_by("pk")
    # the county completes the review task unreviewed; the flow's gateway leads back to its work
    assert [(t.flow_task.name, t.status, t.owner) for t in review] == [
        ("work", STATUS.DONE, county_clerk),
        ("review", STATUS.DONE, county_clerk),
        ("work", STATUS.ASSIGNED, county_clerk),
    ]


def test_recall_is_refused_once_review_has_begun(assignment, walk, county_clerk):
    a = walk.to(assignment, "under_review")
    before = snapshot(a)
    with pytest.raises(actions.Conflict, match="审核中"):
        actions.recall(a, by=county_clerk, version=a.version)
    assert snapshot(a) == before


def test_cancel_ends_the_process_as_cancelled(assignment, walk, section_chief):
    a = walk.to(assignment, "under_review")
    a = actions.cancel(a, by=section_chief, version=a.version, reason="任务调整")
    assert fresh(a).state == State.CANCELLED
    assert Process.objects.get(pk=a.process_id).status == PROCESS.CANCELED
    assert Task.objects.filter(process_id=a.process_id, status=STATUS.CANCELED).count() == 1


def test_reassign_hands_the_work_to_another_clerk_of_the_county(assignment, walk, county_head, make_user):
    colleague = make_user("lishi_clerk2", "county_clerk", "离石区")
    a = walk.to(assignment, "in_progress")
    a = actions.reassign(a, by=county_head, version=a.version, to="lishi_clerk2")
    stored = fresh(a)
    assert stored.assignee == colleague
    assert Task.objects.get(pk=stored.task_id).owner == colleague
    assert Event.objects.filter(assignment=a, action="reassign").get().snapshot == {"to": "lishi_clerk2"}


def test_reassign_refuses_a_clerk_of_another_county(assignment, walk, county_head, other_county_clerk):
    a = walk.to(assignment, "in_progress")
    before = snapshot(a)
    with pytest.raises(actions.Invalid, match="不是本单位的经办人"):
        actions.reassign(a, by=county_head, version=a.version, to=other_county_clerk.username)
    with pytest.raises(actions.Invalid, match="没有名为"):
        actions.reassign(a, by=county_head, version=a.version, to="nobody")
    assert snapshot(a) == before


def test_countersign_records_a_co_operating_sections_opinion(assignment, walk, co_section_staff):
    a = walk.to(assignment, "under_review")
    a = actions.countersign(a, by=co_section_staff, version=a.version, opinion="数据已核对", agree=True)
    opinion = Countersign.objects.get(assignment=a)
    assert (opinion.section.name, opinion.agree, opinion.submission.number) == ("社事科", True, 1)
    assert fresh(a).state == State.UNDER_REVIEW
    assert Event.objects.filter(assignment=a).last().unit_name == "社事科"


def test_a_measure_requiring_countersigns_cannot_be_accepted_before_every_co_section_agrees(
    assignment, walk, section_chief, co_section_staff, other_section_chief, make_user
):
    measure = assignment.item.measure
    measure.countersign_required = True
    measure.save()
    a = walk.to(assignment, "under_review")
    with pytest.raises(actions.Conflict, match="尚需 社管科、社事科、救助科 会签同意"):
        actions.accept(a, by=section_chief, version=a.version)
    a = actions.countersign(a, by=co_section_staff, version=a.version, opinion="同意", agree=True)
    a = actions.countersign(a, by=other_section_chief, version=a.version, opinion="不同意", agree=False)
    jiuzhu = make_user("jiuzhu_staff", "section_staff", "救助科")
    a = actions.countersign(a, by=jiuzhu, version=a.version, opinion="同意", agree=True)
    with pytest.raises(actions.Conflict, match="尚需 社管科 会签同意"):
        actions.accept(a, by=section_chief, version=a.version)
    a = actions.countersign(a, by=other_section_chief, version=a.version, opinion="补充后同意", agree=True)
    a = actions.accept(a, by=section_chief, version=a.version)
    assert fresh(a).state == State.ACCEPTED


# Who may take each action (the README's table): the action, the state it starts from, and the personas allowed.
RULES = [
    ("start", "assigned", {"county_clerk", "county_head"}),
    ("submit", "in_progress", {"county_clerk", "county_head"}),
    ("submit", "returned", {"county_clerk", "county_head"}),
    ("recall", "submitted", {"county_clerk", "county_head"}),
    ("begin_review", "submitted", {"section_chief"}),
    ("accept", "under_review", {"section_chief"}),
    ("return", "under_review", {"section_chief"}),
    ("countersign", "under_review", {"other_section_chief", "co_section_staff"}),
    ("reassign", "in_progress", {"county_head"}),
    ("cancel", "in_progress", {"section_chief"}),
]
PERSONAS = [
    "county_clerk",
    "county_head",
    "other_county_clerk",
    "other_county_head",
    "section_staff",
    "section_chief",
    "other_section_chief",
    "co_section_staff",
    "leader",
    "auditor",
]
TARGET = {
    "start": "in_progress",
    "submit": "submitted",
    "recall": "in_progress",
    "begin_review": "under_review",
    "accept": "accepted",
    "return": "returned",
    "countersign": "under_review",
    "reassign": "in_progress",
    "cancel": "cancelled",
}


def take(action, assignment, user, make_user):
    version = assignment.version
    if action == "submit":
        return actions.submit(assignment, by=user, version=version, narrative="报送", indicators=indicators(assignment))
    if action == "return":
        return actions.return_for_rework(assignment, by=user, version=version, reason="理由")
    if action == "countersign":
        return actions.countersign(assignment, by=user, version=version, opinion="意见", agree=True)
    if action == "reassign":
        make_user("lishi_clerk2", "county_clerk", "离石区")
        return actions.reassign(assignment, by=user, version=version, to="lishi_clerk2")
    if action == "cancel":
        return actions.cancel(assignment, by=user, version=version, reason="理由")
    return getattr(actions, action)(assignment, by=user, version=version)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action, state, allowed", RULES, ids=[f"{a}-from-{s}" for a, s, _ in RULES])
def test_each_action_is_taken_by_its_actor_and_refused_to_everyone_else(
    request, assignment, walk, make_user, action, state, allowed, persona
):
    user = request.getfixturevalue(persona)
    a = walk.to(assignment, state)
    if persona in allowed:
        a = take(action, a, user, make_user)
        assert fresh(a).state == TARGET[action]
        assert Event.objects.filter(assignment=a).last().actor == user
    else:
        before = snapshot(a)
        with pytest.raises(actions.NotAllowed):
            take(action, a, user, make_user)
        assert snapshot(a) == before


def test_another_countys_assignment_is_refused_to_a_clerk(other_county_assignment, county_clerk):
    before = snapshot(other_county_assignment)
    with pytest.raises(actions.NotAllowed):
        actions.start(other_county_assignment, by=county_clerk, version=1)
    assert snapshot(other_county_assignment) == before


def test_the_readme_diagram_is_the_one_drawn_from_the_transition_declarations():
    from django.conf import settings

    from workflows.diagram import lifecycle_diagram

    readme = (settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- lifecycle:start -->\n```mermaid\n")[1].split("```\n<!-- lifecycle:end -->")[0]
    assert block == lifecycle_diagram()


def test_every_action_of_the_registry_has_a_transition_a_form_a_body_and_a_label():
    from django_fsm import FSMField

    from assignments.models import Assignment
    from workflows.api import BODIES
    from workflows.forms import ActionForm
    from workflows.models import Event
    from workflows.registry import ACTIONS

    state = next(f for f in Assignment._meta.fields if isinstance(f, FSMField))
    transitions = {t.name for t in state.get_all_transitions(Assignment)}
    assert {entry.transition for entry in ACTIONS.values()} == transitions  # and no transition without an action
    for name, entry in ACTIONS.items():
        assert entry.label == Event.Action(name).label
        assert entry.sources, name
        form = ActionForm(entry=entry)
        assert "version" in form.fields and all(
            spec.name in form.fields for spec in entry.fields if spec.kind != "indicators"
        )
        body = BODIES[name]()
        assert set(body.fields) == {"version", *(spec.name for spec in entry.fields)}
        assert {n for n, f in body.fields.items() if f.required} == {
            "version",
            *(spec.name for spec in entry.fields if spec.required),
        }


def test_perform_takes_exactly_the_actions_of_the_registry(assignment, county_clerk):
    from workflows.registry import ACTIONS

    with pytest.raises(actions.Invalid, match="未知操作"):
        actions.perform("fly", assignment, by=county_clerk, version=1)
    for name, entry in ACTIONS.items():
        assert getattr(actions, entry.transition) is entry.function, name
    a = actions.perform("start", assignment, by=county_clerk, version=1)
    assert fresh(a).state == State.IN_PROGRESS


def test_the_rules_of_who_may_act_come_from_the_registry():
    from permissions.checks import ATTACH, RULES
    from workflows.registry import ACTIONS

    assert set(RULES) == {*ACTIONS, ATTACH}
    for name, entry in ACTIONS.items():
        assert RULES[name].grant == entry.who and RULES[name].transition == entry.transition
