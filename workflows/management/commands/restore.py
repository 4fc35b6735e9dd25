from django.core.management.base import BaseCommand, CommandError

from workflows import backup


class Command(BaseCommand):
    help = (
        "把 backup 写下的备份文件恢复到空数据库(DATABASE_URL)和空附件目录;目标不空时拒绝且不作任何改动。"
        "恢复后核对:历史记录延续备份中的检查点,条数与清单一致,每个附件文件的 SHA-256 与其文件名一致。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="备份文件(duban-….tar.gz)")

    def handle(self, *args, file, **options):
        try:
            report = backup.restore(file)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        for line in report.lines:
            self.stdout.write(line)
        if report.problems:
            raise CommandError("恢复后的核对未通过:" + ";".join(report.problems))
        self.stdout.write(f"已从 {file} 恢复({report.manifest['created']} 的备份),核对全部通过。")
