from django.core.management.base import BaseCommand, CommandError

from assignments import plans, selectors, workbook


class Command(BaseCommand):
    help = "导出已载入的行动计划:计划文件的格式(JSON,默认打印到标准输出),或 Excel 工作簿(xlsx,须用 -o 指定文件)。"

    def add_arguments(self, parser):
        parser.add_argument("--plan", "--code", dest="plan", help="计划文号;只载入了一个计划时可省略")
        parser.add_argument("--format", choices=["json", "xlsx"], default="json", help="导出格式(默认 json)")
        parser.add_argument("-o", "--output", help="写入的文件;json 可省略(打印到标准输出),xlsx 必须指定")

    def handle(self, *args, plan=None, format="json", output=None, **options):
        if format == "xlsx" and not output:
            raise CommandError("导出 xlsx 须用 -o 指定文件,工作簿不能打印到标准输出。")
        try:
            found = selectors.the_plan(plan)
        except LookupError as error:
            raise CommandError(str(error)) from None
        data = plans.export(found)
        try:
            if format == "xlsx":
                workbook.write(data, output)
            elif output:
                with open(output, "w", encoding="utf-8") as handle:
                    handle.write(plans.dumps(data))
            else:
                self.stdout.write(plans.dumps(data), ending="")
        except plans.PlanFileError as error:
            raise CommandError(f"计划 {found.code} 不能导出为工作簿:{error}") from None
        except OSError as error:
            raise CommandError(f"无法写入 {output}:{error.strerror}") from None
        if output:
            self.stdout.write(f"已导出计划 {found.code} 到 {output}。")
