"""The bulk writer writes what the ORM would."""

import pytest
from django.utils import timezone

from assignments.models import Unit
from workflows import bulk


@pytest.mark.parametrize("count", [1, 3, 1200])
def test_bulk_insert_writes_the_rows_the_orm_would_and_returns_their_keys_in_order(db, count):
    before = Unit.objects.count()
    rows = [{"kind": "county", "name": f"单位{index}", "position": index % 7} for index in range(count)]
    ids = bulk.insert(Unit, rows)
    assert len(ids) == count == Unit.objects.count() - before
    stored = Unit.objects.in_bulk(ids)
    assert [stored[pk].name for pk in ids] == [row["name"] for row in rows]
    assert stored[ids[-1]].full_name == ""  # a field not named takes its default


def test_bulk_insert_prepares_dates_and_json_like_the_orm(db):
    from viewflow.workflow.models import Process

    now = timezone.now()
    (pk,) = bulk.insert(
        Process,
        [{"flow_class": "workflows/flows.AssignmentFlow", "status": "NEW", "created": now, "data": {"a": [1, "二"]}}],
    )
    process = Process.objects.get(pk=pk)
    assert (process.created, process.data) == (now, {"a": [1, "二"]})
