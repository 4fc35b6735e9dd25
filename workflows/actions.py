"""The lifecycle actions: one function per action, each a change of an assignment's state.

Each function runs in one transaction. It locks the assignment's row, checks the actor's permission
(`permissions.checks.can`), the version the actor saw and the state, moves the FSM and the viewflow
task, bumps `version`, appends the history event, and queues its side effects for after commit. It
returns the assignment, or raises an `ActionError` whose message is safe to show; in that case
nothing has changed. Attaching files is not a transition but follows the same rules.
"""

import logging
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed
from viewflow.workflow.status import PROCESS

from assignments.models import (
    Assignment,
    Attachment,
    Countersign,
    IndicatorValue,
    Measure,
    Submission,
    Unit,
    plain_number,
)
from permissions import roles
from permissions.checks import Action, can, co_section_ids, transition_of
from permissions.roles import principal

from . import bulk, history, tasks, values
from .models import Event

logger = logging.getLogger("duban.events")


class ActionError(Exception):
    """An action refused; nothing changed. `code` is stable, the message is Chinese and safe to show."""

    code = "error"

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class NotAllowed(ActionError):
    code = "forbidden"


class Conflict(ActionError):
    """The assignment moved on since the actor saw it, or its state does not allow the action."""

    code = "conflict"


class Invalid(ActionError):
    code = "invalid"


ACTION_LABELS = dict(Event.Action.choices)


# ---------------------------------------------------------------------------------------------
# The lifecycle


def start(assignment, *, by, version, comment=""):
    """A county clerk starts work: the county's task moves into their inbox."""
    with _action(assignment, Action.START, by, version) as act:
        tasks.claim(act.row.task_id, by)
        act.row.assignee = by
        act.finish(comment=comment)
    return act.row


def submit(assignment, *, by, version, narrative, indicators=None, comment=""):
    """The county submits its report: a narrative, one value per target, and its attachments.

    Attachments are cumulative: a submission carries every file of the earlier ones and those uploaded
    since; once submitted, a file stays part of the record.
    """
    with _action(assignment, Action.SUBMIT, by, version) as act:
        row = act.row
        narrative = _required(narrative, "请填写工作情况", "narrative")
        try:
            reported = values.indicator_values(row.item_id, indicators or {})
        except values.Refused as error:
            raise Invalid(str(error), field="indicators") from None
        number = Submission.objects.filter(assignment=row).count() + 1
        submission = Submission.objects.create(
            assignment=row, number=number, narrative=narrative, author=by, created=act.now
        )
        IndicatorValue.objects.bulk_create(
            IndicatorValue(submission=submission, target=target, value=value) for target, value in reported
        )
        files = list(Attachment.objects.filter(assignment=row).order_by("pk").values_list("pk", "sha256", "submission"))
        pending = [pk for pk, _, first_submitted in files if first_submitted is None]
        if pending:
            Attachment.objects.filter(pk__in=pending).update(submission=submission)
        attachments = [sha256 for _, sha256, _ in files]
        tasks.finish(row.task_id, by, act.now)
        (row.task_id,) = tasks.follow(row.task_id, tasks.review_task(row.process_id, row.lead_section_id, act.now))
        row.assignee_id = row.assignee_id or by.pk
        snapshot = {
            "submission": number,
            "narrative": narrative,
            "indicators": {str(target.pk): plain_number(value) for target, value in reported},
        }
        act.finish(comment=comment, snapshot=snapshot, attachments=attachments)
    return act.row


def recall(assignment, *, by, version, comment=""):
    """The county takes its report back before review begins."""
    with _action(assignment, Action.RECALL, by, version) as act:
        row = act.row
        tasks.finish(row.task_id, by, act.now)
        work = tasks.work_task(row.process_id, row.county_id, by.pk, act.now)
        _, row.task_id = tasks.follow(row.task_id, tasks.gateway(row.process_id, act.now), work)
        row.assignee = by
        act.finish(comment=comment)
    return act.row


def begin_review(assignment, *, by, version, comment=""):
    """The lead section's chief takes the report up: the review task moves into their inbox."""
    with _action(assignment, Action.BEGIN_REVIEW, by, version) as act:
        tasks.claim(act.row.task_id, by)
        act.finish(comment=comment)
    return act.row


def accept(assignment, *, by, version, comment=""):
    """The lead section accepts (验收) the report; the process ends."""
    with _action(assignment, Action.ACCEPT, by, version) as act:
        row = act.row
        if Measure.objects.filter(items=row.item_id).values_list("countersign_required", flat=True).get():
            missing = _sections_without_agreement(row)
            if missing:
                message = f"尚需 {'、'.join(missing)} 会签同意后方可验收"
                raise Conflict(message, state=act.from_state, version=row.version)  # row.state already moved
        tasks.finish(row.task_id, by, act.now)
        tasks.follow(row.task_id, tasks.gateway(row.process_id, act.now), tasks.end(row.process_id, act.now))
        tasks.finish_process(row.process_id, act.now)
        row.task_id = None
        act.finish(comment=comment)
    return act.row


