from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = "角色与权限"

    def ready(self):
        from . import roles

        # Groups carry permissions, which exist only once every app has migrated.
        post_migrate.connect(roles.sync_groups_after_migrate, dispatch_uid="duban-sync-groups")
