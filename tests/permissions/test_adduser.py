from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from guardian.models import UserObjectPermission

from permissions.roles import role_of, unit_grants, unit_of

User = get_user_model()
GOOD_PASSWORD = "a-long-enough-passphrase"


def adduser(*args):
    out = StringIO()
    call_command("adduser", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    "role, unit",
    [
        ("county_clerk", "离石区"),
        ("county_head", "兴县"),
        ("section_staff", "社事科"),
        ("section_chief", "基政科"),
    ],
)
def test_adduser_gives_the_role_and_the_unit(plan, role, unit):
    output = adduser("someone", "--role", role, "--unit", unit, "--password", GOOD_PASSWORD)
    user = User.objects.get(username="someone")
    assert "已新建" in output
    assert role_of(user) == role
    assert unit_of(user).name == unit
    assert user.check_password(GOOD_PASSWORD)


def test_a_county_clerk_holds_grants_on_its_own_county_only(plan):
    adduser("clerk", "--role", "county_clerk", "--unit", "离石区", "--password", GOOD_PASSWORD)
    user = User.objects.get(username="clerk")
    grants = unit_grants(user)
    assert {grant.content_object.name for grant in grants} == {"离石区"}
    assert {grant.permission.codename for grant in grants} == {"view_unit_assignments", "work_unit_assignments"}
    assert not user.user_permissions.exists()
    assert not user.has_perm("assignments.view_unit_assignments")  # never a global grant


def test_a_leader_belongs_to_the_city_bureau_and_an_auditor_to_no_unit(plan):
    adduser("boss", "--role", "leader", "--password", GOOD_PASSWORD)
    adduser("audit", "--role", "auditor", "--password", GOOD_PASSWORD)
    boss, audit = User.objects.get(username="boss"), User.objects.get(username="audit")
    assert unit_of(boss).name == "吕梁市民政局"
    assert unit_of(audit) is None
    assert audit.has_perm("assignments.audit_history")
    assert not boss.has_perm("assignments.audit_history")
    assert boss.has_perm("assignments.view_all_assignments")


def test_running_adduser_again_changes_the_role_without_a_second_account(plan):
    adduser("someone", "--role", "county_clerk", "--unit", "离石区", "--password", GOOD_PASSWORD)
    output = adduser("someone", "--role", "county_head", "--unit", "兴县", "--password", GOOD_PASSWORD)
    user = User.objects.get(username="someone")
    assert "已更新" in output
    assert (role_of(user), unit_of(user).name) == ("county_head", "兴县")
    assert {grant.content_object.name for grant in unit_grants(user)} == {"兴县"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--role", "janitor", "--unit", "离石区"], "未知角色“janitor”"),
        (["--role", "county_clerk", "--unit", "火星县"], "未知单位“火星县”"),
        (["--role", "county_clerk"], "必须指定所属单位"),
        (["--role", "county_clerk", "--unit", "基政科"], "单位必须是县级民政局"),
        (["--role", "section_chief", "--unit", "离石区"], "单位必须是科室"),
        (["--role", "auditor", "--unit", "离石区"], "不能指定单位"),
        (["--role", "county_clerk", "--unit", "离石区", "--password", "123"], "密码不符合要求"),
    ],
)
def test_adduser_refuses_bad_input_and_creates_nothing(plan, args, message):
    if "--password" not in args:
        args = [*args, "--password", GOOD_PASSWORD]
    with pytest.raises(CommandError, match=message):
        adduser("someone", *args)
    assert not User.objects.filter(username="someone").exists()
    assert not UserObjectPermission.objects.exists()


def test_load_demo_creates_one_account_per_role(plan, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("load_demo", stdout=out)
    roles = {role_of(user) for user in User.objects.exclude(username="admin")}
    assert roles == {"county_clerk", "county_head", "section_staff", "section_chief", "leader", "auditor"}
    assert "lishi_clerk" in out.getvalue()
    assert User.objects.get(username="admin").is_superuser


def add_in_admin(client, username, role, unit_name):
    from assignments.models import Unit

    client.force_login(User.objects.create_superuser("boss", password=GOOD_PASSWORD))
    return client.post(
        "/admin/auth/user/add/",
        {
            "username": username,
            "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
            "role": role,
            "unit": Unit.objects.get(name=unit_name).pk,
            "usable_password": "true",
        },
    )


def test_an_administrator_gives_a_role_and_a_unit_in_the_admin(client, plan):
    assert add_in_admin(client, "newclerk", "county_clerk", "孝义市").status_code == 302
    user = User.objects.get(username="newclerk")
    assert (role_of(user), unit_of(user).name) == ("county_clerk", "孝义市")


def test_the_admin_refuses_a_unit_of_the_wrong_kind(client, plan):
    response = add_in_admin(client, "wrong", "section_chief", "孝义市")
    assert response.status_code == 200
    assert "单位必须是科室" in response.content.decode()
    assert not User.objects.filter(username="wrong").exists()


@pytest.mark.parametrize("username", ["a b", "x/y", "", "   ", "名" * 151])
def test_adduser_refuses_a_username_django_would_refuse(plan, username):
    with pytest.raises(CommandError, match="用户名"):
        adduser(username, "--role", "auditor", "--password", GOOD_PASSWORD)
    assert not User.objects.exists()


def test_adduser_refuses_to_reactivate_a_disabled_account_unless_told(plan):
    adduser("someone", "--role", "auditor", "--password", GOOD_PASSWORD)
    User.objects.filter(username="someone").update(is_active=False)
    with pytest.raises(CommandError, match="已停用.*--reactivate"):
        adduser("someone", "--role", "auditor", "--password", GOOD_PASSWORD)
    assert not User.objects.get(username="someone").is_active
    adduser("someone", "--role", "auditor", "--password", GOOD_PASSWORD, "--reactivate")
    assert User.objects.get(username="someone").is_active


def test_adduser_refuses_to_demote_a_superuser_unless_told(plan):
    User.objects.create_superuser("chief", password=GOOD_PASSWORD)
    with pytest.raises(CommandError, match="超级管理员.*--drop-superuser"):
        adduser("chief", "--role", "leader", "--password", GOOD_PASSWORD)
    assert User.objects.get(username="chief").is_superuser
    assert role_of(User.objects.get(username="chief")) is None
    adduser("chief", "--role", "leader", "--password", GOOD_PASSWORD, "--drop-superuser")
    chief = User.objects.get(username="chief")
    assert not chief.is_superuser
    assert role_of(chief) == "leader"


@pytest.mark.parametrize("username, message", [("", "用户名不能为空"), ("nobody", "没有名为“nobody”的在用账号")])
def test_issue_token_refuses_an_empty_or_unknown_username(plan, username, message):
    with pytest.raises(CommandError, match=message):
        call_command("issue_token", username, stdout=StringIO())
