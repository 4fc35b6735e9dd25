from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from assignments import selectors
from workflows import actions, calendar, rounds


class Command(BaseCommand):
    help = "下达某一年度的报送任务:每个当年有效的工作事项 × 每个县级民政局一个督办事项。重复运行不会重复下达。"

    def add_arguments(self, parser):
        parser.add_argument("year", type=int, help="报送年度,如 2024")
        parser.add_argument("--by", help="以此科长的名义下达(默认:系统)")
        parser.add_argument("--plan", help="计划文号;只载入了一个计划时可省略")

    def handle(self, *args, year, by=None, plan=None, **options):
        try:
            plan = selectors.the_plan(plan)
        except LookupError as error:
            raise CommandError(str(error)) from None
        user = None
        if by:
            user = get_user_model().objects.filter(username=by, is_active=True).first()
            if user is None:
                raise CommandError(f"没有名为“{by}”的在用账号")
        try:
            round_, created = rounds.open_round(year, by=user, plan=plan)
        except actions.ActionError as error:
            raise CommandError(error.message) from None
        total = round_.assignments.count()
        if created:
            self.stdout.write(f"{plan.code} {year} 年度已下达:新建督办事项 {created} 个(本年度共 {total} 个)。")
        else:
            self.stdout.write(f"{plan.code} {year} 年度此前已下达,未新建督办事项(本年度共 {total} 个)。")
        if note := calendar.unknown_note(year):
            self.stdout.write(f"注意:{note},报送期限只避开周末。")
