from django.shortcuts import render
from django.utils.http import urlencode

from . import selectors


def _plan_context(request):
    """The plan a page shows: `?plan=CODE`, else the latest; with the plans to choose from and the query
    that keeps the choice on the page's links."""
    plan = selectors.current_plan(request.GET.get("plan"))
    plans = list(selectors.plans())
    return {"plan": plan, "plans": plans, "plan_query": f"?{urlencode({'plan': plan.code})}" if len(plans) > 1 else ""}


def plan_overview(request):
    context = _plan_context(request)
    return render(request, "assignments/plan.html", {**context, "groups": selectors.plan_overview(context["plan"])})


def measure_detail(request, number):
    context = _plan_context(request)
    measure = selectors.measure_detail(context["plan"], number)
    return render(request, "assignments/measure_detail.html", {**context, "measure": measure})
