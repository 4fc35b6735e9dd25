"""The pages in a real browser (Debian's Chromium, driven by Playwright) against a live server."""

import re
import subprocess

import pytest
from playwright.sync_api import expect

from assignments.models import Assignment, Measure, State
from tests.conftest import PASSWORD
from workflows import rounds

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    }


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".vf-page__menu-subtitle")).to_be_visible()


def test_a_county_submits_and_its_section_accepts_in_the_browser(
    committed, live_server, page, plan, county_clerk, section_chief
):
    rounds.open_round(2024, measures=[Measure.objects.get(number=7)])
    a = Assignment.objects.get(round__year=2024, item__code="7a", unit__name="离石区")

    log_in(page, live_server, "lishi_clerk")
    expect(page).to_have_title(re.compile("本县待办"))
    expect(page.locator(".duban-desk__row")).to_have_count(2)  # 7a and 7b of 离石区 only
    page.get_by_role("link", name="2024 年度 · 离石区 · 事项 7a").click()
    expect(page.locator("h1")).to_contain_text("离石区")
    page.locator("form.duban-action--start button").click()
    expect(page.locator(".duban-message")).to_contain_text("已开始办理")

    form = page.locator("form.duban-action--submit")
    form.locator("textarea[name=narrative]").fill("全部乡镇已设未保站。")
    for field in form.locator("input[name^=indicator_]").all():
        field.fill("100")
    form.locator("button").click()
    expect(page.locator("h1 .duban-state")).to_have_text("已报送")

    page.context.clear_cookies()
    log_in(page, live_server, "jizheng_chief")
    page.goto(f"{live_server.url}/assignments/{a.pk}/")
    page.locator("form.duban-action--begin_review button").click()
    page.locator("form.duban-action--accept textarea").fill("同意验收")
    page.locator("form.duban-action--accept button").click()
    expect(page.locator("h1 .duban-state")).to_have_text("已验收")
    expect(page.locator(".duban-history tbody tr")).to_have_count(5)
    assert Assignment.objects.get(pk=a.pk).state == State.ACCEPTED


def test_the_browser_has_a_chinese_font_and_the_plan_page_renders(committed, live_server, page, plan, county_clerk):
    """Without a CJK font Chromium draws boxes; `.ci/run` installs one (fonts-wqy-microhei)."""
    families = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=True).stdout
    assert families.strip(), "no Chinese font: install fonts-wqy-microhei"
    log_in(page, live_server, "lishi_clerk")
    page.goto(f"{live_server.url}/plan/measures/7/")
    expect(page.locator("h1.duban-title")).to_have_text("7.增强乡镇(街道)为民服务能力")
    expect(page.locator("tr#item-7a .duban-targets li")).to_have_count(3)
