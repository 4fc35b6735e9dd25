"""A report's whole way through the site in a real browser (Debian's Chromium, driven by Playwright) against a live
server, at a desktop's width and a phone's: a county's clerk submits with an attachment, the section's chief returns
it with a reason, the clerk resubmits, the chief sees what changed and accepts, the leader finds it accepted in the
round's matrix and the auditor finds its events and verifies the history.

Each run writes a screenshot of every page it passes to var/screenshots/, named role-page-width.png.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import expect

from assignments.models import Assignment, Measure, State
from tests.conftest import PASSWORD
from tests.test_browser import browser_type_launch_args  # noqa: F401 (the fixture: Debian's Chromium)
from tests.workflows.conftest import Walker
from workflows import rounds

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
WIDTHS = [1440, 390]  # a desktop and a phone


def look(page, role, name, width, shoot=True):
    """The page fits its width (at a phone's, nothing scrolls sideways but boxes of their own), and a person can
    look at it afterwards."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{role}'s {name} page scrolls sideways by {overflow} px at {width} px"
    if shoot:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{role}-{name}-{width}.png", full_page=True)


def sign_in(page, live_server, username):
    """Log in afresh as `username` (the menu drawer folds away on a phone, so its landing page is awaited)."""
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).not_to_have_url(re.compile("/accounts/login/"))


def open_from_desk(page, label):
    page.locator(".duban-desk__row").filter(has=page.get_by_role("link", name=label)).get_by_role(
        "link", name=label
    ).click()
    expect(page.locator("h1")).to_contain_text(label.split(" · ")[1])


@pytest.mark.parametrize("width", WIDTHS)
def test_a_report_goes_from_the_county_through_review_to_the_matrix_and_the_audit_in_the_browser(
    committed, live_server, page, plan, width, county_clerk, section_chief, leader, auditor, tmp_path
):
    page.set_viewport_size({"width": width, "height": 900})
    rounds.open_round(2024, measures=[Measure.objects.get(number=7)], reports=True)
    assignment = Assignment.objects.get(round__year=2024, item__code="7a", unit__name="离石区")
    label = "2024 年度 · 离石区 · 事项 7a"
    scan = tmp_path / "未保站名单.pdf"
    scan.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

    # The county's clerk: from the desk to the assignment, start, attach a file through the file chooser.
    sign_in(page, live_server, "lishi_clerk")
    expect(page).to_have_title(re.compile("本县待办"))
    look(page, "county_clerk", "inbox", width)
    open_from_desk(page, label)
    page.locator("form.duban-action--start button").click()
    expect(page.locator(".duban-message")).to_contain_text("已开始办理")
    with page.expect_file_chooser() as chooser:
        page.get_by_text("选择文件", exact=True).click()
    chooser.value.set_files(scan)
    expect(page.locator(".duban-file__name")).to_have_text("未保站名单.pdf")
    page.get_by_role("button", name="上传").click()
    expect(page.locator(".duban-message")).to_contain_text("已上传附件“未保站名单.pdf”")

    # A refused submit keeps what was typed and says why; Tab from the narrative reaches the submit button.
    form = page.locator("form.duban-action--submit")
    form.locator("textarea[name=narrative]").fill("全部乡镇已设未保站。")
    indicators = form.locator("input[name^=indicator_]")
    indicators.nth(0).fill("150")
    for field in indicators.all()[1:]:
        field.fill("100")
    form.locator("button").click()
    form = page.locator("form.duban-action--submit")
    expect(form.locator(".duban-form-error")).to_contain_text("是百分比,不能超过 100")
    expect(form.locator("textarea[name=narrative]")).to_have_value("全部乡镇已设未保站。")
    look(page, "county_clerk", "refused", width)
    form.locator("textarea[name=narrative]").focus()
    for _ in range(10):
        page.keyboard.press("Tab")
        if form.locator("button[type=submit]").evaluate("button => button === document.activeElement"):
            break
    expect(form.locator("button[type=submit]")).to_be_focused()
    indicators.nth(0).fill("100")
    form.locator("button[type=submit]").press("Enter")
    expect(page.locator("h1 .duban-state")).to_have_text("已报送")
    look(page, "county_clerk", "assignment", width)

    # The section's chief: the review desk, the report with its attachment, returned with a reason.
    sign_in(page, live_server, "jizheng_chief")
    expect(page).to_have_title(re.compile("审核台"))
    look(page, "section_chief", "review", width)
    open_from_desk(page, label)
    expect(page.get_by_role("link", name="未保站名单.pdf")).to_be_visible()
    page.locator("form.duban-action--begin_review button").click()
    page.locator("form.duban-action--return textarea[name=reason]").fill("请附各乡镇未保站名单的盖章件。")
    page.locator("form.duban-action--return button").click()
    expect(page.locator("h1 .duban-state")).to_have_text("已退回")

    # The clerk sees the reason on the desk and resubmits with a changed narrative.
    sign_in(page, live_server, "lishi_clerk")
    expect(page.locator(".duban-desk--returned .duban-desk__reason")).to_contain_text("请附各乡镇未保站名单的盖章件。")
    look(page, "county_clerk", "returned", width)
    open_from_desk(page, label)
    form = page.locator("form.duban-action--submit")
    form.locator("textarea[name=narrative]").fill("全部乡镇已设未保站,盖章名单已补附。")
    for field in form.locator("input[name^=indicator_]").all():
        field.fill("100")
    form.locator("button").click()
    expect(page.locator("h1 .duban-state")).to_have_text("已报送")

    # The chief sees what changed since the first submission and accepts.
    sign_in(page, live_server, "jizheng_chief")
    open_from_desk(page, label)
    changes = page.locator(".duban-changes").first
    expect(changes).to_contain_text("全部乡镇已设未保站。")
    expect(changes).to_contain_text("盖章名单已补附")
    look(page, "section_chief", "resubmitted", width)
    page.locator("form.duban-action--begin_review button").click()
    page.locator("form.duban-action--accept textarea").fill("同意验收")
    page.locator("form.duban-action--accept button").click()
    expect(page.locator("h1 .duban-state")).to_have_text("已验收")

    # The leader finds it accepted in the round's matrix and follows its cell.
    sign_in(page, live_server, "leader")
    page.goto(f"{live_server.url}/matrix/2024/")
    measure = page.locator("details.duban-matrix-measure").filter(has_text="增强乡镇")
    measure.locator("summary").click()
    cell = measure.locator("tr", has=page.locator("th", has_text="7a")).locator(
        f'a[href="/assignments/{assignment.pk}/"]'
    )
    expect(cell).to_have_text("已验收")
    expect(cell).to_have_class(re.compile("duban-state--accepted"))
    look(page, "leader", "matrix", width)
    cell.click()
    expect(page.locator("h1 .duban-state")).to_have_text("已验收")

    # The auditor searches the county's events, finds the return and the acceptance, and verifies the history.
    sign_in(page, live_server, "auditor")
    page.goto(f"{live_server.url}/audit/")
    page.locator("details.duban-fold > summary").click()
    page.get_by_label("报送单位").select_option("离石区")
    page.get_by_label("工作事项编号").fill("7a")
    page.get_by_role("button", name="查询").click()
    rows = page.locator(".duban-table tbody tr")
    for reason, action in [("请附各乡镇未保站名单的盖章件。", "退回"), ("同意验收", "验收")]:
        expect(rows.filter(has_text=reason)).to_have_count(1)
        expect(rows.filter(has_text=reason).locator("td").nth(2)).to_contain_text(action)
    look(page, "auditor", "audit", width)
    page.get_by_role("link", name="立即核验").click()
    expect(page.locator(".duban-verdict--ok")).to_contain_text("历史记录完整")

    assert Assignment.objects.get(pk=assignment.pk).state == State.ACCEPTED


