"""The tamper-evident history: the keyed chain, checkpoints, the database guards, and verification.

Who can do what, and what catches it (see docs/threat-model.md):

- a user through the pages or the API: only the actions `can()` allows;
- someone who can write to the database: an event needs the key to be valid, and a trigger moves an
  assignment's head only onto its last event;
- a DBA with the triggers off: the keyed digest finds edits and forgeries; a checkpoint finds a dropped
  tail or a wiped history;
- someone holding the key too: a checkpoint taken before the change finds the re-hashed chain.
"""

import datetime
import functools
import hmac
import json
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection as default_connection
from django.utils import timezone

from .models import Checkpoint, Event

GENESIS = ""  # the `prev_hash` of an assignment's first event
ALGORITHMS = ("sm3", "sha256")
# The event's own fields that its digest covers, with the assignment's stable subject (ids, not names:
# renaming a unit, a user or an item code is not tampering).
HASHED_FIELDS = (
    "sequence",
    "action",
    "from_state",
    "to_state",
    "actor_id",
    "unit_id",
    "at",
    "comment",
    "snapshot",
    "attachments",
    "prev_hash",
)


class BrokenHistory(Exception):
    """The history does not verify, so no checkpoint is written; the message names the first problem."""


class BadCheckpoint(ValueError):
    """A checkpoint line that cannot be read or whose own digest does not hold; the message says why."""


# ---------------------------------------------------------------------------------------------
# Keys


def _key_bytes(text):
    text = text.strip()
    if len(text) % 2 == 0 and re.fullmatch(r"[0-9a-fA-F]+", text):
        return bytes.fromhex(text)
    return text.encode("utf-8")


def key_id(key):
    """A short public name of a key, so an event says which key made it (a rotation keeps old ones)."""
    return hmac.new(key, b"duban-key-id", "sha256").hexdigest()[:8]


@functools.lru_cache(maxsize=8)
def _keyring(current, old):
    keys = [_key_bytes(text) for text in (current, *old)]
    return key_id(keys[0]), {key_id(key): key for key in reversed(keys)}


def current_key():
    """(key id, key bytes) of `HISTORY_KEY`, read at each call so tests may override the setting."""
    identifier, keys = _keyring(settings.HISTORY_KEY, tuple(settings.HISTORY_OLD_KEYS))
    return identifier, keys[identifier]


def known_key(identifier):
    """The current or a retired key by its id, or None."""
    return _keyring(settings.HISTORY_KEY, tuple(settings.HISTORY_OLD_KEYS))[1].get(identifier)


def _mac(key, algorithm, message):
    return hmac.new(key, message, algorithm).hexdigest()


# ---------------------------------------------------------------------------------------------
# The chain


def digest(*, key, algorithm, subject, sequence, action, from_state, to_state, actor_id, unit_id, at, comment,
           snapshot, attachments, prev_hash):  # fmt: skip
    """HMAC(key, canonical event ‖ previous digest)."""
    payload = {
        "subject": subject,
        "sequence": sequence,
        "action": action,
        "from": from_state,
        "to": to_state,
        "actor": actor_id,
        "unit": unit_id,
        "at": at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),  # whatever zone it was read in
        "comment": comment,
        "snapshot": snapshot,
        "attachments": attachments,
    }
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return _mac(key, algorithm, f"{canonical}\n{prev_hash}".encode())


def next_event(*, key, count, last_hash, action, from_state, to_state, actor, unit, at, comment="", snapshot=None,
               attachments=None):  # fmt: skip
    """The field values of the event that follows an assignment's last one (`key`, `count`, `last_hash`:
    its stable subject and current head), digest included. The caller saves the event, and the new head
    (`sequence` and `hash`) on the assignment, in its transaction."""
    identifier, secret = current_key()
    values = {
        "sequence": count + 1,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "actor_id": actor.pk if actor else None,
        "unit_id": unit.pk if unit else None,
        "at": at,
        "comment": comment,
        "snapshot": snapshot or {},
        "attachments": attachments or [],
        "prev_hash": last_hash,
    }
    values["hash"] = digest(key=secret, algorithm=settings.HISTORY_ALGORITHM, subject=key, **values)
    values["algorithm"] = settings.HISTORY_ALGORITHM
    values["key_id"] = identifier
    values["actor_name"] = actor.get_username() if actor else ""
    values["unit_name"] = unit.name if unit else ""
    return values


