from django.core.management.base import BaseCommand, CommandError

from workflows import history


class Command(BaseCommand):
    help = (
        "重新计算全部历史记录的哈希链:完整时输出条数并以 0 退出;发现改动或删除时指出第一条有问题的记录并以非 0 退出。"
    )

    def handle(self, *args, **options):
        verdict = history.verify()
        if not verdict.intact:
            raise CommandError(f"历史记录不完整:{verdict.problem}(已核验 {verdict.events} 条)")
        self.stdout.write(f"历史记录完整:{verdict.assignments} 个督办事项,{verdict.events} 条历史记录,哈希链全部吻合。")
