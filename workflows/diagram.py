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
