"""Object permissions on unit rows, in tables with a real foreign key.

Guardian's generic tables keep the object's key as text; these direct tables let every scoped
query join grants to units in SQL.
"""

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from assignments.models import Unit


class UnitUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Unit, on_delete=models.CASCADE, verbose_name="单位")

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "用户的单位权限"
        verbose_name_plural = "用户的单位权限"


class UnitGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Unit, on_delete=models.CASCADE, verbose_name="单位")

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = "用户组的单位权限"
        verbose_name_plural = "用户组的单位权限"
