"""Login is the default; the plan pages show the plan."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import PASSWORD

PAGES = ["/", "/plan/", "/plan/measures/1/", "/plan/measures/21/", "/assignments/", "/assignments/rounds/"]


@pytest.mark.parametrize("url", PAGES)
def test_every_page_sends_an_anonymous_visitor_to_the_login_page(client, plan, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_login_page_is_in_chinese(client, db):
    response = client.get(reverse("login"))
    content = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans"' in content
    assert "登录" in content and "用户名" in content and "密码" in content


def test_a_wrong_password_is_refused_with_a_chinese_message(client, county_clerk):
    response = client.post(reverse("login"), {"username": "lishi_clerk", "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logging_in_leads_a_county_to_its_desk(client, county_clerk):
    response = client.post(reverse("login"), {"username": "lishi_clerk", "password": PASSWORD}, follow=True)
    assert response.request["PATH_INFO"] == reverse("inbox:index")
    content = response.content.decode()
    assert "离石区 · 县局经办人" in content
    assert "督办事项" in content and "行动计划" in content  # both in the menu


def test_the_plan_page_lists_the_five_groups_and_21_measures(client, county_clerk):
    client.force_login(county_clerk)
    content = client.get("/plan/").content.decode()
    for group in ["(一)完善党全面领导基层治理体制机制", "(五)加强基层智慧治理能力建设"]:
        assert group in content
    for number in range(1, 22):
        assert reverse("plan:measure", args=[number]) in content
    assert content.count("(牵头)") == 21


def test_a_measure_page_shows_its_items_deadlines_sections_and_targets(client, section_chief):
    client.force_login(section_chief)
    content = client.get("/plan/measures/7/").content.decode()
    assert "增强乡镇(街道)为民服务能力" in content
    assert content.count('id="item-7') == 2
    assert "乡镇(街道)未保站覆盖率" in content
    assert "不低于 40%" in content
    assert "基政科(牵头)" in content and "救助科" in content


def test_an_unknown_measure_is_404(client, county_clerk):
    client.force_login(county_clerk)
    assert client.get("/plan/measures/99/").status_code == 404


@pytest.mark.parametrize("url", ["/plan/", "/plan/measures/4/"])
def test_plan_pages_cost_the_same_queries_however_many_items_the_plan_has(client, county_clerk, url):
    """Prefetching keeps the count flat: grow the plan and the page still takes as many queries."""
    from assignments.models import Measure, WorkItem

    client.force_login(county_clerk)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    measure = Measure.objects.get(number=4)
    template = WorkItem.objects.filter(measure=measure).first()
    for index in range(10):
        WorkItem.objects.create(
            measure=measure,
            code=f"4x{index}",
            position=100 + index,
            measure_text=template.measure_text,
            first_year=2022,
            last_year=2025,
            sections_text=template.sections_text,
        )
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small)


def all_page_urls():
    """Every URL pattern of the site (the pages, not the admin or the API), with 1 for each parameter."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield route

    for route in walk(get_resolver().url_patterns):
        if route.startswith(("admin/", "api/", "accounts/")) or route.startswith("^"):
            continue
        yield "/" + route.replace("<int:pk>", "1").replace("<int:number>", "1").replace(
            "<int:attachment_pk>", "1"
        ).replace("<str:action>", "start").replace("<int:process_pk>", "1").replace("<int:task_pk>", "1").replace(
            "<int:year>", "2024"
        ).replace("<str:extension>", "xlsx")


def test_every_page_of_the_site_requires_login(client, plan):
    urls = sorted(set(all_page_urls()))
    assert "/assignments/rounds/" in urls and "/plan/measures/1/" in urls
    for url in urls:
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, (method.__name__, url, response.status_code)
            assert response["Location"].startswith(reverse("login")), url


def test_the_settings_refuse_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "", "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    env["DEBUG"] = "maybe"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True
    )
    assert "DEBUG must be true or false" in result.stderr
