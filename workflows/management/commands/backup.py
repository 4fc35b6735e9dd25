from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from workflows import backup


class Command(BaseCommand):
    help = (
        "把数据库(PostgreSQL 用 pg_dump,SQLite 用在线备份)、全部附件文件和历史检查点写入一个一致的备份文件,"
        "附清单(时间、数据库、各类条数、每个文件的 SHA-256、迁移状态);最后一个词是备份文件的路径。"
    )

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", metavar="DIR", help="备份目录(默认 BACKUP_DIR,或 var/backups)")

    def handle(self, *args, output=None, **options):
        directory = Path(output or settings.BACKUP_DIR)
        try:
            path, manifest = backup.backup(directory)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        counts = manifest["counts"]
        if manifest["missing"]:
            self.stderr.write(
                f"警告:{len(manifest['missing'])} 个附件记录引用的文件在存储中缺失,备份中也没有:"
                + "、".join(manifest["missing"][:5])
            )
        self.stdout.write(
            f"已备份 {manifest['database']['vendor']} 数据库:{counts['assignments']} 个督办事项,"
            f"{counts['events']} 条历史记录,{counts['attachments']} 条附件记录,{counts['files']} 个附件文件。"
        )
        self.stdout.write(f"备份文件: {path.resolve()}")
