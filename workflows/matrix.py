"""The round's matrix (年度总览): the plan's measures and items × its counties, each cell one assignment's
state and light, with the sections' annual reports as one more block, and counts per measure, per county and
in all; or the same as it stood at the end of a past day, rebuilt from the history.

The grid is read in two queries whatever the round's size: the assignments' `values()` (one row per cell,
scoped to the viewer) and the plan's structure (measures with their groups, and their items); the counties
are a third. Everything a cell shows is computed here, so the template only loops.
"""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import OuterRef, Prefetch, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from assignments.models import Measure, State, Unit, WorkItem
from permissions import roles
from permissions.checks import visible_to
from permissions.roles import principal

from .deadlines import MEANINGS, Light, with_lights
from .models import Event

STATE_LABELS = dict(State.choices)


def may_view(user):
    """Leaders, auditors and every section's people see the matrix (each what `visible_to` lets them);
    a county's people have their own list instead."""
    who = principal(user)
    if who.sees_everything:
        return True
    return any(who.units[pk].kind == Unit.Kind.SECTION for pk in who.units_with(roles.VIEW))


def end_of(day):
    """The first instant after `day` in the site's time zone (Asia/Shanghai)."""
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))


def cell_rows(user, round_, *, section=None, state=None, light=None, as_of=None):
    """One dict per assignment of `round_` that `user` may see: pk, item_id, unit_id, unit__name, state, light.

    With `as_of` (a date) the state is the `to_state` of the assignment's last event up to the end of that
    day, and an assignment with no event by then (issued later) is absent; a light belongs to today's due
    dates, so none is given then. `section` names a lead section."""
    rows = visible_to(user).filter(round=round_)
    if section:
        rows = rows.led_by(section)
    if as_of is None:
        rows = with_lights(rows)
        if state:
            rows = rows.filter(state=state)
        if light:
            rows = rows.filter(light=light)
        return rows.order_by("unit__position", "pk").values("pk", "item_id", "unit_id", "unit__name", "state", "light")
    last = Event.objects.filter(assignment=OuterRef("pk"), at__lt=end_of(as_of)).order_by("-sequence")
    rows = rows.annotate(then=Subquery(last.values("to_state")[:1])).filter(then__isnull=False)
    if state:
        rows = rows.filter(then=state)
    return rows.order_by("unit__position", "pk").values("pk", "item_id", "unit_id", "unit__name", "then")


LIGHT_LABELS = {light.value: f"{light.label} {MEANINGS[light]}" for light in Light}


class Cell:
    """One assignment in the matrix, with its markup made here: a full round has some 550 of them, and
    building each in the template would cost more than the rest of the page."""

    __slots__ = ("url", "state", "label", "light", "light_label", "title", "html")

    def __init__(self, url, state, light, where):
        self.url, self.state, self.light = url, state, light
        self.label = STATE_LABELS[state]
        self.light_label = LIGHT_LABELS[light] if light else ""
        self.title = " · ".join(part for part in (where, self.label, self.light_label) if part)
        dot = (
            f'<span class="duban-light duban-light--{light}"><span class="duban-light__dot" aria-hidden="true">'
            f'</span><span class="duban-hidden">{self.light_label}</span></span>'
            if light
            else ""
        )
        title = escape(self.title)  # the url, state and light are ours; the title names units and items
        self.html = mark_safe(
            f'<a class="duban-cell duban-state--{state}" href="{url}" title="{title}">{dot}{self.label}</a>'
        )


def _counts(counter):
    """[(state, label, count)] in the lifecycle's order, the states present only."""
    return [(value, label, counter[value]) for value, label in State.choices if counter[value]]


@dataclass
class Row:
    item: WorkItem
    cells: list  # one Cell or None per column


@dataclass
class MeasureBlock:
    measure: Measure
    rows: list = field(default_factory=list)
    counter: Counter = field(default_factory=Counter)

    @property
    def counts(self):
        return _counts(self.counter)

    @property
    def total(self):
        return sum(self.counter.values())


@dataclass
class Matrix:
    counties: list  # [Unit], the columns
    measures: list  # [MeasureBlock], the rows
    reports: list  # [(section name, Cell)], the sections' annual reports
    per_county: list  # [Counter], one per county
    counter: Counter  # every cell, the reports too

    @property
    def counts(self):
        return _counts(self.counter)

    @property
    def total(self):
        return sum(self.counter.values())

    @property
    def county_counts(self):
        """The per-county table: [(label, [count per county], in all)], one row per state present."""
        return [(label, [c[value] for c in self.per_county], self.counter[value]) for value, label, _ in self.counts]

    @property
    def county_totals(self):
        return [sum(c.values()) for c in self.per_county]


def structure(plan, year):
    """The plan's measures with their group and the items active in `year`, in order: two queries."""
    items = WorkItem.objects.filter(first_year__lte=year, last_year__gte=year).order_by("position")
    measures = Measure.objects.filter(plan=plan).select_related("group").order_by("number")
    return list(measures.prefetch_related(Prefetch("items", queryset=items)))


def groups_of(measures):
    """The groups of `measures` (from `structure`), in order, without another query."""
    return list({measure.group_id: measure.group for measure in measures}.values())


def counties_of(plan):
    """The plan's counties in the plan's order."""
    return list(Unit.objects.counties().filter(plan_units__plan=plan).order_by("plan_units__position"))


def build(user, round_, measures, counties, *, group=None, section=None, state=None, light=None, as_of=None):
    """The matrix of `round_` as `user` may see it, filtered, over `measures` (from `structure`) and
    `counties` (from `counties_of`); `group` is a MeasureGroup number. See the module's docstring."""
    column = {county.pk: index for index, county in enumerate(counties)}
    measures = [measure for measure in measures if not group or measure.group.number == group]
    place = {}  # item id → (measure block, row)
    blocks = []
    for measure in measures:
        block = MeasureBlock(measure)
        blocks.append(block)
        for item in measure.items.all():
            row = Row(item, [None] * len(counties))
            block.rows.append(row)
            place[item.pk] = (block, row)
    detail = reverse("assignments:detail", args=[0])[: -len("0/")]
    reports, by_county, counter = [], [Counter() for _ in counties], Counter()
    state_key = "state" if as_of is None else "then"
    for found in cell_rows(user, round_, section=section, state=state, light=light, as_of=as_of):
        current = found[state_key]
        if found["item_id"] is None:
            if group:  # the reports belong to no group of measures
                continue
            name = found["unit__name"]
            reports.append((name, Cell(f"{detail}{found['pk']}/", current, found.get("light"), name)))
            counter[current] += 1
            continue
        if found["item_id"] not in place or found["unit_id"] not in column:
            continue  # an item outside the chosen group
        block, row = place[found["item_id"]]
        where = f"{found['unit__name']} · {row.item.code}"
        index = column[found["unit_id"]]
        row.cells[index] = Cell(f"{detail}{found['pk']}/", current, found.get("light"), where)
        block.counter[current] += 1
        by_county[index][current] += 1
        counter[current] += 1
    # what the viewer has no assignment of (another section's measures, a filter's misses) is left out
    for block in blocks:
        block.rows = [row for row in block.rows if any(row.cells)]
    blocks = [block for block in blocks if block.rows]
    return Matrix(counties, blocks, reports, by_county, counter)
