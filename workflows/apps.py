from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "流程与历史"

    def ready(self):
        # viewflow creates the flow's permissions only for flows imported by the time it migrates; the
        # lifecycle's actions declare themselves in the registry (and their rules in permissions.checks)
        # as their module loads.
        from . import actions, flows  # noqa: F401
