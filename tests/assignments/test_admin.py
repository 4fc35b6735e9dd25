"""The plan's admin pages: what they refuse to change while assignments are open."""

from html.parser import HTMLParser

import pytest

from assignments.models import Assignment, Measure, Unit, WorkItem
from workflows import rounds


class _Form(HTMLParser):
    """The fields a browser would post from the page's main form, with their current values."""

    def __init__(self):
        super().__init__()
        self.data, self._select, self._textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in {"submit", "button", "file"}:
            if attrs.get("type") in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.data[name] = attrs.get("value", "on")
            else:
                self.data[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def change_form(client, url):
    parser = _Form()
    parser.feed(client.get(url).content.decode())
    return parser.data


def lead_changed(client, url, prefix):
    """Post the change page back with the first section replaced by 基政科 (a new lead)."""
    data = change_form(client, url)
    data[f"{prefix}-0-unit"] = str(Unit.objects.get(name="基政科").pk)
    data["_save"] = "保存"
    return client.post(url, data)


def item_url(code):
    return f"/admin/assignments/workitem/{WorkItem.objects.get(code=code).pk}/change/"


def measure_url(number):
    return f"/admin/assignments/measure/{Measure.objects.get(number=number).pk}/change/"


@pytest.fixture
def measure_3_issued(plan):
    """The 2024 round of measure 3 (items 3a and 3b, led by 社管科) is open in every county."""
    rounds.open_round(2024, measures=[Measure.objects.get(number=3)])


@pytest.mark.usefixtures("plan")
def test_an_administrator_changes_an_items_lead_when_no_assignment_is_open(admin_client):
    response = lead_changed(admin_client, item_url("3a"), "item_sections")
    assert response.status_code == 302
    assert [unit.name for unit in WorkItem.objects.get(code="3a").ordered_sections()] == ["基政科"]


@pytest.mark.usefixtures("measure_3_issued")
def test_the_admin_refuses_to_change_an_items_sections_while_its_assignments_are_open(admin_client):
    response = lead_changed(admin_client, item_url("3a"), "item_sections")
    assert response.status_code == 200
    assert "有 13 件未办结的督办事项,不能更改责任科室" in response.content.decode()
    assert [unit.name for unit in WorkItem.objects.get(code="3a").ordered_sections()] == ["社管科"]
    assert set(Assignment.objects.values_list("lead_section__name", flat=True)) == {"社管科"}


@pytest.mark.usefixtures("plan")
def test_an_administrator_changes_a_measures_sections_when_no_assignment_is_open(admin_client):
    response = lead_changed(admin_client, measure_url(3), "measure_sections")
    assert response.status_code == 302
    assert [unit.name for unit in Measure.objects.get(number=3).ordered_sections()] == ["基政科"]


@pytest.mark.usefixtures("measure_3_issued")
def test_the_admin_refuses_to_change_a_measures_sections_while_its_assignments_are_open(admin_client):
    response = lead_changed(admin_client, measure_url(3), "measure_sections")
    assert response.status_code == 200
    assert "有 26 件未办结的督办事项,不能更改责任科室" in response.content.decode()
    assert [unit.name for unit in Measure.objects.get(number=3).ordered_sections()] == ["社管科"]
