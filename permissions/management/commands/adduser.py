from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from permissions.roles import Role, RoleError, assign_role, resolve


class Command(BaseCommand):
    help = "新建或更新账号,并指定角色和所属单位。参数有误时不作任何改动。"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help=f"角色:{'、'.join(Role.values)}")
        parser.add_argument("--unit", help="所属单位的中文名称,如 离石区、基政科;审计不填,局领导可不填")
        parser.add_argument("--password", required=True)
        parser.add_argument("--name", default="", help="姓名(显示用)")

    def handle(self, *args, username, role, unit, password, name, **options):
        try:
            unit_row = resolve(role, unit)
        except RoleError as error:
            raise CommandError(str(error)) from None
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError("密码不符合要求:" + ";".join(error.messages)) from None
        with transaction.atomic():
            created = user is None
            if created:
                user = User(username=username)
            user.set_password(password)
            if name:
                user.first_name = name
            user.is_active = True
            user.save()
            assign_role(user, role, unit_row)
        verb = "已新建" if created else "已更新"
        where = f",单位 {unit_row.name}" if unit_row else ""
        self.stdout.write(f"{verb}账号 {username}:角色 {Role.LABELS[role]}{where}")
