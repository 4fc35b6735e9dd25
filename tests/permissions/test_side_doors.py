"""No side doors: the admin shows processes and tasks but changes none, grants go only through roles,
and the demo loader stays out of production and away from real administrators' passwords."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import NoReverseMatch, reverse
from viewflow.workflow.models import Process, Task

from assignments.models import Measure, Unit
from workflows import rounds

User = get_user_model()


@pytest.fixture
def superuser_client(client, plan):
    client.force_login(User.objects.create_superuser("root", password="a-long-enough-passphrase"))
    return client


@pytest.fixture
def process(plan):
    rounds.open_round(2024, measures=[Measure.objects.get(number=7)])
    return Process.objects.first()


@pytest.mark.parametrize("model", ["process", "task"])
def test_an_administrator_sees_processes_and_tasks_in_the_admin_but_cannot_add_change_or_delete(
    superuser_client, process, model
):
    row = process if model == "process" else Task.objects.filter(process=process).first()
    change = reverse(f"admin:viewflow_{model}_change", args=[row.pk])
    page = superuser_client.get(change)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # read-only: no save button
    assert superuser_client.get(reverse(f"admin:viewflow_{model}_add")).status_code == 403
    assert superuser_client.post(change, {"status": "CANCELED"}).status_code == 403
    delete = reverse(f"admin:viewflow_{model}_delete", args=[row.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    assert type(row).objects.filter(pk=row.pk, status=row.status).exists()


def test_the_unit_admin_has_no_object_permission_editor(superuser_client):
    unit = Unit.objects.get(name="离石区")
    change = superuser_client.get(reverse("admin:assignments_unit_change", args=[unit.pk]))
    assert change.status_code == 200
    assert "permissionslink" not in change.content.decode()
    with pytest.raises(NoReverseMatch):
        reverse("admin:assignments_unit_permissions", args=[unit.pk])
    assert superuser_client.get(f"/admin/assignments/unit/{unit.pk}/permissions/").status_code != 200


def test_load_demo_refuses_without_debug(plan, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="只能在开发环境"):
        call_command("load_demo", stdout=StringIO())
    assert not User.objects.exists()


def test_load_demo_leaves_an_operators_admin_account_and_its_password_alone(plan, settings):
    settings.DEBUG = True
    User.objects.create_superuser("admin", password="the-operators-own-secret")
    out = StringIO()
    call_command("load_demo", stdout=out)
    admin = User.objects.get(username="admin")
    assert admin.check_password("the-operators-own-secret")
    assert "已有管理员账号 admin,未改动" in out.getvalue()
    assert User.objects.get(username="lishi_clerk").check_password("duban-demo-2022")


def test_load_demo_leaves_an_administrator_under_a_demo_name_alone(plan, settings):
    settings.DEBUG = True
    User.objects.create_user("leader", password="the-operators-own-secret", is_staff=True)
    call_command("load_demo", stdout=StringIO())
    assert User.objects.get(username="leader").check_password("the-operators-own-secret")
