"""The flow graph is the lifecycle that runs: every move of the action registry is an edge of `AssignmentFlow`."""

import pytest
from django.urls import URLPattern, get_resolver

from assignments.models import Assignment, State
from workflows.flows import AssignmentFlow
from workflows.registry import ACTIONS

# The node whose task is open in each state (none is open once accepted or cancelled: the end reached).
NODE_OF_STATE = {
    State.ASSIGNED: "work",
    State.IN_PROGRESS: "work",
    State.RETURNED: "work",
    State.SUBMITTED: "review",
    State.UNDER_REVIEW: "review",
    State.ACCEPTED: "end",
    State.CANCELLED: "cancelled",
}

GATEWAYS = {"SWITCH", "EXCLUSIVE_GATEWAY"}


def nodes():
    return {node.name: node for node in AssignmentFlow.instance.nodes()}


def reachable(source, target):
    """Whether `target` follows `source` by an edge, or by edges through gateways only (a move never
    passes over another task of a person)."""
    seen, frontier = set(), [source]
    while frontier:
        node = frontier.pop()
        for edge in node._outgoing():
            if edge.dst is target:
                return True
            if edge.dst.task_type in GATEWAYS and edge.dst.name not in seen:
                seen.add(edge.dst.name)
                frontier.append(edge.dst)
    return False


# Where each of the registry's task moves takes the assignment's open task (no move, or a claim, leaves it
# on its node).
DESTINATION_OF_MOVE = {"to_review": "review", "back_to_work": "work", "to_end": "end", "cancel_process": "cancelled"}


def moves():
    """(action, source state, target state, task move) of every registry action from each of its sources,
    and the issue that makes an assignment."""
    yield "issue", None, State.ASSIGNED, None
    for name, entry in ACTIONS.items():
        for source, transition in getattr(Assignment, entry.transition)._django_fsm.transitions.items():
            yield name, source, transition.target or source, entry.move


def test_the_registry_has_every_transition_of_the_state_field():
    declared = {(t.name, t.source) for t in Assignment._meta.get_field("state").get_all_transitions(Assignment)}
    assert {(ACTIONS[name].transition, source) for name, source, _, _ in moves() if name != "issue"} == declared


def test_every_state_has_the_node_whose_task_is_open_in_it():
    assert set(NODE_OF_STATE) == set(State.values)
    assert set(NODE_OF_STATE.values()) <= set(nodes())


@pytest.mark.parametrize(("name", "source", "target", "move"), list(moves()), ids=str)
def test_every_move_of_the_registry_is_an_edge_of_the_flow(name, source, target, move):
    graph = nodes()
    start = graph["start"] if source is None else graph[NODE_OF_STATE[source]]
    end = graph[NODE_OF_STATE[target]]
    if start is end:
        # a move on the same node (start, begin_review, reassign, countersign): an assign of a person's task
        assert start.task_type == "HUMAN" and start._owner_permission, name
        assert move is None or move.__name__ not in DESTINATION_OF_MOVE, name
    else:
        assert reachable(start, end), f"{name}: {start.name} → {end.name}"
        if name != "issue":
            assert DESTINATION_OF_MOVE[move.__name__] == end.name, name


def test_every_task_of_a_person_can_be_cancelled_and_nothing_else_leads_to_the_cancelled_end():
    graph = nodes()
    into_cancelled = {
        edge.src.name for node in graph.values() for edge in node._outgoing() if edge.dst.name == "cancelled"
    }
    assert into_cancelled == {name for name, node in graph.items() if node.task_type == "HUMAN"} == {"work", "review"}


def test_the_decide_gateway_leads_to_the_end_and_back_to_work_only():
    decide = nodes()["decide"]
    assert {edge.dst.name for edge in decide._outgoing()} == {"end", "work"}


def test_viewflows_own_task_and_process_pages_are_not_routed():
    """A task moves only through the action functions: no page of viewflow's flow views is reachable."""

    def callbacks(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                yield getattr(pattern.callback, "view_class", pattern.callback)
            else:
                yield from callbacks(pattern.url_patterns)

    views = list(callbacks(get_resolver().url_patterns))
    assert any(view.__name__ == "assignment_detail" for view in views)  # the walk reaches the site's pages
    assert [view for view in views if view.__module__.startswith("viewflow.workflow")] == []
