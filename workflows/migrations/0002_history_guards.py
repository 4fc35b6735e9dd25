from django.db import migrations


def install(apps, schema_editor):
    from workflows.history import install_guards

    install_guards(schema_editor.connection, head=False)


def remove(apps, schema_editor):
    from workflows.history import remove_guards

    remove_guards(schema_editor.connection)


class Migration(migrations.Migration):
    """The database refuses UPDATE and DELETE of history events (and TRUNCATE on PostgreSQL)."""

    dependencies = [("workflows", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
