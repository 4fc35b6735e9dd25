"""Each way an insider could rewrite a history is refused by the database or found by `verify_history`.

Who can do what (docs/threat-model.md): someone with write access to the database meets the triggers and
the keyed digest; a DBA who drops the triggers meets the keyed digest and, for what the digest cannot
show (a dropped tail, a wiped history), a checkpoint; someone who also holds the key meets a checkpoint.
"""

import hashlib
import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from assignments.models import Assignment, Measure, Unit, WorkItem
from workflows import actions, history
from workflows.models import Event

from .conftest import fresh

COLUMNS = [field.column for field in Event._meta.concrete_fields]


def verify(*arguments):
    out = StringIO()
    call_command("verify_history", *arguments, stdout=out)
    return out.getvalue()


def checkpoint(path):
    call_command("history_checkpoint", "-o", str(path), stderr=StringIO())
    return path


def tamper(sql, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def events_of(assignment):
    return list(Event.objects.filter(assignment=assignment).order_by("sequence"))


def move_head(assignment, sequence, last_hash):
    tamper(
        "UPDATE assignments_assignment SET event_count = %s, last_hash = %s WHERE id = %s",
        sequence,
        last_hash,
        assignment.pk,
    )


@pytest.fixture
def walked(assignment, walk, other_county_assignment, other_county_clerk):
    """Two assignments with some history: one accepted, one started."""
    walk.to(assignment, "accepted")
    actions.start(other_county_assignment, by=other_county_clerk, version=1)
    return fresh(assignment)


@pytest.fixture
def unguarded():
    """The triggers dropped, as a DBA could; restored afterwards."""
    history.remove_guards()
    yield
    history.install_guards()


def unkeyed(event, subject):
    """What a forger without the key can compute: a plain hash of the same content."""
    fields = {name: getattr(event, name) for name in history.HASHED_FIELDS}
    canonical = json.dumps({"subject": subject, **fields}, default=str, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def with_wrong_key(event, subject):
    fields = {name: getattr(event, name) for name in history.HASHED_FIELDS}
    return history.digest(key=b"a guess at the key" * 2, algorithm=event.algorithm, subject=subject, **fields)


# (a) Editing an event behind the triggers and re-hashing it without the key


@pytest.mark.parametrize("forge", [unkeyed, with_wrong_key])
def test_an_edited_last_event_rehashed_without_the_key_is_found(walked, unguarded, forge):
    last = events_of(walked)[-1]
    last.comment = "验收意见被改写"
    forged = forge(last, walked.key)
    tamper("UPDATE workflows_event SET comment = %s, hash = %s WHERE id = %s", last.comment, forged, last.pk)
    move_head(walked, last.sequence, forged)
    with pytest.raises(CommandError, match=f"事件 {last.pk}.*内容与密钥摘要不符"):
        verify()


def test_a_whole_chain_rehashed_with_a_wrong_key_is_found_at_its_first_event(walked, unguarded):
    previous = history.GENESIS
    for event in events_of(walked):
        event.comment, event.prev_hash = "重写", previous
        event.hash = with_wrong_key(event, walked.key)
        tamper(
            "UPDATE workflows_event SET comment = %s, prev_hash = %s, hash = %s WHERE id = %s",
            event.comment,
            event.prev_hash,
            event.hash,
            event.pk,
        )
        previous = event.hash
    move_head(walked, event.sequence, event.hash)
    with pytest.raises(CommandError, match="第 1 条.*内容与密钥摘要不符"):
        verify()


# (b) Appending a forged accept by INSERT (allowed) and moving the head


def forge_accept(assignment):
    """An `accept` event after the assignment's last one, hashed without the key but naming the real key id."""
    last = events_of(assignment)[-1]
    chief = get_user_model().objects.get(username="jizheng_chief")
    values = {
        "sequence": last.sequence + 1,
        "action": "accept",
        "from_state": "under_review",
        "to_state": "accepted",
        "actor_id": chief.pk,
        "unit_id": Unit.objects.get(name="基政科").pk,
        "at": last.at,
        "comment": "",
        "snapshot": {},
        "attachments": [],
        "prev_hash": last.hash,
    }
    forged = Event(assignment=assignment, algorithm="sm3", key_id=history.current_key()[0], **values)
    forged.hash = unkeyed(forged, assignment.key)
    forged.save()
    return forged


def test_a_forged_accept_appended_with_the_head_moved_is_found(walk, assignment, section_chief):
    a = walk.to(assignment, "under_review")
    forged = forge_accept(a)
    move_head(a, forged.sequence, forged.hash)  # the head trigger lets it through: the event exists
    Assignment.objects.filter(pk=a.pk).update(state="accepted")
    with pytest.raises(CommandError, match=f"事件 {forged.pk}.*第 5 条.*内容与密钥摘要不符"):
        verify()


def test_the_head_cannot_move_to_a_digest_no_event_has(walked):
    with pytest.raises(DatabaseError, match="history head"), transaction.atomic():
        move_head(walked, walked.event_count + 1, "f" * 64)
    assert fresh(walked).last_hash == walked.last_hash


def test_the_head_cannot_move_back_onto_an_earlier_event(walked):
    earlier = events_of(walked)[2]
    with pytest.raises(DatabaseError, match="history head"), transaction.atomic():
        move_head(walked, earlier.sequence, earlier.hash)
    assert fresh(walked).event_count == walked.event_count


def test_the_orm_cannot_save_a_stale_head_either(walked, county_clerk):
    stale = Assignment.objects.get(pk=walked.pk)
    stale.event_count, stale.last_hash = 1, events_of(walked)[0].hash
    with pytest.raises(DatabaseError, match="history head"), transaction.atomic():
        stale.save()


# (c) A DBA deletes the last event and moves the head back


def test_a_dropped_tail_is_found_with_a_checkpoint_taken_before(walked, unguarded, tmp_path):
    kept = checkpoint(tmp_path / "checkpoint.txt")
    *rest, last = events_of(walked)
    tamper("DELETE FROM workflows_event WHERE id = %s", last.pk)
    move_head(walked, rest[-1].sequence, rest[-1].hash)
    assert "历史记录完整" in verify()  # without a checkpoint the shorter chain is a valid chain
    with pytest.raises(CommandError, match=f"在检查点时已有 {last.sequence} 条历史,现只有 {last.sequence - 1} 条"):
        verify("--checkpoint", str(kept))


# (d) A DBA deletes all of an assignment's events


def test_an_assignment_whose_history_was_wiped_is_found_without_a_checkpoint(walked, unguarded, tmp_path):
    kept = checkpoint(tmp_path / "checkpoint.txt")
    tamper("DELETE FROM workflows_event WHERE assignment_id = %s", walked.pk)
    move_head(walked, 0, "")
    with pytest.raises(CommandError, match=f"督办事项 {walked.pk}.*没有任何历史记录"):
        verify()
    with pytest.raises(CommandError, match="没有任何历史记录"):
        verify("--checkpoint", str(kept))


def test_an_assignment_wiped_together_with_its_history_is_found_by_the_checkpoint(
    round_2024, other_county_assignment, unguarded, tmp_path
):
    kept = checkpoint(tmp_path / "checkpoint.txt")
    tamper("DELETE FROM workflows_event WHERE assignment_id = %s", other_county_assignment.pk)
    tamper("DELETE FROM assignments_assignment WHERE id = %s", other_county_assignment.pk)
    assert "历史记录完整" in verify()
    with pytest.raises(CommandError, match=f"督办事项 {other_county_assignment.key} 已不存在"):
        verify("--checkpoint", str(kept))


def test_an_assignment_written_without_its_issue_event_is_refused_at_commit_or_found(committed, plan):
    """PostgreSQL checks the head when the transaction commits; SQLite cannot defer, `verify_history` finds it."""
    from viewflow.workflow.models import Process

    from workflows import rounds
    from workflows.flows import AssignmentFlow

    round_, _ = rounds.open_round(2024, measures=[Measure.objects.get(number=12)])
    item, county = WorkItem.objects.filter(measure__number=7).first(), Unit.objects.get(name="离石区")

    def write():
        with transaction.atomic():
            Assignment.objects.create(
                round=round_,
                item=item,
                unit=county,
                key=Assignment.make_key(round_, item, county),
                lead_section=Unit.objects.get(name="基政科"),
                due=round_.due_for(item),
                process=Process.objects.create(flow_class=AssignmentFlow),
                event_count=1,
                last_hash="f" * 64,
            )

    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="history head"):
            write()
        assert not Assignment.objects.filter(item=item).exists()
    else:
        write()
        with pytest.raises(CommandError, match="没有任何历史记录"):
            verify()


# (e) REPLACE and UPSERT of events


def copy_of(event, *, comment, keep_id=True):
    """An INSERT … SELECT of the event's row with another comment (and its own id, or a new one)."""
    columns = [column for column in COLUMNS if keep_id or column != "id"]
    selected = ", ".join("%s" if column == "comment" else column for column in columns)
    return f"({', '.join(columns)}) SELECT {selected} FROM workflows_event WHERE id = {event.pk}", [comment]


def refusals(event):
    """The statements that would overwrite a stored event on this database."""
    same_row, params = copy_of(event, comment="被替换")
    new_row, _ = copy_of(event, comment="被替换", keep_id=False)
    statements = [
        (f"INSERT INTO workflows_event {same_row} ON CONFLICT (id) DO UPDATE SET comment = 'upsert'", params),
        (
            f"INSERT INTO workflows_event {new_row} ON CONFLICT (assignment_id, sequence) DO UPDATE SET comment = 'x'",
            params,
        ),  # fmt: skip
    ]
    if connection.vendor == "sqlite":
        statements += [
            (f"INSERT OR REPLACE INTO workflows_event {same_row}", params),
            (f"REPLACE INTO workflows_event {new_row}", params),
        ]
    return statements


def test_replace_and_upsert_of_an_event_are_refused(walked):
    before = [(e.pk, e.sequence, e.comment, e.hash) for e in events_of(walked)]
    statements = refusals(events_of(walked)[1])
    for sql, params in statements:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            tamper(sql, *params)
    assert len(statements) == (4 if connection.vendor == "sqlite" else 2)
    assert [(e.pk, e.sequence, e.comment, e.hash) for e in events_of(walked)] == before
    assert "历史记录完整" in verify()


def test_replace_or_upsert_of_an_assignments_head_is_refused(walked):
    columns = [field.column for field in Assignment._meta.concrete_fields]
    selected = ", ".join("0" if column == "event_count" else "''" if column == "last_hash" else column
                         for column in columns)  # fmt: skip
    copy = f"({', '.join(columns)}) SELECT {selected} FROM assignments_assignment WHERE id = {walked.pk}"
    statements = [f"INSERT INTO assignments_assignment {copy} ON CONFLICT (id) DO UPDATE SET event_count = 0"]
    if connection.vendor == "sqlite":
        statements.append(f"INSERT OR REPLACE INTO assignments_assignment {copy}")
    for sql in statements:
        with pytest.raises(DatabaseError, match="history head"), transaction.atomic():
            tamper(sql)
    assert fresh(walked).event_count == walked.event_count


# (f) Someone holding the key re-hashes a chain after a checkpoint


def rehash_with_the_key(assignment, *, from_sequence, comment):
    previous = history.GENESIS
    for event in events_of(assignment):
        if event.sequence >= from_sequence:
            if event.sequence == from_sequence:
                event.comment = comment
            event.prev_hash = previous
            event.hash = history.recompute(event, assignment.key)
            tamper(
                "UPDATE workflows_event SET comment = %s, prev_hash = %s, hash = %s WHERE id = %s",
                event.comment,
                event.prev_hash,
                event.hash,
                event.pk,
            )
        previous = event.hash
    move_head(assignment, event.sequence, event.hash)


def test_a_chain_rehashed_with_the_key_after_a_checkpoint_is_found_by_it(walked, unguarded, tmp_path):
    kept = checkpoint(tmp_path / "checkpoint.txt")
    rehash_with_the_key(walked, from_sequence=2, comment="开始办理的意见被改写")
    assert "历史记录完整" in verify()  # whoever holds the key can make a valid chain
    last = events_of(walked)[-1]
    with pytest.raises(CommandError, match=f"事件 {last.pk}.*与检查点记下的摘要不符"):
        verify("--checkpoint", str(kept))


# (g) Renaming is not tampering


def test_renaming_a_unit_an_item_code_and_a_user_keeps_the_history_intact(walked, county_clerk, tmp_path):
    kept = checkpoint(tmp_path / "checkpoint.txt")
    Unit.objects.filter(name="离石区").update(name="离石区(更名)")
    Unit.objects.filter(name="基政科").update(name="基层政权建设科")
    WorkItem.objects.filter(pk=walked.item_id).update(code="7A")
    get_user_model().objects.filter(pk=county_clerk.pk).update(username="lishi_clerk_renamed")
    assert "历史记录完整" in verify("--checkpoint", str(kept))
    assert fresh(walked).key == f"2024/{walked.item_id}/{walked.unit_id}"


def test_an_assignment_moved_to_another_unit_is_found(walked):
    Assignment.objects.filter(pk=walked.pk).update(unit=Unit.objects.get(name="基政科"))
    with pytest.raises(CommandError, match=f"督办事项 {walked.pk}.*标识与其年度、事项、单位不符"):
        verify()
