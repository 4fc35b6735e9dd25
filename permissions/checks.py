"""Who may see and do what: the one `can(user, action, assignment)` and the scoped querysets.

Everything derives from the user's grants: guardian object permissions on unit rows (which unit the
person acts for, and as what) and the model-level permissions of the role's group (leaders and
auditors see every unit). They are read once per user object and kept on it.
"""

from typing import NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q
from guardian.models import UserObjectPermission

from assignments.models import Assignment, ItemSection, MeasureSection, Plan, State, Unit

from . import roles
from .roles import principal


class Grant(NamedTuple):
    """Who may take an action: the holders of the unit grant `codename` on the assignment's `where`
    unit: `unit` (its reporting unit), `lead_section`, `co_sections` (any of the item's co-operating
    sections), or `lead_section_or_coordinator` (its lead section, or its plan's coordinating section)."""

    codename: str
    where: str


class Rule(NamedTuple):
    grant: Grant
    transition: str | None  # the `Assignment` method that is the action's move: its sources are the states
    states: tuple = ()  # for an action that is not a transition, the states it may be taken in
    when: object = None  # a further condition of the assignment (e.g. an open urging to acknowledge), or None


ATTACH = "attach"

# Who may take each action, and in which states. The lifecycle actions are declared once, in the
# registry of actions (`workflows.registry`), which calls `declare` for each as it loads; this app may
# not import that one, so the rules come down to it instead. Attaching files is no transition of the
# lifecycle; its rule is declared here.
RULES = {}


def declare(action, grant, *, transition=None, states=(), when=None):
    RULES[action] = Rule(grant, transition, tuple(states), when)


declare(ATTACH, Grant(roles.WORK, "unit"), states=(State.IN_PROGRESS, State.RETURNED))


def coordinators(user):
    """Each plan's coordinating section, {plan id: unit id} (read once per user object, like the grants).
    A section coordinates its own plan only: in another plan it is one section among the others."""
    who = principal(user)
    if who.coordinators is None:
        who.coordinators = dict(Plan.objects.exclude(coordinator=None).values_list("pk", "coordinator_id"))
    return who.coordinators


def visible_to(user, queryset=None):
    """The assignments `user` may see, filtered in SQL by the user's units."""
    queryset = Assignment.objects.all() if queryset is None else queryset
    who = principal(user)
    if who.sees_everything:
        return queryset
    visible = who.units_with(roles.VIEW)
    if not visible:
        return queryset.none()
    # a county sees its own assignments, a section its own annual report (other units' reports: none)
    condition = Q(unit_id__in=visible)
    sections = {pk for pk in visible if who.units[pk].kind == Unit.Kind.SECTION}
    if sections:
        condition |= Q(round__plan__coordinator_id__in=sections)
        condition |= Exists(ItemSection.objects.filter(item_id=OuterRef("item_id"), unit_id__in=sections))
        condition |= Exists(
            MeasureSection.objects.filter(measure_id=OuterRef("item__measure_id"), unit_id__in=sections)
        )
    return queryset.filter(condition)


def co_section_ids(assignment):
    """The sections that co-operate on the assignment's item: all of its row's sections but the lead."""
    return {
        unit_id
        for unit_id in ItemSection.objects.filter(item_id=assignment.item_id).values_list("unit_id", flat=True)
        if unit_id != assignment.lead_section_id
    }


def can(user, action, assignment):
    """Whether `user` may take `action` on `assignment` as far as who they are goes (not the state)."""
    rule = RULES.get(action)
    if rule is None:
        return False
    codename, where = rule.grant
    units = principal(user).units_with(codename)
    if not units:
        return False
    if where == "co_sections":
        return bool(units & co_section_ids(assignment))
    if where == "lead_section_or_coordinator":
        return assignment.lead_section_id in units or coordinators(user).get(assignment.round.plan_id) in units
    return getattr(assignment, f"{where}_id") in units


def transition_of(action):
    """The name of the `Assignment` method that is the action's move."""
    return RULES[action].transition


def allowed_in_state(action, assignment):
    rule = RULES[action]
    if rule.transition is None:
        return assignment.state in rule.states
    transitions = getattr(Assignment, rule.transition)._django_fsm.transitions
    return assignment.state in transitions and (rule.when is None or rule.when(assignment))


def available_actions(user, assignment):
    """The actions `user` may take on `assignment` now: the buttons to show, the API's `actions`."""
    return [action for action in RULES if allowed_in_state(action, assignment) and can(user, action, assignment)]


def can_audit(user):
    """Auditors (and superusers) may run the integrity check of the history."""
    return roles.AUDIT in principal(user).global_perms


def can_issue(user, measure):
    """The chief of a measure's lead section may open its round; the chief of its plan's coordinating
    section, any of that plan."""
    reviewing = principal(user).units_with(roles.REVIEW)
    if not reviewing:
        return False
    lead = min(measure.measure_sections.all(), key=lambda link: link.position).unit_id  # prefetch-friendly
    return lead in reviewing or coordinators(user).get(measure.plan_id) in reviewing


def can_issue_reports(user, plan):
    """Only the chief of `plan`'s coordinating section issues the sections' annual reports it reviews."""
    return plan.coordinator_id is not None and plan.coordinator_id in principal(user).units_with(roles.REVIEW)


def people_with(codename, unit_id):
    """Active users holding `codename` on the unit (e.g. the clerks of a county)."""
    from django.contrib.auth import get_user_model

    holders = UserObjectPermission.objects.filter(
        permission__codename=codename,
        content_type=ContentType.objects.get_for_model(Unit),
        object_pk=str(unit_id),
    ).values("user_id")
    return get_user_model().objects.filter(pk__in=holders, is_active=True).order_by("username")


def issuable_measures(user, plan):
    """The measures of `plan` that `user` may open a round for."""
    measures = plan.measures.prefetch_related("measure_sections").order_by("number")
    return [measure for measure in measures if can_issue(user, measure)]
