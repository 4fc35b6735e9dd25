from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from workflows import history


class Command(BaseCommand):
    help = (
        "用密钥重新计算全部历史记录的摘要链:完整时输出条数并以 0 退出;发现改动、伪造或删除时指出第一条有问题的记录"
        "并以非 0 退出。给出 --checkpoint 时还核对每条历史仍延续检查点当时的末条。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", metavar="FILE", help="history_checkpoint 写下的检查点文件")

    def handle(self, *args, checkpoint=None, **options):
        pinned = None
        if checkpoint:
            try:
                text = Path(checkpoint).read_text(encoding="utf-8")
            except OSError as error:
                raise CommandError(f"无法读取检查点文件 {checkpoint}:{error.strerror}") from None
            try:
                pinned = history.read_checkpoint(text)
            except history.BadCheckpoint as error:
                raise CommandError(f"检查点不可用:{error}") from None
        verdict = history.verify(checkpoint=pinned)
        if not verdict.intact:
            raise CommandError(f"历史记录不完整:{verdict.problem}(已核验 {verdict.events} 条)")
        self.stdout.write(
            f"历史记录完整:{verdict.assignments} 个督办事项,{verdict.events} 条历史记录,密钥摘要链全部吻合。"
        )
        if pinned:
            self.stdout.write(f"每条历史都延续 {pinned['at']} 检查点记下的末条({pinned['chains']} 个督办事项)。")