def return_for_rework(assignment, *, by, version, reason):
    """The lead section returns the report with a reason; the county's task reopens."""
    with _action(assignment, Action.RETURN, by, version) as act:
        row = act.row
        reason = _required(reason, "退回必须填写理由", "reason")
        tasks.finish(row.task_id, by, act.now)
        work = tasks.work_task(row.process_id, row.county_id, row.assignee_id, act.now)
        _, row.task_id = tasks.follow(row.task_id, tasks.gateway(row.process_id, act.now), work)
        act.finish(comment=reason)
    return act.row


def countersign(assignment, *, by, version, opinion, agree):
    """A co-operating section adds its opinion (会签) to the report under review."""
    with _action(assignment, Action.COUNTERSIGN, by, version) as act:
        row = act.row
        opinion = _required(opinion, "请填写会签意见", "opinion")
        if not isinstance(agree, bool):
            raise Invalid("请选择同意或不同意", field="agree")
        submission = Submission.objects.filter(assignment=row).order_by("-number").first()
        Countersign.objects.create(
            assignment=row, submission=submission, section=act.unit, author=by, agree=agree, opinion=opinion,
            created=act.now,
        )  # fmt: skip
        act.finish(comment=opinion, snapshot={"submission": submission.number, "agree": agree})
    return act.row


def reassign(assignment, *, by, version, to, comment=""):
    """The county head hands the assignment to another clerk of the same county."""
    with _action(assignment, Action.REASSIGN, by, version) as act:
        row = act.row
        target = _colleague(to, row.county_id)
        if row.task_id:
            tasks.claim(row.task_id, target)
        row.assignee = target
        act.finish(comment=comment, snapshot={"to": target.get_username()})
    return act.row


def cancel(assignment, *, by, version, reason):
    """The lead section cancels the assignment with a reason; its process ends as cancelled."""
    with _action(assignment, Action.CANCEL, by, version) as act:
        row = act.row
        reason = _required(reason, "撤销必须填写理由", "reason")
        if row.task_id:
            tasks.cancel_task(row.task_id, act.now)
        tasks.finish_process(row.process_id, act.now, status=PROCESS.CANCELED)
        row.task_id = None
        act.finish(comment=reason)
    return act.row


def perform(action, assignment, *, by, **data):
    """Take `action` by its name (as the pages and the API name it) with the data that action takes."""
    functions = {
        Action.START: start,
        Action.SUBMIT: submit,
        Action.RECALL: recall,
        Action.BEGIN_REVIEW: begin_review,
        Action.ACCEPT: accept,
        Action.RETURN: return_for_rework,
        Action.COUNTERSIGN: countersign,
        Action.REASSIGN: reassign,
        Action.CANCEL: cancel,
    }
    if action not in functions:
        raise Invalid(f"未知操作“{action}”,应为 {'、'.join(functions)} 之一", field="action")
    return functions[action](assignment, by=by, **data)


# ---------------------------------------------------------------------------------------------
# Attachments (not a transition: files join the next submission)


def attach(assignment, *, by, upload):
    """Store an uploaded file for the assignment's next submission; see `workflows.files` for the checks."""
    from . import files

    with transaction.atomic():
        row = _lock(assignment)
        if not can(by, Action.ATTACH, row):
            raise NotAllowed("只有本县经办人可以上传附件")
        if row.state not in Action.ATTACH_STATES:
            raise Conflict(f"事项{row.get_state_display()},不能上传附件", state=row.state, version=row.version)
        try:
            return files.store(row, upload, by=by)
        except files.FileRefused as error:
            raise Invalid(str(error), field="file") from None


def detach(assignment, *, by, attachment_id):
    """Remove an uploaded file that no submission carries yet (a wrong upload, say)."""
    from . import files

    with transaction.atomic():
        row = _lock(assignment)
        if not can(by, Action.ATTACH, row):
            raise NotAllowed("只有本县经办人可以删除附件")
        attachment = Attachment.objects.filter(assignment=row, pk=attachment_id).first()
        if attachment is None:
            raise Invalid("没有这个附件", field="attachment")
        if attachment.submission_id is not None:
            raise Conflict("已报送的附件是记录的一部分,不能删除", state=row.state, version=row.version)
        attachment.delete()
        transaction.on_commit(lambda: files.discard_if_unused(attachment.sha256))
    return row


# ---------------------------------------------------------------------------------------------
# The shared steps