# persona fixture → username; each signs in and looks at where "/" takes them, every page of their menu, and one
# assignment of theirs
ROLES = {
    "county_clerk": "lishi_clerk",
    "county_head": "lishi_head",
    "section_chief": "jizheng_chief",
    "section_staff": "jizheng_staff",
    "leader": "leader",
    "auditor": "auditor",
}


def page_name(path):
    """/assignments/rounds/ → assignments-rounds; "/inbox/" → inbox; an assignment's page → assignment."""
    if re.fullmatch(r"/assignments/\d+/", path):
        return "assignment"
    return "-".join(part for part in path.split("/") if part and not part.isdigit()) or "index"


@pytest.mark.parametrize("width", WIDTHS)
def test_every_roles_main_pages_fit_the_screen_and_fold_their_filters(
    committed, live_server, page, plan, width, request, county_clerk, section_chief
):
    for persona in ROLES:
        request.getfixturevalue(persona)
    rounds.open_round(2024, measures=[Measure.objects.get(number=7)], reports=True)
    walk = Walker(county_clerk, section_chief)
    returned = walk.to(Assignment.objects.get(round__year=2024, item__code="7a", unit__name="离石区"), "returned")
    walk.to(Assignment.objects.get(round__year=2024, item__code="7b", unit__name="离石区"), "submitted")
    page.set_viewport_size({"width": width, "height": 900})

    looked = set()
    for role, username in ROLES.items():
        sign_in(page, live_server, username)
        menu = page.locator(".vf-page__menu a.mdc-list-item[href^='/']")
        paths = [urlsplit(href).path for href in menu.evaluate_all("links => links.map(link => link.href)")]
        paths = [path for path in dict.fromkeys([urlsplit(page.url).path, *paths]) if not path.startswith("/admin/")]
        paths.append(f"/assignments/{returned.pk}/")
        for path in paths:
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, f"{role}: {path} answered {response.status}"
            name = page_name(path)
            look(page, role, name, width, shoot=not (name == "plan" and name in looked))  # the plan: everyone's same
            looked.add(name)

        # the list's filters stand open on a desktop and fold away on a phone until asked for
        page.goto(f"{live_server.url}/assignments/")
        state = page.locator("select[name=state]")
        if width < 600:
            expect(state).to_be_hidden()
            page.locator("details.duban-fold > summary").click()
        expect(state).to_be_visible()

    assert {"inbox", "review", "assignments", "assignment", "matrix", "audit", "plan"} <= looked
