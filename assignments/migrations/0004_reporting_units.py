import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """An assignment belongs to a reporting unit (a county, or a section for its annual report, which has
    no work item): `county` is renamed `unit`, its rows kept as they are."""

    dependencies = [
        ("assignments", "0003_indicators_duties_notable"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="assignment", name="assignment_unique"),
        migrations.RemoveIndex(model_name="assignment", name="assignments_county__d14441_idx"),
        migrations.RenameField(model_name="assignment", old_name="county", new_name="unit"),
        migrations.AlterField(
            model_name="assignment",
            name="unit",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="unit_assignments",
                to="assignments.unit",
                verbose_name="报送单位",
            ),
        ),
        migrations.AlterField(
            model_name="assignment",
            name="item",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="assignments",
                to="assignments.workitem",
            ),
        ),
        migrations.AlterModelOptions(
            name="assignment",
            options={
                "ordering": ["round", "item__measure__number", "item__position", "unit__position"],
                "verbose_name": "督办事项",
                "verbose_name_plural": "督办事项",
            },
        ),
        migrations.AddConstraint(
            model_name="assignment",
            constraint=models.UniqueConstraint(fields=("round", "item", "unit"), name="assignment_unique"),
        ),
        migrations.AddConstraint(
            model_name="assignment",
            constraint=models.UniqueConstraint(
                condition=models.Q(item__isnull=True), fields=("round", "unit"), name="section_report_unique"
            ),
        ),
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(fields=["unit", "state"], name="assignments_unit_id_517c29_idx"),
        ),
    ]
