"""The one registry of the lifecycle's actions: each is declared once, on its function.

    @action("return", who=Grant(roles.REVIEW, "lead_section"), fields=[REASON], move=through_decide_to_work)
    def return_for_rework(assignment, *, by, version, reason): ...

An entry holds the action's name (as the URL, the API and the history name it), who may take it (the
unit grant and which of the assignment's units), the data it takes (one list of fields, from which
the page's form and the API's body are both derived), the move of the viewflow task, and the function
itself. Its FSM transition is the `Assignment` method of the function's name (declared with
`@transition` on the model, the authority on states); its Chinese label is the history's
(`Event.Action`). The entries are made as `workflows.actions` loads (the app loads it when it is ready). From
the registry derive `actions.perform`, the pages' forms (`workflows.forms`), the API's
bodies and routes (`workflows.serializers`, `workflows.api`), the diagram (`workflows.diagram`), and
`can`/`available_actions`: `permissions.checks` may not import this app (assignments ← permissions
← workflows), so each entry hands its rule down to it through `checks.declare` as it is declared.

Adding an action is one decorated function in `workflows.actions` (and its task move, if it has one).
"""

from dataclasses import dataclass, field

from assignments.models import Assignment
from permissions import checks
from permissions.checks import Grant

from .models import Event

__all__ = ["ACTIONS", "Entry", "Field", "Grant", "action"]


@dataclass(frozen=True)
class Field:
    """One item of data an action takes. `kind`: `text` (a string; made only of blanks or invisible
    characters it counts as empty), `bool` (yes or no), `user` (a username), `date` (a day), or
    `indicators` (one value per indicator of the item, {id: value})."""

    name: str
    kind: str
    label: str
    required: bool = True
    max_length: int = 2000
    help: str = ""
    choices: tuple = ()  # for `bool`: the labels of yes and no


@dataclass(frozen=True)
class Entry:
    name: str
    function: object
    who: Grant
    fields: tuple = field(default=())
    move: object = None  # the task move: a function of the act in progress, or None when the task stays

    @property
    def transition(self):
        return self.function.__name__

    @property
    def label(self):
        return Event.Action(self.name).label

    @property
    def sources(self):
        return set(getattr(Assignment, self.transition)._django_fsm.transitions)


ACTIONS = {}


def action(name, *, who, fields=(), move=None, when=None):
    """Declare the decorated function as the action `name`; `when`, a condition of the assignment besides
    its state for the action to be offered (e.g. an open urging to acknowledge)."""

    def register(function):
        ACTIONS[name] = entry = Entry(name, function, who, tuple(fields), move)
        checks.declare(name, who, transition=entry.transition, when=when)
        return function

    return register
