"""The lifecycle as a diagram (`manage.py lifecycle`, and the README's chart)."""

from assignments.models import Assignment, State


def lifecycle_diagram():
    """A Mermaid state diagram of `Assignment.state`, drawn from its transition declarations."""
    field = Assignment._meta.get_field("state")
    labels = dict(State.choices)
    lines = ["stateDiagram-v2", f"    [*] --> {State.ASSIGNED}: issue"]
    for state in State.values:
        lines.append(f"    {state}: {state} {labels[state]}")
    order = {state: index for index, state in enumerate(State.values)}
    edges = {
        (transition.source, transition.target or transition.source, transition.name)
        for transition in field.get_all_transitions(Assignment)
    }
    for source, target, name in sorted(edges, key=lambda edge: (order[edge[0]], order[edge[1]], edge[2])):
        lines.append(f"    {source} --> {target}: {name}")
    lines.append(f"    {State.ACCEPTED} --> [*]")
    lines.append(f"    {State.CANCELLED} --> [*]")
    return "\n".join(lines) + "\n"
