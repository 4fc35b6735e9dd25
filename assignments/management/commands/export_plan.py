from django.core.management.base import BaseCommand, CommandError

from assignments import plans
from assignments.models import Plan


class Command(BaseCommand):
    help = "以计划文件的格式(JSON)在标准输出打印已载入的行动计划。"

    def add_arguments(self, parser):
        parser.add_argument("--code", help="计划文号;只载入了一个计划时可省略")

    def handle(self, *args, code=None, **options):
        queryset = Plan.objects.all()
        if code:
            queryset = queryset.filter(code=code)
        found = list(queryset[:2])
        if not found:
            raise CommandError("没有找到已载入的计划;请先运行 load_plan。")
        if len(found) > 1:
            raise CommandError("载入了多个计划,请用 --code 指定文号。")
        self.stdout.write(plans.dumps(plans.export(found[0])), ending="")
