from django.shortcuts import render

from . import selectors


def plan_overview(request):
    plan = selectors.current_plan()
    return render(
        request,
        "assignments/plan.html",
        {"plan": plan, "groups": selectors.plan_overview(plan)},
    )


def measure_detail(request, number):
    plan = selectors.current_plan()
    return render(
        request,
        "assignments/measure_detail.html",
        {"plan": plan, "measure": selectors.measure_detail(plan, number)},
    )
