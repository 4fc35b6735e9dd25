"""The lifecycle as a diagram (`manage.py lifecycle`, and the README's chart)."""

from assignments.models import Assignment, State

from .models import Event
from .registry import ACTIONS


def lifecycle_diagram():
    """A Mermaid state diagram of `Assignment.state`: the edges from its transition declarations, each
    named by its action in the registry."""
    field = Assignment._meta.get_field("state")
    labels = dict(State.choices)
    issue = Event.Action.ISSUE
    lines = ["stateDiagram-v2", f"    [*] --> {State.ASSIGNED}: {issue.value} {issue.label}"]
    for state in State.values:
        lines.append(f"    {state}: {state} {labels[state]}")
    order = {state: index for index, state in enumerate(State.values)}
    actions = {entry.transition: entry for entry in ACTIONS.values()}  # the registry names each move
    edges = {
        (transition.source, transition.target or transition.source, actions[transition.name])
        for transition in field.get_all_transitions(Assignment)
    }
    for source, target, entry in sorted(edges, key=lambda edge: (order[edge[0]], order[edge[1]], edge[2].name)):
        lines.append(f"    {source} --> {target}: {entry.name} {entry.label}")
    lines.append(f"    {State.ACCEPTED} --> [*]")
    lines.append(f"    {State.CANCELLED} --> [*]")
    return "\n".join(lines) + "\n"


# The main road of the flow chart on the assignment page; returned and cancelled are drawn beside it.
MAIN_ROAD = (State.ASSIGNED, State.IN_PROGRESS, State.SUBMITTED, State.UNDER_REVIEW, State.ACCEPTED)


def flow_chart(state, mine=()):
    """The lifecycle as the assignment page draws it, from the same transition declarations and registry as
    the diagram: `road` and `side` are the states ({value, label, current, passed}); `moves` the moves out of
    `state` ({name, label, target, mine}), each labelled by its action in the registry, `mine` the ones in
    `mine` (the actions the viewer may take now)."""
    labels = dict(State.choices)
    field = Assignment._meta.get_field("state")
    actions = {entry.transition: entry for entry in ACTIONS.values()}
    here = MAIN_ROAD.index(state) if state in MAIN_ROAD else None
    passed = set(MAIN_ROAD[:here]) if here is not None else set()
    if state == State.RETURNED:
        passed = set(MAIN_ROAD[:4])  # a returned report went through review
    road = [
        {"value": value, "label": labels[value], "current": value == state, "passed": value in passed}
        for value in MAIN_ROAD
    ]
    side = [
        {"value": value, "label": labels[value], "current": value == state, "passed": False}
        for value in (State.RETURNED, State.CANCELLED)
    ]
    moves = []
    for transition in field.get_all_transitions(Assignment):
        if transition.source != state:
            continue
        entry = actions[transition.name]
        target = transition.target or transition.source
        moves.append({"name": entry.name, "label": entry.label, "target": labels[target], "mine": entry.name in mine})
    order = {name: index for index, name in enumerate(ACTIONS)}
    moves.sort(key=lambda move: order[move["name"]])
    return {"road": road, "side": side, "moves": moves}
