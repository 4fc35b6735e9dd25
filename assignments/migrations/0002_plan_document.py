import django.db.models.deletion
from django.db import migrations, models


def list_existing_units(apps, schema_editor):
    """Before this migration there was one plan and it named every unit, in their order."""
    Plan = apps.get_model("assignments", "Plan")
    Unit = apps.get_model("assignments", "Unit")
    PlanUnit = apps.get_model("assignments", "PlanUnit")
    units = list(Unit.objects.order_by("position", "id"))
    for plan in Plan.objects.all():
        PlanUnit.objects.bulk_create(
            PlanUnit(plan=plan, unit=unit, position=position) for position, unit in enumerate(units)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("assignments", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(model_name="plan", old_name="issued", new_name="signed"),
        migrations.AlterField(
            model_name="plan",
            name="signed",
            field=models.DateField(help_text="落款日期。", verbose_name="成文日期"),
        ),
        migrations.AddField(
            model_name="plan",
            name="guiding",
            field=models.TextField(blank=True, verbose_name="指导思想"),
        ),
        migrations.AddField(
            model_name="plan",
            name="goals",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text='按年度的目标:[{"year": 2022, "text": "到2022年底,…"}]。',
                verbose_name="工作目标",
            ),
        ),
        migrations.AddField(
            model_name="plan",
            name="safeguards",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='{"heading": 标题, "paragraphs": [各段原文]}。',
                verbose_name="保障措施",
            ),
        ),
        migrations.CreateModel(
            name="PlanUnit",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("position", models.PositiveSmallIntegerField(verbose_name="排序")),
                (
                    "plan",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="plan_units", to="assignments.plan"
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="plan_units", to="assignments.unit"
                    ),
                ),
            ],
            options={
                "verbose_name": "计划所列单位",
                "verbose_name_plural": "计划所列单位",
                "ordering": ["plan", "position"],
                "constraints": [models.UniqueConstraint(fields=("plan", "unit"), name="plan_unit_unique")],
            },
        ),
        migrations.RunPython(list_existing_units, migrations.RunPython.noop),
    ]
