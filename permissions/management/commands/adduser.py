from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from permissions.roles import Role, RoleError, assign_role, resolve


def check_username(User, username):
    """Django's own rules for a username (letters, digits and @.+-_, at most 150 characters)."""
    if not username.strip():
        raise CommandError("用户名不能为空。")
    field = User._meta.get_field(User.USERNAME_FIELD)
    try:
        field.run_validators(username)
    except ValidationError as error:
        raise CommandError(f"用户名“{username}”不符合要求:" + ";".join(error.messages)) from None


class Command(BaseCommand):
    help = "新建或更新账号,并指定角色和所属单位。参数有误时不作任何改动。"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help=f"角色:{'、'.join(Role.values)}")
        parser.add_argument("--unit", help="所属单位的中文名称,如 离石区、基政科;审计不填,局领导可不填")
        parser.add_argument("--password", required=True)
        parser.add_argument("--name", default="", help="姓名(显示用)")
        parser.add_argument("--reactivate", action="store_true", help="重新启用一个已停用的账号")
        parser.add_argument("--drop-superuser", action="store_true", help="取消一个超级管理员账号的超级管理员身份")

    def handle(self, *args, username, role, unit, password, name, reactivate, drop_superuser, **options):
        User = get_user_model()
        check_username(User, username)
        try:
            unit_row = resolve(role, unit)
        except RoleError as error:
            raise CommandError(str(error)) from None
        user = User.objects.filter(username=username).first()
        if user is not None and not user.is_active and not reactivate:
            raise CommandError(f"账号 {username} 已停用;确要重新启用,请加 --reactivate。")
        if user is not None and user.is_superuser and not drop_superuser:
            raise CommandError(
                f"账号 {username} 是超级管理员,角色对它不起限制作用;确要取消其超级管理员身份,请加 --drop-superuser。"
            )
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
            user.is_superuser = False  # refused above unless --drop-superuser was given
            user.save()
            assign_role(user, role, unit_row)
        verb = "已新建" if created else "已更新"
        where = f",单位 {unit_row.name}" if unit_row else ""
        self.stdout.write(f"{verb}账号 {username}:角色 {Role.LABELS[role]}{where}")
