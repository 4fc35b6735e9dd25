from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from workflows import history


class Command(BaseCommand):
    help = (
        "核验全部历史记录后写下检查点:一行文本,含时间、督办事项数、历史条数、算法、密钥标识、每条历史的末条摘要"
        "及其整体的密钥摘要。请把它保存在数据库之外(打印、归档、发送),日后用 verify_history --checkpoint 核对。"
    )

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", metavar="FILE", help="写入此文件(默认输出到标准输出)")

    def handle(self, *args, output=None, **options):
        try:
            checkpoint = history.take_checkpoint()
        except history.BrokenHistory as error:
            raise CommandError(f"历史记录不完整,不写检查点:{error}") from None
        if output:
            Path(output).write_text(checkpoint.line + "\n", encoding="utf-8")
            self.stderr.write(
                f"检查点已写入 {output}:{checkpoint.chains} 个督办事项,{checkpoint.events} 条历史记录,"
                f"摘要 {checkpoint.digest}"
            )
        else:
            self.stdout.write(checkpoint.line)
