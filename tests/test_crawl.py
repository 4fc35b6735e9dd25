"""Every link of every role's pages: followed from "/" as each person, none answers a server error and none
leads to an assignment of a unit the person may not see (for a county's people: any other unit's)."""

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assignments.models import Assignment, Attachment, Measure, Unit
from permissions.checks import visible_to
from tests.workflows.conftest import Walker, indicators
from workflows import actions, rounds

MAX_PAGES = 400  # per role; the crawl below reaches far fewer, the bound only keeps a runaway link set finite
SKIPPED = ("/accounts/logout/", "/admin/", "/static/", "/media/", "/api/")
ASSIGNMENT_LINK = re.compile(r"^/assignments/(\d+)/")
ATTACHMENT_LINK = re.compile(r"^/assignments/attachments/(\d+)/")

# persona fixture → the county whose assignments alone its pages may link to (None: whatever `visible_to` allows)
PERSONAS = {
    "county_clerk": "离石区",
    "county_head": "离石区",
    "other_county_clerk": "兴县",
    "section_chief": None,
    "section_staff": None,
    "other_section_chief": None,
    "leader": None,
    "auditor": None,
}


class Links(HTMLParser):
    """The hrefs of a page's links and the actions of its forms."""

    def __init__(self):
        super().__init__()
        self.hrefs, self.actions = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        elif tag == "form" and attrs.get("action"):
            self.actions.append(attrs["action"])


def same_site(base, href):
    """The path and query of `href` read on page `base`, or None when it leaves the site or is skipped."""
    url = urldefrag(urljoin(base, href)).url
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return None if path.startswith(SKIPPED) else path


@pytest.fixture
def busy_round(county_clerk, other_county_clerk, section_chief, other_section_chief):
    """Measure 7 of 2024 and the sections' reports, with assignments of 离石区 and 兴县 in several states,
    attachments, a return with its reason and an acceptance, all through the real actions."""
    rounds.open_round(2024, measures=[Measure.objects.get(number=7)], reports=True)
    mine = Assignment.objects.get(round__year=2024, item__code="7a", unit__name="离石区")
    theirs = Assignment.objects.get(round__year=2024, item__code="7a", unit__name="兴县")
    lishi, xingxian = Walker(county_clerk, section_chief), Walker(other_county_clerk, section_chief)
    mine = lishi.start(mine)
    actions.attach(mine, by=county_clerk, upload=SimpleUploadedFile("台账.pdf", b"%PDF-1.4 lishi", "application/pdf"))
    mine = lishi.return_(lishi.begin_review(lishi.submit(mine)))
    theirs = xingxian.start(theirs)
    actions.attach(
        theirs, by=other_county_clerk, upload=SimpleUploadedFile("兴县.pdf", b"%PDF-1.4 xx", "application/pdf")
    )
    xingxian.accept(xingxian.begin_review(xingxian.submit(theirs, values=indicators(theirs, "100"))))
    return mine


def crawl(client, found):
    """Breadth-first from "/", each URL once; returns {url: status}. `found(page, target)` sees every link."""
    seen, queue, statuses = {"/"}, deque(["/"]), {}
    while queue and len(statuses) < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        statuses[url] = response.status_code
        targets = []
        if response.status_code in (301, 302, 303, 307, 308):
            targets.append(response["Location"])
        elif "text/html" in response.get("Content-Type", ""):
            parser = Links()
            parser.feed(response.content.decode())
            targets += parser.hrefs
            for action in parser.actions:  # forms are not followed (POST), but may not name a foreign assignment
                if target := same_site(url, action):
                    found(url, target)
        for href in targets:
            target = same_site(url, href)
            if target is None:
                continue
            found(url, target)
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return statuses


@pytest.mark.parametrize("persona", PERSONAS)
def test_following_every_link_of_a_role_finds_no_server_error_and_no_other_units_assignment(
    request, client, busy_round, persona
):
    user = request.getfixturevalue(persona)
    county = PERSONAS[persona]
    allowed = set(visible_to(user).values_list("pk", flat=True))
    if county is not None:
        assert allowed == set(
            Assignment.objects.filter(unit=Unit.objects.get(name=county)).values_list("pk", flat=True)
        )
    files = dict(Attachment.objects.values_list("pk", "assignment_id"))
    foreign = []

    def found(page, target):
        path = urlsplit(target).path
        if match := ATTACHMENT_LINK.match(path):
            pk = files.get(int(match[1]))
        elif match := ASSIGNMENT_LINK.match(path):
            pk = int(match[1])
        else:
            return
        if pk not in allowed:
            foreign.append((page, target))

    client.force_login(user)
    statuses = crawl(client, found)

    errors = {url: status for url, status in statuses.items() if status >= 500}
    assert not errors, f"server errors for {persona}: {errors}"
    refused = {url: status for url, status in statuses.items() if status >= 400}
    assert not refused, f"{persona}'s pages link to pages refused to them: {refused}"
    assert not foreign, f"links to assignments {persona} may not see: {foreign[:10]}"
    assert len(statuses) < MAX_PAGES, f"{persona}'s pages link to more than {MAX_PAGES} URLs"
    # the crawl reached the person's assignments: every one of 离石区's linked from its own pages
    reached = {int(m[1]) for url in statuses if (m := ASSIGNMENT_LINK.match(url))}
    assert reached and reached <= allowed
    if county is not None:
        assert busy_round.pk in reached if county == "离石区" else busy_round.pk not in reached
