import datetime
import io

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from assignments import selectors
from assignments.models import Round
from workflows import ledger


class Command(BaseCommand):
    help = (
        "导出某一年度的台账:Excel 工作簿(xlsx,按任务清单的样式,每县一组列,附汇总)或 CSV(每个督办事项一行)。"
        "默认导出全部事项;用 --as 只导出该账号可查看的部分。"
    )

    def add_arguments(self, parser):
        parser.add_argument("year", type=int, help="报送年度,如 2024")
        parser.add_argument("--plan", help="计划文号;只载入了一个计划时可省略")
        parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx", help="导出格式(默认 xlsx)")
        parser.add_argument("-o", "--output", help="写入的文件;csv 可省略(打印到标准输出),xlsx 必须指定")
        parser.add_argument("--as", dest="username", help="只导出此账号可查看的督办事项")
        parser.add_argument("--today", type=datetime.date.fromisoformat, help="按这一天计算期限灯(YYYY-MM-DD,默认今天)")

    def handle(self, *args, year, plan=None, format="xlsx", output=None, username=None, today=None, **options):
        if format == "xlsx" and not output:
            raise CommandError("导出 xlsx 须用 -o 指定文件,工作簿不能打印到标准输出。")
        try:
            plan = selectors.the_plan(plan)
        except LookupError as error:
            raise CommandError(str(error)) from None
        round_ = Round.objects.select_related("plan").filter(plan=plan, year=year).first()
        if round_ is None:
            raise CommandError(f"计划 {plan.code} 的 {year} 年度尚未下达,没有台账可导出。")
        user = None
        if username:
            user = get_user_model().objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(f"没有名为“{username}”的在用账号")
        built = ledger.build(round_, user=user, on=today)
        write = ledger.write_xlsx if format == "xlsx" else ledger.write_csv
        try:
            if output:
                with open(output, "wb") as handle:
                    write(built, handle)
            else:  # a terminal or a pipe: the text without the byte-order mark Excel needs in a file
                buffer = io.BytesIO()
                write(built, buffer)
                self.stdout.write(buffer.getvalue().decode("utf-8-sig"), ending="")
        except OSError as error:
            raise CommandError(f"无法写入 {output}:{error.strerror}") from None
        if output:
            self.stdout.write(
                f"已导出 {plan.code} {year} 年度台账到 {output}:督办事项 {len(built.entries)} 个"
                f"(逾期 {len(built.late())} 个)。"
            )
