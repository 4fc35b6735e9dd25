"""Bad input gets a clear error and changes nothing."""

import pytest

from workflows import actions

from .conftest import fresh, indicators, snapshot


def test_a_stale_version_is_a_conflict_naming_the_current_version(assignment, walk, section_chief):
    a = walk.to(assignment, "under_review")
    before = snapshot(a)
    with pytest.raises(actions.Conflict) as raised:
        actions.accept(a, by=section_chief, version=a.version - 1)
    assert raised.value.details == {"state": "under_review", "version": a.version}
    assert "请刷新" in raised.value.message
    assert snapshot(a) == before


def test_a_stale_accept_after_return_resubmit_and_review_is_refused(assignment, walk, section_chief):
    """A-B-A: the state is under_review again, but the version the reviewer saw is old."""
    a = walk.to(assignment, "under_review")
    seen = a.version
    a = walk.return_(a)
    a = walk.submit(a)
    a = walk.begin_review(a)
    assert a.state == "under_review"
    before = snapshot(a)
    with pytest.raises(actions.Conflict):
        actions.accept(a, by=section_chief, version=seen)
    assert snapshot(a) == before


@pytest.mark.parametrize(
    "state, action",
    [
        ("assigned", "submit"),
        ("assigned", "begin_review"),
        ("in_progress", "accept"),
        ("submitted", "accept"),
        ("accepted", "cancel"),
        ("cancelled", "start"),
        ("under_review", "start"),
        ("returned", "recall"),
    ],
)
def test_a_wrong_state_is_a_conflict_and_changes_nothing(assignment, walk, county_clerk, section_chief, state, action):
    a = walk.to(assignment, state)
    before = snapshot(a)
    user = section_chief if action in {"begin_review", "accept", "cancel"} else county_clerk
    kwargs = {"version": a.version}
    if action == "submit":
        kwargs.update(narrative="x", indicators=indicators(a))
    if action == "cancel":
        kwargs.update(reason="理由")
    with pytest.raises(actions.Conflict) as raised:
        getattr(actions, action)(a, by=user, **kwargs)
    assert raised.value.details["state"] == state
    assert snapshot(a) == before


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_return_and_cancel_need_a_reason(assignment, walk, section_chief, reason):
    a = walk.to(assignment, "under_review")
    before = snapshot(a)
    with pytest.raises(actions.Invalid, match="理由"):
        actions.return_for_rework(a, by=section_chief, version=a.version, reason=reason)
    with pytest.raises(actions.Invalid, match="理由"):
        actions.cancel(a, by=section_chief, version=a.version, reason=reason)
    assert snapshot(a) == before


def bad_values(a):
    ids = list(indicators(a))
    return [
        ({}, "请填写指标"),
        ({ids[0]: "40"}, "请填写指标"),
        ({**indicators(a), "999999": "1"}, "没有编号为 999999"),
        ({**indicators(a), ids[0]: "很多"}, "应填写数值"),
        ({**indicators(a), ids[0]: "-1"}, "不能为负数"),
        ({**indicators(a), ids[0]: "120"}, "不能超过 100"),
        ({**indicators(a), ids[0]: "12.345"}, "两位小数"),
        ({**indicators(a), ids[0]: True}, "应填写数值"),
        ({**indicators(a), ids[0]: "NaN"}, "应填写数值"),
        ({**indicators(a), ids[0]: "Infinity"}, "数值过大"),
        ({**indicators(a), ids[0]: float("inf")}, "数值过大"),
        ({**indicators(a), ids[0]: "1e400"}, "数值过大"),
        ({**indicators(a), ids[0]: "1000000000000"}, "数值过大"),
        (["40", "50"], "格式有误"),
    ]


def test_submit_checks_the_narrative_and_every_indicator(assignment, walk, county_clerk):
    a = walk.to(assignment, "in_progress")
    before = snapshot(a)
    with pytest.raises(actions.Invalid, match="请填写工作情况"):
        actions.submit(a, by=county_clerk, version=a.version, narrative="  ", indicators=indicators(a))
    for values, message in bad_values(a):
        with pytest.raises(actions.Invalid, match=message):
            actions.submit(a, by=county_clerk, version=a.version, narrative="已完成", indicators=values)
    assert snapshot(a) == before


def test_a_count_indicator_takes_only_whole_numbers(plan, county_clerk, walk):
    from assignments.models import Assignment, Indicator, Measure
    from workflows.rounds import open_round

    round_, _ = open_round(2024, measures=[Measure.objects.get(number=4)])
    a = Assignment.objects.get(round=round_, item__code="4c", unit__name="离石区")
    a = walk.start(a)
    values = indicators(a, "12")
    training = Indicator.objects.get(item=a.item, subject="县级每年对村(社区)主干系统培训次数")
    assert training.kind == "count"
    with pytest.raises(actions.Invalid, match="整数"):
        actions.submit(
            a, by=county_clerk, version=a.version, narrative="x", indicators={**values, str(training.pk): "2.5"}
        )
    a = actions.submit(a, by=county_clerk, version=a.version, narrative="x", indicators=values)
    assert fresh(a).state == "submitted"


def test_countersign_needs_an_opinion_and_a_yes_or_no(assignment, walk, co_section_staff):
    a = walk.to(assignment, "under_review")
    before = snapshot(a)
    with pytest.raises(actions.Invalid, match="会签意见"):
        actions.countersign(a, by=co_section_staff, version=a.version, opinion="", agree=True)
    with pytest.raises(actions.Invalid, match="同意或不同意"):
        actions.countersign(a, by=co_section_staff, version=a.version, opinion="好", agree="yes")
    assert snapshot(a) == before


def test_a_missing_version_is_refused(assignment, county_clerk):
    before = snapshot(assignment)
    with pytest.raises(actions.Invalid, match="版本号"):
        actions.start(assignment, by=county_clerk, version=None)
    with pytest.raises(actions.Invalid, match="版本号"):
        actions.start(assignment, by=county_clerk, version="1")
    assert snapshot(assignment) == before


def test_a_refused_accept_reports_the_state_the_assignment_is_in_not_the_one_it_would_move_to(
    assignment, walk, section_chief
):
    measure = assignment.item.measure
    measure.countersign_required = True
    measure.save()
    a = walk.to(assignment, "under_review")
    before = snapshot(a)
    with pytest.raises(actions.Conflict, match="会签同意") as raised:
        actions.accept(a, by=section_chief, version=a.version)
    assert raised.value.details == {"state": "under_review", "version": a.version}
    assert snapshot(a) == before
