from django.core.management.base import BaseCommand, CommandError

from workflows import files


class Command(BaseCommand):
    help = (
        "删除附件存储中没有任何附件记录引用的文件,以及未完成上传留下的临时文件;"
        "只删除早于宽限期的文件,正在上传的文件不受影响。可由 cron 定时运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--grace-minutes", type=int, default=60, help="只删除最后修改早于这么多分钟的文件(默认 60)")

    def handle(self, *args, grace_minutes, **options):
        if grace_minutes < 0:
            raise CommandError("宽限期不能为负数")
        removed = files.sweep(grace_seconds=grace_minutes * 60)
        self.stdout.write(f"已删除 {removed} 个无人引用的文件。")
