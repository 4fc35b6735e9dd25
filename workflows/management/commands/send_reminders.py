import datetime

from django.core.management.base import BaseCommand, CommandError

from workflows import deadlines
from workflows.reminders import send_reminders


class Command(BaseCommand):
    help = "向各报送单位的人员发送当天的临近期限(黄灯)与逾期(红灯)提醒,每人每天一条;同一天再运行不重复发送。"

    def add_arguments(self, parser):
        parser.add_argument("--today", help="按这一天计算(YYYY-MM-DD),默认今天")

    def handle(self, *args, today=None, **options):
        if today is None:
            day = deadlines.today()
        else:
            try:
                day = datetime.date.fromisoformat(today)
            except ValueError:
                raise CommandError(f"--today 应为日期 YYYY-MM-DD,不是“{today}”") from None
        count = send_reminders(day)
        self.stdout.write(f"{day:%Y-%m-%d}:已发送提醒 {count} 条")