def recompute(event, subject):
    """The digest a stored event should have, with the key its `key_id` names; None without that key."""
    key = known_key(event.key_id)
    if key is None or event.algorithm not in ALGORITHMS:
        return None
    fields = {name: getattr(event, name) for name in HASHED_FIELDS}
    return digest(key=key, algorithm=event.algorithm, subject=subject, **fields)


# ---------------------------------------------------------------------------------------------
# Verification


@dataclass
class Verdict:
    assignments: int = 0
    events: int = 0
    problem: str = ""
    checkpoint: dict | None = None  # the checkpoint compared with, if any
    heads: list = field(default_factory=list, repr=False)  # [subject, sequence, digest] of each chain

    @property
    def intact(self):
        return not self.problem


def verify(checkpoint=None):
    """Recompute every assignment's chain with its key; stop at the first event that does not hold.

    With a checkpoint (as `read_checkpoint` returns it), also prove that every chain still extends the
    head it had then: a wiped history, a dropped tail or a chain re-hashed by someone holding the key.
    """
    from assignments.models import Assignment

    verdict = Verdict(checkpoint=checkpoint)
    pinned = dict(checkpoint["heads"]) if checkpoint else {}
    assignments = Assignment.objects.select_related("round", "item", "unit").order_by("pk")
    events = Event.objects.order_by("assignment_id", "sequence").iterator(chunk_size=2000)
    pending = next(events, None)
    for assignment in assignments.iterator(chunk_size=2000):
        verdict.assignments += 1
        subject = assignment.key
        where = f"督办事项 {assignment.pk}({subject})"
        if subject != Assignment.make_key(assignment.round, assignment.item, assignment.unit):
            return _fail(verdict, f"{where}的标识与其年度、事项、单位不符(被改动)")
        if pending is not None and pending.assignment_id < assignment.pk:
            return _bad(verdict, pending, "所属督办事项不存在")
        expected_prev, sequence = GENESIS, 0
        must_match = pinned.pop(subject, None)
        while pending is not None and pending.assignment_id == assignment.pk:
            event, pending = pending, next(events, None)
            sequence += 1
            verdict.events += 1
            if event.sequence != sequence:
                return _bad(verdict, event, f"序号应为 {sequence},实为 {event.sequence}(有记录被删除或插入)")
            if sequence == 1 and event.action != Event.Action.ISSUE:
                return _bad(verdict, event, "第一条不是下达记录(历史开头被删除或伪造)")
            if event.prev_hash != expected_prev:
                return _bad(verdict, event, "与上一条记录的哈希不衔接")
            if known_key(event.key_id) is None:
                return _bad(verdict, event, f"密钥 {event.key_id or '(无)'} 不是当前或旧密钥(未加密钥或伪造的记录)")
            if recompute(event, subject) != event.hash:
                return _bad(verdict, event, "内容与密钥摘要不符(记录被改动或伪造)")
            if must_match and must_match[0] == sequence and must_match[1] != event.hash:
                return _bad(verdict, event, "与检查点记下的摘要不符(历史在检查点之后被重写)")
            expected_prev = event.hash
        if sequence == 0:
            return _fail(verdict, f"{where}没有任何历史记录(至少应有下达记录;历史被整条删除)")
        if sequence != assignment.event_count or expected_prev != assignment.last_hash:
            return _fail(
                verdict,
                f"{where}应有 {assignment.event_count} 条历史,实有 {sequence} 条;末条哈希不符(历史末尾被删除或改动)",
            )
        if must_match and must_match[0] > sequence:
            return _fail(verdict, f"{where}在检查点时已有 {must_match[0]} 条历史,现只有 {sequence} 条(历史末尾被删除)")
        verdict.heads.append([subject, sequence, expected_prev])
    if pending is not None:
        return _bad(verdict, pending, "所属督办事项不存在")
    if pinned:
        subject = min(pinned)
        return _fail(verdict, f"检查点中的督办事项 {subject} 已不存在(整条历史连同督办事项被删除)")
    return verdict


def _fail(verdict, problem):
    verdict.problem = problem
    return verdict


