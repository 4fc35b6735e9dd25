from django.conf import settings
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
    help = (
        "新建(或重置)演示账号并打印账号表;没有 admin 时另建管理员 admin。仅用于开发环境(DEBUG 开启);"
        "已有的管理员账号(含 admin)一律不改动。"
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "演示账号的密码是公开的,只能在开发环境(DEBUG 开启)中载入;生产环境请用 adduser 建立账号。"
            )
        if not Unit.objects.exists():
            raise CommandError("尚未载入计划和单位;请先运行 load_plan。")
        User = get_user_model()
        kept = []
        with transaction.atomic():
            for username, name, role, unit_name in DEMO_ACCOUNTS:
                user, _ = User.objects.get_or_create(username=username)
                if user.is_staff or user.is_superuser:
                    kept.append(username)  # an administrator someone made under a demo name: not ours to reset
                    continue
                user.first_name = name
                user.set_password(DEMO_PASSWORD)
                user.save()
                assign_role(user, role, resolve(role, unit_name))
            admin, created = User.objects.get_or_create(username="admin")
            if created:
                admin.first_name = "系统管理员"
                admin.is_staff = admin.is_superuser = True
                admin.set_password(DEMO_PASSWORD)
                admin.save()
            else:
                kept.append("admin")  # perhaps the operator's own account: its password stays as it is
        self.stdout.write(f"演示账号(密码均为 {DEMO_PASSWORD}):")
        for username, _, role, unit_name in DEMO_ACCOUNTS:
            if username not in kept:
                self.stdout.write(f"  {username:<16} {Role.LABELS[role]:<6} {unit_name or ''}")
        if "admin" not in kept:
            self.stdout.write(f"  {'admin':<16} 系统管理员(/admin/)")
        for username in kept:
            self.stdout.write(f"已有管理员账号 {username},未改动(密码不变)。")
