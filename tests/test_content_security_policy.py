"""Under the Content-Security-Policy, the pages, the admin and Swagger UI work in a real browser."""

from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.test_browser import browser_type_launch_args, log_in  # noqa: F401 - Debian's Chromium

VIOLATION = "Content Security Policy"


def watch_for_violations(page):
    """Chromium reports each blocked script, style, image or frame on the console."""
    seen = []
    page.on("console", lambda message: seen.append(message.text) if VIOLATION in message.text else None)
    page.on("pageerror", lambda error: seen.append(str(error)))
    return seen


def test_no_page_the_admin_or_swagger_ui_breaks_the_policy(committed, live_server, page, plan, county_clerk):
    violations = watch_for_violations(page)
    log_in(page, live_server, "lishi_clerk")  # the login page, then the landing page
    page.goto(f"{live_server.url}/assignments/")
    expect(page.get_by_role("checkbox", name="只看待我办理")).to_be_visible()
    page.goto(f"{live_server.url}/plan/")
    expect(page.locator("h1")).to_be_visible()

    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("督办 Duban API")  # drawn by its script
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()

    get_user_model().objects.create_superuser("root", password=PASSWORD)
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("input[name=username]").fill("root")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#site-name")).to_contain_text("督办")
    page.goto(f"{live_server.url}/admin/auth/user/add/")
    expect(page.locator("input[name=username]")).to_be_visible()
    assert violations == []
