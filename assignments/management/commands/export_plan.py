from django.core.management.base import BaseCommand, CommandError

from assignments import plans, selectors


class Command(BaseCommand):
    help = "以计划文件的格式(JSON)在标准输出打印已载入的行动计划。"

    def add_arguments(self, parser):
        parser.add_argument("--plan", "--code", dest="plan", help="计划文号;只载入了一个计划时可省略")

    def handle(self, *args, plan=None, **options):
        try:
            found = selectors.the_plan(plan)
        except LookupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(plans.dumps(plans.export(found)), ending="")
