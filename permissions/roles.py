"""Roles, their groups, and the unit grants that say which unit a person acts for.

A role is a Django group. A person's unit is the unit row on which they hold object permissions
(guardian's object permission table, which viewflow's task queue reads too); global grants of those
permissions are never made, since one model-level grant would expose every county.
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils.functional import LazyObject, empty
from guardian.models import UserObjectPermission

from assignments.models import Unit

VIEW = "view_unit_assignments"
WORK = "work_unit_assignments"
REASSIGN = "reassign_unit_assignments"
COUNTERSIGN = "countersign_unit_assignments"
REVIEW = "review_unit_assignments"
VIEW_ALL = "view_all_assignments"
AUDIT = "audit_history"


class Role:
    COUNTY_CLERK = "county_clerk"
    COUNTY_HEAD = "county_head"
    SECTION_STAFF = "section_staff"
    SECTION_CHIEF = "section_chief"
    LEADER = "leader"
    AUDITOR = "auditor"

    LABELS = {
        COUNTY_CLERK: "县局经办人",
        COUNTY_HEAD: "县局负责人",
        SECTION_STAFF: "科室经办人",
        SECTION_CHIEF: "科长",
        LEADER: "局领导",
        AUDITOR: "审计",
    }
    choices = list(LABELS.items())
    values = list(LABELS)

    # The kind of unit a role acts for (None: no unit).
    UNIT_KINDS = {
        COUNTY_CLERK: Unit.Kind.COUNTY,
        COUNTY_HEAD: Unit.Kind.COUNTY,
        SECTION_STAFF: Unit.Kind.SECTION,
        SECTION_CHIEF: Unit.Kind.SECTION,
        LEADER: Unit.Kind.CITY,
        AUDITOR: None,
    }
    # Object permissions granted on the person's own unit row. A section works on its own annual report
    # as a county does on its assignments (WORK), its chief handing it on as a county head does.
    UNIT_GRANTS = {
        COUNTY_CLERK: [VIEW, WORK],
        COUNTY_HEAD: [VIEW, WORK, REASSIGN],
        SECTION_STAFF: [VIEW, WORK, COUNTERSIGN],
        SECTION_CHIEF: [VIEW, WORK, REASSIGN, COUNTERSIGN, REVIEW],
        LEADER: [VIEW],
        AUDITOR: [],
    }
    # Model-level permissions of the role's group.
    GROUP_PERMISSIONS = {
        COUNTY_CLERK: [],
        COUNTY_HEAD: [],
        SECTION_STAFF: [],
        SECTION_CHIEF: [],
        LEADER: [VIEW_ALL],
        AUDITOR: [VIEW_ALL, AUDIT],
    }


class RoleError(ValueError):
    """A role or unit that cannot be given; the message is safe to show."""


def sync_groups():
    """Create the role groups and give each exactly its permissions. Idempotent."""
    codenames = {codename for codenames in Role.GROUP_PERMISSIONS.values() for codename in codenames}
    permissions = {
        permission.codename: permission
        for permission in Permission.objects.filter(content_type__app_label="assignments", codename__in=codenames)
    }
    for role, role_codenames in Role.GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([permissions[codename] for codename in role_codenames])


def sync_groups_after_migrate(sender, app_config=None, **kwargs):
    if app_config is not None and app_config.name == "permissions":
        sync_groups()


def resolve(role, unit_name):
    """The unit row for `role` named `unit_name` (None: none, or the city bureau for a leader).

    Raises RoleError for an unknown role or unit, or a unit of the wrong kind for the role.
    """
    if role not in Role.LABELS:
        raise RoleError(f"未知角色“{role}”。可选:{'、'.join(Role.values)}")
    if unit_name:
        unit = Unit.objects.filter(name=unit_name).first()
        if unit is None:
            known = "、".join(Unit.objects.values_list("name", flat=True)) or "(尚未载入计划)"
            raise RoleError(f"未知单位“{unit_name}”。可选:{known}")
    elif role == Role.LEADER:
        unit = Unit.objects.filter(kind=Unit.Kind.CITY).first()
    else:
        unit = None
    check_role(role, unit)
    return unit


def check_role(role, unit):
    """Refuse a role that does not exist or a unit of the wrong kind for it."""
    if role not in Role.LABELS:
        raise RoleError(f"未知角色“{role}”。可选:{'、'.join(Role.values)}")
    kind = Role.UNIT_KINDS[role]
    label = Role.LABELS[role]
    if kind is None and unit is not None:
        raise RoleError(f"{label}不属于任何单位,不能指定单位")
    if kind is not None and unit is None:
        raise RoleError(f"{label}必须指定所属单位({Unit.Kind(kind).label})")
    if kind is not None and unit.kind != kind:
        raise RoleError(f"{label}的单位必须是{Unit.Kind(kind).label},“{unit.name}”是{unit.get_kind_display()}")


@transaction.atomic
def assign_role(user, role, unit=None):
    """Make `user` hold exactly `role` for `unit`: its group and its grants on the unit row."""
    check_role(role, unit)
    sync_groups()
    user.groups.set([Group.objects.get(name=role)])
    unit_grants(user).delete()
    content_type = ContentType.objects.get_for_model(Unit)
    permissions = Permission.objects.filter(content_type=content_type, codename__in=Role.UNIT_GRANTS[role])
    UserObjectPermission.objects.bulk_create(
        UserObjectPermission(user=user, permission=permission, content_type=content_type, object_pk=str(unit.pk))
        for permission in permissions
    )
    forget(user)


@transaction.atomic
def clear_role(user):
    """Take away the user's role group and unit grants."""
    user.groups.remove(*Group.objects.filter(name__in=Role.values))
    unit_grants(user).delete()
    forget(user)


