"""Reads that join several models, with their joins and prefetches inside."""

from django.db.models import Count, Prefetch
from django.http import Http404

from .models import ItemSection, Measure, MeasureGroup, MeasureSection, Plan, WorkItem

_SECTIONS = Prefetch("measure_sections", queryset=MeasureSection.objects.select_related("unit"))


def current_plan():
    """The plan the app works on (the one loaded); 404 when none is loaded."""
    plan = Plan.objects.order_by("-first_year", "id").first()
    if plan is None:
        raise Http404("尚未载入行动计划")
    return plan


def plan_overview(plan):
    """The plan's groups, each with its measures, their sections (lead first) and item counts."""
    measures = (
        Measure.objects.filter(plan=plan)
        .annotate(item_count=Count("items"))
        .prefetch_related(_SECTIONS)
        .order_by("number")
    )
    return MeasureGroup.objects.filter(plan=plan).prefetch_related(Prefetch("measures", queryset=measures))


def measure_detail(plan, number):
    """One measure with its items, each item's sections (lead first) and targets; 404 if absent."""
    items = WorkItem.objects.prefetch_related(
        Prefetch("item_sections", queryset=ItemSection.objects.select_related("unit")),
        "targets",
    )
    measure = (
        Measure.objects.filter(plan=plan, number=number)
        .select_related("group")
        .prefetch_related(_SECTIONS, Prefetch("items", queryset=items))
        .first()
    )
    if measure is None:
        raise Http404("没有这项重点任务")
    return measure
