from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from assignments import plans, workbook


class Command(BaseCommand):
    help = (
        "载入行动计划文件(JSON,或 export_plan --format xlsx 导出后修改的 Excel 工作簿,按扩展名或内容识别)。"
        "重复载入不会改变任何数据;文件有误时指出位置(工作簿:工作表、行、列),不改变任何数据。"
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(settings.PLAN_FILE), help="计划文件路径")

    def handle(self, *args, path, **options):
        try:
            report = workbook.load(path) if workbook.is_workbook(path) else plans.load(plans.read(path))
        except plans.PlanFileError as error:
            raise CommandError(f"计划文件 {path} 有误,未载入任何数据:{error}") from None
        if report.changed:
            self.stdout.write(
                f"已载入 {path}:新建 {report.created} 条,更新 {report.updated} 条,删除 {report.deleted} 条。"
            )
        else:
            self.stdout.write(f"已载入 {path}:数据已是最新,未作改动。")
