from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "打印某账号的 API 令牌(没有则新建),令牌是最后一行的最后一个词。令牌可在管理后台吊销。"

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not username.strip():
            raise CommandError("用户名不能为空。")
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"没有名为“{username}”的在用账号")
        token, created = Token.objects.get_or_create(user=user)
        self.stdout.write(f"{'已新建' if created else '已有'} {username} 的 API 令牌: {token.key}")