def unwrapped(user):
    """The user object itself, also behind `request.user`'s lazy wrapper: the wrapper's own `__dict__` never
    holds what is cached on the user, so a cache checked there would miss on every call."""
    if isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        return user._wrapped
    return user


def forget(user):
    """Drop what was read of the user's role and grants, after they changed."""
    user = unwrapped(user)
    for cached in ("_duban_role", "_duban_principal"):
        user.__dict__.pop(cached, None)


def role_of(user):
    """The user's role code, or None. Cached on the user object for the request."""
    user = unwrapped(user)
    if "_duban_role" not in user.__dict__:
        names = [group.name for group in user.groups.all() if group.name in Role.LABELS]
        user._duban_role = names[0] if len(names) == 1 else None
    return user._duban_role


def unit_of(user):
    """The unit the user acts for (the one they may view assignments of), or None."""
    who = principal(user)
    return min((who.units[pk] for pk in who.units_with(VIEW)), key=lambda unit: unit.position, default=None)


@dataclass
class Principal:
    """What one user holds: object grants as {codename: {unit ids}}, and global permissions."""

    grants: dict = field(default_factory=dict)
    global_perms: frozenset = frozenset()
    units: dict = field(default_factory=dict)  # {pk: Unit} of every unit in `grants`
    coordinators: dict | None = None  # {plan id: its coordinating section's id}, filled when first needed

    def units_with(self, codename):
        return self.grants.get(codename, set())

    @property
    def sees_everything(self):
        return VIEW_ALL in self.global_perms


def principal(user):
    """What `user` holds, read once per user object (one request's user) and kept on it; `forget` drops it."""
    user = unwrapped(user)
    if "_duban_principal" not in user.__dict__:
        if not user.is_authenticated or not user.is_active:
            user._duban_principal = Principal()
            return user._duban_principal
        grants = {}
        rows = unit_grants(user).values_list("permission__codename", "object_pk")
        for codename, object_pk in rows:
            grants.setdefault(codename, set()).add(int(object_pk))
        global_perms = frozenset(
            Permission.objects.filter(Q(group__user=user) | Q(user=user), content_type__app_label="assignments")
            .values_list("codename", flat=True)
            .distinct()
        )
        if user.is_superuser:
            global_perms |= {VIEW_ALL, AUDIT}
        unit_ids = set().union(*grants.values()) if grants else set()
        units = Unit.objects.in_bulk(unit_ids) if unit_ids else {}
        user._duban_principal = Principal(grants, global_perms, units)
    return user._duban_principal


def unit_grants(user):
    """The user's object permissions on unit rows."""
    return UserObjectPermission.objects.filter(user=user, content_type=ContentType.objects.get_for_model(Unit))


def describe(user):
    """A short label such as “离石区 · 县局经办人”."""
    role = role_of(user)
    unit = unit_of(user)
    label = Role.LABELS.get(role, "未分配角色")
    return f"{unit.name} · {label}" if unit else label
