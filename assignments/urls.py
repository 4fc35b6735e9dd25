from django.urls import path
from viewflow.urls import Application

from . import views


class PlanApplication(Application):
    """The plan pages, in the site's menu."""

    title = "行动计划"
    icon = "menu_book"
    app_name = "plan"
    menu_template_name = None

    index_path = path("", views.plan_overview, name="index")
    measure_path = path("measures/<int:number>/", views.measure_detail, name="measure")
