from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from assignments.models import Unit
from permissions.roles import Role, assign_role, resolve

DEMO_PASSWORD = "duban-demo-2022"

# username, name, role, unit
DEMO_ACCOUNTS = [
    ("lishi_clerk", "离石区经办人", Role.COUNTY_CLERK, "离石区"),
    ("lishi_head", "离石区负责人", Role.COUNTY_HEAD, "离石区"),
    ("xingxian_clerk", "兴县经办人", Role.COUNTY_CLERK, "兴县"),
    ("jizheng_chief", "基政科科长", Role.SECTION_CHIEF, "基政科"),
    ("jizheng_staff", "基政科经办人", Role.SECTION_STAFF, "基政科"),
    ("sheguan_chief", "社管科科长", Role.SECTION_CHIEF, "社管科"),
    ("sheshi_staff", "社事科经办人", Role.SECTION_STAFF, "社事科"),
    ("leader", "局领导", Role.LEADER, None),
    ("auditor", "审计员", Role.AUDITOR, None),
]


class Command(BaseCommand):
    help = "新建(或重置)演示账号并打印账号表;另建管理员 admin。仅用于演示环境。"

    def handle(self, *args, **options):
        if not Unit.objects.exists():
            raise CommandError("尚未载入计划和单位;请先运行 load_plan。")
        User = get_user_model()
        with transaction.atomic():
            for username, name, role, unit_name in DEMO_ACCOUNTS:
                user, _ = User.objects.get_or_create(username=username)
                user.first_name = name
                user.set_password(DEMO_PASSWORD)
                user.save()
                assign_role(user, role, resolve(role, unit_name))
            admin, _ = User.objects.get_or_create(username="admin")
            admin.first_name = "系统管理员"
            admin.is_staff = admin.is_superuser = True
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        self.stdout.write(f"演示账号(密码均为 {DEMO_PASSWORD}):")
        for username, _, role, unit_name in DEMO_ACCOUNTS:
            self.stdout.write(f"  {username:<16} {Role.LABELS[role]:<6} {unit_name or ''}")
        self.stdout.write(f"  {'admin':<16} 系统管理员(/admin/)")
