"""A small second plan, made by the tests, to run beside the repository's plan.

Two measures over 2026–2027, a coordinating section the first plan does not name (养老科), a county it
does not name (新区), and 基政科 and two counties shared with the first plan.
"""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from assignments import plans
from assignments.models import Plan

CODE = "吕民发〔2026〕5号"


def _measure(number, title, section, group):
    code = f"{number}a"
    return {
        "number": number,
        "title": title,
        "group": group,
        "body": f"{title}的正文。",
        "sections_text": f"各县(市、区)民政局,市局{section}",
        "sections": [section],
        "items": [
            {
                "code": code,
                "measure_text": f"{title}的工作措施。",
                "path_text": f"{title}的工作路径。",
                "deadline_text": "2026年-2027年",
                "years": [2026, 2027],
                "final_due": None,
                "sections_text": f"各县(市、区)民政局,市局{section}",
                "counties": "all",
                "sections": [section],
                "targets": [],
                "notes": [],
            }
        ],
    }


def second_plan_data():
    """The second plan in the plan file's shape, as `export_plan` prints it."""
    return {
        "plan": {
            "code": CODE,
            "title": "社区养老服务提质行动计划",
            "issuer": "吕梁市民政局",
            "signed": "2026-03-02",
            "published": "2026-03-10",
            "first_year": 2026,
            "last_year": 2027,
            "report_month": 11,
            "report_day": 30,
            "coordinator": "养老科",
            "guiding": "",
            "goals": [{"year": 2027, "text": "到2027年底,社区养老服务站全覆盖。"}],
            "safeguards": None,
        },
        "units": {
            "city": "吕梁市民政局",
            "sections": [{"name": "养老科", "full_name": "养老服务科"}, {"name": "基政科", "full_name": ""}],
            "counties": ["离石区", "孝义市", "新区"],
        },
        "groups": [{"number": "一", "title": "提升社区养老服务"}],
        "measures": [
            _measure(1, "建设社区养老服务站", "养老科", "一"),
            _measure(2, "培育养老服务队伍", "基政科", "一"),
        ],
    }


def plan_file_text(data):
    return plans.dumps(data)


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def second_plan(plan, tmp_path):
    """The second plan, loaded with `load_plan PATH` next to the repository's plan."""
    path = tmp_path / "second.json"
    path.write_text(plan_file_text(second_plan_data()), encoding="utf-8")
    run("load_plan", str(path))
    return Plan.objects.get(code=CODE)


def exported(code):
    return json.loads(run("export_plan", "--plan", code))
