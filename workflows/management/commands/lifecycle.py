from django.core.management.base import BaseCommand

from workflows.diagram import lifecycle_diagram


class Command(BaseCommand):
    help = "以 Mermaid 状态图打印督办事项的生命周期(由 Assignment.state 的转换声明生成,README 中的图即由此而来)。"

    def handle(self, *args, **options):
        self.stdout.write(lifecycle_diagram())
