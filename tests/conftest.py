"""Personas and the plan, shared by every test.

Accounts are made through the same code as `adduser`, so no test holds a role or grant that the
real commands could not give.
"""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from assignments import plans
from assignments.models import Measure, MeasureGroup, Unit
from permissions.roles import assign_role, resolve

pytest_plugins = ["tests.plans_fixtures"]  # the second plan, for tests of more than one plan

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session")
def plan_data():
    """The repository's plan file, parsed once."""
    return plans.read(settings.PLAN_FILE)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, plan_data):
    """The test database, created once, holding the plan: each test's transaction rolls back to it."""
    with django_db_blocker.unblock():
        plans.load(plan_data)


@pytest.fixture
def plan(db, plan_data):
    # A transactional test empties every table when it ends (they run last); the next one loads the plan again.
    if not plans.Plan.objects.exists():
        plans.load(plan_data)
    return plans.Plan.objects.get()


@pytest.fixture
def no_plan(db):
    """A database without the plan, for tests of loading it; the deletions roll back with the test."""
    Measure.objects.all().delete()
    MeasureGroup.objects.all().delete()
    plans.Plan.objects.all().delete()
    Unit.objects.all().delete()


@pytest.fixture
def make_user(plan):
    def make(username, role, unit_name=None):
        user = get_user_model().objects.create_user(username, password=PASSWORD, first_name=username)
        assign_role(user, role, resolve(role, unit_name))
        return user

    return make


@pytest.fixture
def county_clerk(make_user):
    return make_user("lishi_clerk", "county_clerk", "离石区")


@pytest.fixture
def county_head(make_user):
    return make_user("lishi_head", "county_head", "离石区")


@pytest.fixture
def other_county_clerk(make_user):
    return make_user("xingxian_clerk", "county_clerk", "兴县")


@pytest.fixture
def section_chief(make_user):
    return make_user("jizheng_chief", "section_chief", "基政科")


@pytest.fixture
def section_staff(make_user):
    return make_user("jizheng_staff", "section_staff", "基政科")


@pytest.fixture
def other_section_chief(make_user):
    return make_user("sheguan_chief", "section_chief", "社管科")


@pytest.fixture
def leader(make_user):
    return make_user("leader", "leader")


@pytest.fixture
def auditor(make_user):
    return make_user("auditor", "auditor")


@pytest.fixture
def counties(plan):
    return list(Unit.objects.counties())


@pytest.fixture
def co_section_staff(make_user):
    return make_user("sheshi_staff", "section_staff", "社事科")


@pytest.fixture
def other_county_head(make_user):
    return make_user("xingxian_head", "county_head", "兴县")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Accounts are made in most tests; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def committed(transactional_db):
    """A database whose writes really commit, for racing threads and statements such as TRUNCATE.

    Afterwards the history is emptied behind its guards (they refuse it, rightly), so that the test
    runner can empty the other tables.
    """
    yield
    from workflows import history
    from workflows.models import Event, Notification, Urging

    history.remove_guards()
    try:
        Notification.objects.all().delete()  # they name events
        Urging.objects.all().delete()
        Event.objects.all().delete()
    finally:
        history.install_guards()
