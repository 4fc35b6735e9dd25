from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "流程与历史"

    def ready(self):
        # viewflow creates the flow's permissions only for flows imported by the time it migrates.
        from . import flows  # noqa: F401
