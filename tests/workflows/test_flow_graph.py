"""The flow graph is the lifecycle that runs: every move of `Assignment.state` is an edge of `AssignmentFlow`."""

import pytest
from django.urls import URLPattern, get_resolver

from assignments.models import Assignment, State
from workflows.flows import AssignmentFlow

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


def moves():
    """(name, source state, target state) of every FSM transition, and the issue that makes an assignment."""
    yield "issue", None, State.ASSIGNED
    for transition in Assignment._meta.get_field("state").get_all_transitions(Assignment):
        yield transition.name, transition.source, transition.target or transition.source


def test_every_state_has_the_node_whose_task_is_open_in_it():
    assert set(NODE_OF_STATE) == set(State.values)
    assert set(NODE_OF_STATE.values()) <= set(nodes())


@pytest.mark.parametrize(("name", "source", "target"), list(moves()), ids=lambda value: str(value))
def test_every_move_of_the_lifecycle_is_an_edge_of_the_flow(name, source, target):
    graph = nodes()
    start = graph["start"] if source is None else graph[NODE_OF_STATE[source]]
    end = graph[NODE_OF_STATE[target]]
    if start is end:
        # a move on the same node (start, begin_review, reassign, countersign): an assign of a person's task
        assert start.task_type == "HUMAN" and start._owner_permission, name
    else:
        assert reachable(start, end), f"{name}: {start.name} → {end.name}"


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
