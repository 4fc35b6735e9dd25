"""The tamper-evident history: hashing, the database guards, and verification."""

import datetime
import hashlib
import json
from dataclasses import dataclass

from django.db import connection as default_connection

from .models import Event

GENESIS = ""  # the `prev_hash` of an assignment's first event
# The event's own fields that its hash covers (with the assignment's natural key, the "subject").
HASHED_FIELDS = (
    "sequence",
    "action",
    "from_state",
    "to_state",
    "actor_name",
    "unit_name",
    "at",
    "comment",
    "snapshot",
    "attachments",
    "prev_hash",
)


def digest(*, subject, sequence, action, from_state, to_state, actor_name, unit_name, at, comment, snapshot,
           attachments, prev_hash):  # fmt: skip
    payload = {
        "subject": subject,
        "sequence": sequence,
        "action": action,
        "from": from_state,
        "to": to_state,
        "actor": actor_name,
        "unit": unit_name,
        "at": at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),  # whatever zone it was read in
        "comment": comment,
        "snapshot": snapshot,
        "attachments": attachments,
        "previous": prev_hash,
    }
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def next_event(*, key, count, last_hash, action, from_state, to_state, actor, unit, at, comment="", snapshot=None,
               attachments=None):  # fmt: skip
    """The field values of the event that follows an assignment's last one (`key`, `count`, `last_hash`:
    its natural key and current head), hash included. The caller saves the event, and the new head
    (`sequence` and `hash`) on the assignment, in its transaction."""
    values = {
        "sequence": count + 1,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "actor_name": actor.get_username() if actor else "",
        "unit_name": unit.name if unit else "",
        "at": at,
        "comment": comment,
        "snapshot": snapshot or {},
        "attachments": attachments or [],
        "prev_hash": last_hash,
    }
    values["hash"] = digest(subject=key, **values)
    values["actor_id"] = actor.pk if actor else None
    values["unit_id"] = unit.pk if unit else None
    return values


def recompute(event, subject_key):
    """The hash a stored event should have."""
    return digest(subject=subject_key, **{name: getattr(event, name) for name in HASHED_FIELDS})


@dataclass
class Verdict:
    assignments: int = 0
    events: int = 0
    problem: str = ""

    @property
    def intact(self):
        return not self.problem


def verify():
    """Recompute every assignment's chain; stop at the first event that does not hold."""
    from assignments.models import Assignment

    verdict = Verdict()
    assignments = Assignment.objects.select_related("round", "item", "county").order_by("pk")
    events = Event.objects.order_by("assignment_id", "sequence").iterator(chunk_size=2000)
    pending = next(events, None)
    for assignment in assignments.iterator(chunk_size=2000):
        verdict.assignments += 1
        key = assignment.key
        if key != Assignment.make_key(assignment.round.year, assignment.item, assignment.county):
            verdict.problem = f"督办事项 {assignment.pk} 的标识“{key}”与其年度、事项、县不符(被改动)"
            return verdict
        expected_prev = GENESIS
        sequence = 0
        if pending is not None and pending.assignment_id < assignment.pk:
            return _bad(verdict, pending, "所属督办事项不存在")
        while pending is not None and pending.assignment_id == assignment.pk:
            event, pending = pending, next(events, None)
            sequence += 1
            verdict.events += 1
            if event.sequence != sequence:
                return _bad(verdict, event, f"序号应为 {sequence},实为 {event.sequence}(有记录被删除或插入)")
            if event.prev_hash != expected_prev:
                return _bad(verdict, event, "与上一条记录的哈希不衔接")
            if recompute(event, key) != event.hash:
                return _bad(verdict, event, "内容与哈希不符(记录被改动)")
            expected_prev = event.hash
        if sequence != assignment.event_count or expected_prev != assignment.last_hash:
            verdict.problem = (
                f"督办事项 {assignment.pk}({key})应有 {assignment.event_count} 条历史,"
                f"实有 {sequence} 条;末条哈希不符(历史末尾被删除或改动)"
            )
            return verdict
    if pending is not None:
        return _bad(verdict, pending, "所属督办事项不存在")
    return verdict


def _bad(verdict, event, reason):
    verdict.problem = (
        f"第一条有问题的历史:事件 {event.pk}(督办事项 {event.assignment_id} 第 {event.sequence} 条):{reason}"
    )
    return verdict


# The database's own refusal to change history, installed by a migration.
TABLE = Event._meta.db_table
_SQLITE_INSTALL = [
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, 'history is append-only: UPDATE of {TABLE} refused'); END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, 'history is append-only: DELETE from {TABLE} refused'); END",
]
_SQLITE_REMOVE = [f"DROP TRIGGER IF EXISTS {TABLE}_no_update", f"DROP TRIGGER IF EXISTS {TABLE}_no_delete"]
_POSTGRES_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION {TABLE}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' AND NOT EXISTS (SELECT 1 FROM {TABLE}) THEN
            RETURN NULL;  -- emptying an empty history changes nothing
        END IF;
        RAISE EXCEPTION 'history is append-only: % of {TABLE} refused', TG_OP;
    END $$""",
    f"CREATE OR REPLACE TRIGGER {TABLE}_no_change BEFORE UPDATE OR DELETE ON {TABLE} "
    f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_refuse()",
    f"CREATE OR REPLACE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_refuse()",
]
_POSTGRES_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_change ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_refuse()",
]


def _statements(connection, install):
    if connection.vendor == "sqlite":
        return _SQLITE_INSTALL if install else _SQLITE_REMOVE
    if connection.vendor == "postgresql":
        return _POSTGRES_INSTALL if install else _POSTGRES_REMOVE
    raise NotImplementedError(f"no history guards for {connection.vendor}")


def install_guards(connection=default_connection):
    with connection.cursor() as cursor:
        for statement in _statements(connection, install=True):
            cursor.execute(statement)


def remove_guards(connection=default_connection):
    """Only for maintenance and tests that must empty the database; `verify_history` still checks."""
    with connection.cursor() as cursor:
        for statement in _statements(connection, install=False):
            cursor.execute(statement)