class _Act:
    """One action in progress: the locked row, the actor, the time; `finish` writes event and row."""

    def __init__(self, row, action, by, unit, now, from_state):
        self.row, self.action, self.by, self.unit, self.now = row, action, by, unit, now
        self.from_state = from_state
        self.finished = False

    def finish(self, *, comment="", snapshot=None, attachments=None):
        row = self.row
        event = history.next_event(
            key=row.key,
            count=row.event_count,
            last_hash=row.last_hash,
            action=self.action,
            from_state=self.from_state,
            to_state=row.state,
            actor=self.by,
            unit=self.unit,
            at=self.now,
            comment=comment,
            snapshot=snapshot,
            attachments=attachments,
        )
        bulk.insert(Event, [{**event, "assignment_id": row.pk}], returning=False)
        row.event_count, row.last_hash = event["sequence"], event["hash"]
        row.version += 1
        row.updated = self.now
        Assignment.objects.filter(pk=row.pk).update(
            state=row.state,
            version=row.version,
            assignee_id=row.assignee_id,
            task_id=row.task_id,
            event_count=row.event_count,
            last_hash=row.last_hash,
            updated=row.updated,
        )
        self.finished = True
        label, pk, state = ACTION_LABELS[self.action], row.pk, row.state
        transaction.on_commit(lambda: logger.info("assignment %s: %s by %s → %s", pk, label, self.by, state))


@contextmanager
def _action(assignment, action, by, version):
    """One transaction: lock the row, check permission, version and state, move the FSM; yield the act.

    Whatever the body raises rolls all of it back, so a refusal at any point changes nothing.
    """
    with transaction.atomic():
        row = _lock(assignment)
        label = ACTION_LABELS[action]
        if not can(by, action, row):
            raise NotAllowed(f"你无权对此事项执行“{label}”")
        if not isinstance(version, int) or isinstance(version, bool):
            raise Invalid("缺少版本号(version)", field="version")
        if version != row.version:
            raise Conflict(
                f"事项已被他人更新(你看到的是第 {version} 版,"
                f"当前为第 {row.version} 版、{row.get_state_display()}),请刷新后再操作",
                state=row.state,
                version=row.version,
            )
        from_state = row.state
        try:
            getattr(row, transition_of(action))()  # the FSM move
        except TransitionNotAllowed:
            raise Conflict(
                f"事项当前为“{row.get_state_display()}”,不能{label}", state=row.state, version=row.version
            ) from None
        act = _Act(row, action, by, _acting_unit_for(by, action, row), timezone.now(), from_state)
        yield act
        if not act.finished:  # pragma: no cover - every action function finishes its act
            raise RuntimeError(f"{action} did not record its event")


def _required(text, message, field):
    text = (text or "").strip() if isinstance(text, str) or text is None else text
    if not isinstance(text, str) or not text:
        raise Invalid(message, field=field)
    return text


def _lock(assignment):
    pk = getattr(assignment, "pk", assignment)
    try:
        return Assignment.objects.select_for_update().get(pk=pk)
    except Assignment.DoesNotExist:
        raise NotAllowed("没有这个督办事项") from None


def _acting_unit_for(user, action, row):
    """The unit the actor acts for: the one of their units the action's permission was found on."""
    codename, where = Action.NEEDS[action]
    if where == "co_sections":
        return acting_unit(user, codename, among=co_section_ids(row))
    return principal(user).units[getattr(row, f"{where}_id")]


def acting_unit(user, codename, among=None):
    who = principal(user)
    candidates = who.units_with(codename) if among is None else who.units_with(codename) & among
    return min((who.units[pk] for pk in candidates), key=lambda unit: unit.position, default=None)


def _sections_without_agreement(row):
    """Co-operating sections whose latest opinion on the current submission is not an agreement."""
    co = co_section_ids(row)
    latest = {}
    current = Submission.objects.filter(assignment=row).order_by("-number").values_list("pk", flat=True).first()
    for section_id, agree in (
        Countersign.objects.filter(assignment=row, submission_id=current)
        .order_by("created", "pk")
        .values_list("section_id", "agree")
    ):
        latest[section_id] = agree
    return list(
        Unit.objects.filter(pk__in=[pk for pk in co if not latest.get(pk)])
        .order_by("position")
        .values_list("name", flat=True)
    )


def _colleague(username, county_id):
    User = get_user_model()
    user = User.objects.filter(username=username, is_active=True).first() if isinstance(username, str) else None
    if user is None:
        raise Invalid(f"没有名为“{username}”的在用账号", field="to")
    if county_id not in principal(user).units_with(roles.WORK):
        raise Invalid(f"“{username}”不是本县的经办人,不能转办给他", field="to")
    return user