def _bad(verdict, event, reason):
    return _fail(
        verdict,
        f"第一条有问题的历史:事件 {event.pk}(督办事项 {event.assignment_id} 第 {event.sequence} 条):{reason}",
    )


# ---------------------------------------------------------------------------------------------
# Checkpoints: every chain's head, keyed, as one line of text that leaves the database


def _checkpoint_digest(key, algorithm, summary):
    canonical = json.dumps(summary, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return _mac(key, algorithm, canonical.encode())


def take_checkpoint(now=None):
    """Verify every chain, then record and return the checkpoint of their heads (a `Checkpoint` row,
    whose `line` is what the auditor keeps elsewhere). A broken history gets no checkpoint."""
    verdict = verify()
    if not verdict.intact:
        raise BrokenHistory(verdict.problem)
    identifier, key = current_key()
    at = (now or timezone.now()).astimezone(datetime.UTC)
    summary = {
        "at": at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "chains": len(verdict.heads),
        "events": verdict.events,
        "algorithm": settings.HISTORY_ALGORITHM,
        "key_id": identifier,
        "heads": verdict.heads,
    }
    summary_digest = _checkpoint_digest(key, settings.HISTORY_ALGORITHM, summary)
    line = json.dumps({**summary, "digest": summary_digest}, ensure_ascii=False, separators=(",", ":"))
    return Checkpoint.objects.create(
        at=at, chains=summary["chains"], events=summary["events"], digest=summary_digest, line=line
    )


def read_checkpoint(text):
    """A checkpoint line, its own keyed digest checked; raises BadCheckpoint saying why it is refused."""
    try:
        data = json.loads(text.strip().splitlines()[0] if text.strip() else "")
    except ValueError:
        raise BadCheckpoint("检查点不是一行有效的 JSON") from None
    names = {"at", "chains", "events", "algorithm", "key_id", "heads", "digest"}
    if not isinstance(data, dict) or set(data) != names:
        raise BadCheckpoint("检查点的字段不全或多余")
    summary = {name: data[name] for name in names - {"digest"}}
    key = known_key(data["key_id"]) if isinstance(data["key_id"], str) else None
    if key is None:
        raise BadCheckpoint(f"检查点的密钥 {data['key_id']} 不是当前或旧密钥,无法核对")
    if data["algorithm"] not in ALGORITHMS:
        raise BadCheckpoint(f"检查点的算法 {data['algorithm']} 不受支持")
    expected = _checkpoint_digest(key, data["algorithm"], summary)
    if not isinstance(data["digest"], str) or not hmac.compare_digest(expected, data["digest"]):
        raise BadCheckpoint("检查点被改动:其摘要与内容不符")
    return {**summary, "heads": [(subject, (sequence, head)) for subject, sequence, head in data["heads"]]}


def latest_checkpoint():
    return Checkpoint.objects.order_by("-at", "-pk").first()


def verify_against_latest():
    """The verdict against the latest recorded checkpoint (if any), and that checkpoint, for the auditors'
    page and the API. The copy the auditor keeps outside the database is the stronger proof: this one can
    be deleted along with what it would show."""
    row = latest_checkpoint()
    if row is None:
        return verify(), None
    try:
        pinned = read_checkpoint(row.line)
    except BadCheckpoint as error:
        return Verdict(problem=f"最近的检查点不可用:{error}"), row
    return verify(checkpoint=pinned), row


# ---------------------------------------------------------------------------------------------
# The database's own refusals, installed by migrations: events are append-only (no UPDATE, DELETE,
# TRUNCATE, REPLACE or UPSERT), and an assignment's head (`event_count`, `last_hash`) moves only onto
# its last event.
TABLE = Event._meta.db_table
HEAD_TABLE = "assignments_assignment"
_HEAD_HOLDS = (
    f"EXISTS (SELECT 1 FROM {TABLE} WHERE assignment_id = NEW.id AND sequence = NEW.event_count "
    f"AND hash = NEW.last_hash) AND NOT EXISTS (SELECT 1 FROM {TABLE} WHERE assignment_id = NEW.id "
    f"AND sequence > NEW.event_count)"
)
_SQLITE_EVENTS = [
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, 'history is append-only: UPDATE of {TABLE} refused'); END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, 'history is append-only: DELETE from {TABLE} refused'); END",
]
# Since the keyed history (migration 0003). The head trigger names the events table, so on SQLite it must
# be dropped before a migration rebuilds that table, and installed again after.
_SQLITE_HEAD = [
    # INSERT OR REPLACE deletes the row it replaces without firing DELETE triggers: refuse it before.
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_replace BEFORE INSERT ON {TABLE} "
    f"WHEN EXISTS (SELECT 1 FROM {TABLE} WHERE id = NEW.id OR hash = NEW.hash "
    f"OR (assignment_id = NEW.assignment_id AND sequence = NEW.sequence)) "
    f"BEGIN SELECT RAISE(ABORT, 'history is append-only: REPLACE into {TABLE} refused'); END",
    f"CREATE TRIGGER IF NOT EXISTS {HEAD_TABLE}_head_moves_with_event BEFORE UPDATE OF event_count, last_hash "
    f"ON {HEAD_TABLE} WHEN (NEW.event_count IS NOT OLD.event_count OR NEW.last_hash IS NOT OLD.last_hash) "
    f"AND NOT ({_HEAD_HOLDS}) "
    f"BEGIN SELECT RAISE(ABORT, 'history head: {HEAD_TABLE} may move only onto its last event'); END",
    f"CREATE TRIGGER IF NOT EXISTS {HEAD_TABLE}_no_replace BEFORE INSERT ON {HEAD_TABLE} "
    f"WHEN EXISTS (SELECT 1 FROM {HEAD_TABLE} WHERE id = NEW.id) "
    f"BEGIN SELECT RAISE(ABORT, 'history head: REPLACE into {HEAD_TABLE} refused'); END",
]
_SQLITE_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_replace",
    f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_head_moves_with_event",
    f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_no_replace",
]
_POSTGRES_EVENTS = [
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
_POSTGRES_HEAD = [
    f"""CREATE OR REPLACE FUNCTION {HEAD_TABLE}_head_check() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            -- checked at commit (a round's rows are written before their issue events), on the row as it is then
            SELECT * INTO NEW FROM {HEAD_TABLE} WHERE id = NEW.id;
            IF NOT FOUND THEN
                RETURN NULL;
            END IF;
        END IF;
        IF NOT ({_HEAD_HOLDS}) THEN
            RAISE EXCEPTION 'history head: {HEAD_TABLE} % may move only onto its last event', NEW.id;
        END IF;
        RETURN NEW;
    END $$""",
    f"CREATE OR REPLACE TRIGGER {HEAD_TABLE}_head_moves_with_event BEFORE UPDATE OF event_count, last_hash "
    f"ON {HEAD_TABLE} FOR EACH ROW WHEN (NEW.event_count IS DISTINCT FROM OLD.event_count "
    f"OR NEW.last_hash IS DISTINCT FROM OLD.last_hash) EXECUTE FUNCTION {HEAD_TABLE}_head_check()",
    f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_head_at_commit ON {HEAD_TABLE}",
    f"CREATE CONSTRAINT TRIGGER {HEAD_TABLE}_head_at_commit AFTER INSERT ON {HEAD_TABLE} "
    f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {HEAD_TABLE}_head_check()",
]
_POSTGRES_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_change ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_refuse()",
    f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_head_moves_with_event ON {HEAD_TABLE}",
    f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_head_at_commit ON {HEAD_TABLE}",
    f"DROP FUNCTION IF EXISTS {HEAD_TABLE}_head_check()",
]


def _statements(connection, install, head=True):
    if connection.vendor == "sqlite":
        return (_SQLITE_EVENTS + (_SQLITE_HEAD if head else [])) if install else _SQLITE_REMOVE
    if connection.vendor == "postgresql":
        return (_POSTGRES_EVENTS + (_POSTGRES_HEAD if head else [])) if install else _POSTGRES_REMOVE
    raise NotImplementedError(f"no history guards for {connection.vendor}")


def install_guards(connection=default_connection, *, head=True):
    """All the guards; `head=False` only the append-only events (migration 0002, before the keyed history)."""
    with connection.cursor() as cursor:
        for statement in _statements(connection, install=True, head=head):
            cursor.execute(statement)


def remove_guards(connection=default_connection):
    """Only for maintenance and tests that must empty the database; `verify_history` still checks."""
    with connection.cursor() as cursor:
        for statement in _statements(connection, install=False):
            cursor.execute(statement)
