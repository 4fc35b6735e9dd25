"""Who sees which assignments: filtered in SQL by the user's units, never row by row."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assignments.models import Assignment, Measure
from permissions.checks import available_actions, can, visible_to
from workflows import rounds


@pytest.fixture
def round_2024(plan):
    rounds.open_round(2024)
    return Assignment.objects.all()


def keys(queryset):
    return set(queryset.values_list("key", flat=True))


def test_a_county_sees_its_own_assignments_only(round_2024, county_clerk, county_head):
    for user in (county_clerk, county_head):
        seen = visible_to(user)
        assert seen.count() == 42
        assert set(seen.values_list("unit__name", flat=True)) == {"离石区"}


def test_a_section_sees_the_measures_and_rows_it_is_responsible_for(round_2024, co_section_staff):
    seen = visible_to(co_section_staff)  # 社事科
    measures = set(seen.values_list("item__measure__number", flat=True))
    assert measures == {7, 8, 9, 13, 14, 15, 16, 20, 21, 4, None}  # 4d names 各业务科室; None: its own report
    assert not seen.filter(item__measure__number=1).exists()


def test_a_section_sees_every_row_of_the_measures_it_is_named_in(round_2024, make_user):
    quhua = make_user("quhua_staff", "section_staff", "区划科")  # measures 6 and 19, and 4d's 各业务科室
    assert set(visible_to(quhua).values_list("item__code", flat=True)) == {
        None,  # its own annual report
        "4b",
        "4c",
        "4d",
        "6a",
        "6b",
        "6c",
        "19a",
        "19b",
    }


def test_the_coordinating_section_sees_everything(round_2024, section_staff):
    assert visible_to(section_staff).count() == Assignment.objects.count()
    assert visible_to(section_staff).filter(item__measure__number=3).exists()  # 社管科 only


def test_leaders_and_auditors_see_everything(round_2024, leader, auditor):
    for user in (leader, auditor):
        assert visible_to(user).count() == Assignment.objects.count()


def test_someone_without_a_role_sees_nothing(round_2024):
    nobody = get_user_model().objects.create_user("nobody", password="x")
    assert not visible_to(nobody).exists()


def test_a_superuser_sees_everything_but_may_not_act(round_2024):
    admin = get_user_model().objects.create_superuser("root", password="x")
    a = Assignment.objects.first()
    assert visible_to(admin).count() == Assignment.objects.count()
    assert available_actions(admin, a) == []


def test_auditors_and_leaders_may_take_no_action(round_2024, auditor, leader):
    a = Assignment.objects.first()
    for user in (auditor, leader):
        assert available_actions(user, a) == []
        assert not any(can(user, action, a) for action in ["start", "accept", "cancel", "countersign"])


def test_available_actions_follow_state_and_role(round_2024, county_clerk, county_head, section_chief):
    a = Assignment.objects.get(round__year=2024, item__code="7a", unit__name="离石区")
    assert available_actions(county_clerk, a) == ["start"]
    assert available_actions(county_head, a) == ["start", "reassign"]
    assert available_actions(section_chief, a) == ["cancel", "extend", "urge"]


@pytest.mark.parametrize("persona", ["county_clerk", "co_section_staff", "section_chief", "auditor"])
def test_scoping_costs_the_same_queries_for_one_round_or_three(request, plan, persona):
    user = request.getfixturevalue(persona)
    measure = Measure.objects.get(number=7)
    rounds.open_round(2024, measures=[measure])

    def count():
        user.__dict__.pop("_duban_principal", None)
        with CaptureQueriesContext(connection) as queries:
            total = visible_to(user).count()
        return total, len(queries)

    small_total, small = count()
    rounds.open_round(2022, measures=[measure])
    rounds.open_round(2023, measures=[measure])
    large_total, large = count()
    assert large_total == 3 * small_total
    assert large == small
