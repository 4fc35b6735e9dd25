"""The lifecycle actions: one function per action, each a change of an assignment's state.

Each function runs in one transaction. It locks the assignment's row, checks the actor's permission
(`permissions.checks.can`), the version the actor saw and the state, moves the FSM and the viewflow
task, bumps `version`, appends the history event, and queues its side effects for after commit. It
returns the assignment, or raises an `ActionError` whose message is safe to show; in that case
nothing has changed. Attaching files is not a transition but follows the same rules.
"""

import datetime
import logging
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django_fsm import TransitionNotAllowed
from viewflow.workflow.status import PROCESS

from assignments.models import (
    Assignment,
    Attachment,
    Countersign,
    IndicatorValue,
    Measure,
    Round,
    Submission,
    Unit,
    WorkItem,
    plain_number,
)
from permissions import roles
from permissions.checks import ATTACH, RULES, can, co_section_ids, transition_of
from permissions.roles import principal

from . import bulk, history, notifications, tasks, values
from .calendar import WorkingCalendar
from .models import Event, Urging
from .registry import ACTIONS, Field, Grant, action

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
# The task moves: what each action does to the assignment's viewflow task (`workflows.tasks`).
# Each runs when the action finishes, after the FSM move and the action's own writes.


def claim_for_actor(act):
    """The open task moves into the actor's inbox."""
    tasks.claim(act.row.task_id, act.by)


def claim_for_assignee(act):
    if act.row.task_id:
        tasks.claim(act.row.task_id, act.row.assignee)


def to_review(act):
    """The county's task is done; the lead section's review task opens."""
    row = act.row
    tasks.finish(row.task_id, act.by, act.now)
    (row.task_id,) = tasks.follow(row.task_id, tasks.review_task(row.process_id, row.lead_section_id, act.now))


def back_to_work(act):
    """The review task ends through the decide gateway; the county's task reopens for its assignee."""
    row = act.row
    tasks.finish(row.task_id, act.by, act.now)
    work = tasks.work_task(row.process_id, row.unit_id, row.assignee_id, act.now)
    _, row.task_id = tasks.follow(row.task_id, tasks.gateway(row.process_id, act.now), work)


def to_end(act):
    """The review task ends through the decide gateway at the end; the process is done."""
    row = act.row
    tasks.finish(row.task_id, act.by, act.now)
    tasks.follow(row.task_id, tasks.gateway(row.process_id, act.now), tasks.end(row.process_id, act.now))
    tasks.finish_process(row.process_id, act.now)
    row.task_id = None


def cancel_process(act):
    row = act.row
    if row.task_id:
        tasks.cancel_task(row.task_id, act.now)
    tasks.finish_process(row.process_id, act.now, status=PROCESS.CANCELED)
    row.task_id = None


# ---------------------------------------------------------------------------------------------
# The lifecycle: one function per action, each declared in the registry by `@action`.

COMMENT = Field("comment", "text", "备注", required=False)
REASON = Field("reason", "text", "理由")
UNIT = Grant(roles.WORK, "unit")
LEAD = Grant(roles.REVIEW, "lead_section")


@action("start", who=UNIT, fields=[COMMENT], move=claim_for_actor)
def start(assignment, *, by, version, comment=""):
    """A county clerk starts work: the county's task moves into their inbox."""
    with _action(assignment, "start", by, version) as act:
        act.row.assignee = by
        act.finish(comment=comment)
    return act.row


@action(
    "submit",
    who=UNIT,
    fields=[
        Field("narrative", "text", "工作情况", max_length=20000),
        Field(
            "indicators", "indicators", "指标填报值", required=False,
            help="{指标 id: 数值},须覆盖本年度要报送的全部指标(见事项的 targets)",
        ),
        Field(
            "notable", "text", "重要事项", required=False, max_length=5000,
            help="需要市局知道的重要情况、问题或建议(可不填)",
        ),
        COMMENT,
    ],
    move=to_review,
)  # fmt: skip
def submit(assignment, *, by, version, narrative, indicators=None, notable="", comment=""):
    """The reporting unit submits its report: a narrative, one value per indicator the round asks (each
    judged against the target in force that year; a section's annual report asks none), notable matters
    (重要事项) if any, and its attachments.

    Attachments are cumulative: a submission carries every file of the earlier ones and those uploaded
    since; once submitted, a file stays part of the record.
    """
    with _action(assignment, "submit", by, version) as act:
        row = act.row
        narrative = _required(narrative, "请填写工作情况", "narrative")
        notable = "" if values.is_blank(notable) else notable
        asks = []
        if row.item_id is not None:
            item = WorkItem.objects.prefetch_related("indicators__targets").get(pk=row.item_id)
            asks = item.asks(Round.objects.filter(pk=row.round_id).values_list("year", flat=True).get())
        try:
            reported = values.indicator_values(asks, indicators or {})
        except values.Refused as error:
            raise Invalid(str(error), field="indicators") from None
        number = Submission.objects.filter(assignment=row).count() + 1
        submission = Submission.objects.create(
            assignment=row, number=number, narrative=narrative, notable=notable, author=by, created=act.now
        )
        IndicatorValue.objects.bulk_create(
            IndicatorValue(submission=submission, indicator=ask.indicator, target=ask.target, value=value)
            for ask, value in reported
        )
        files = list(Attachment.objects.filter(assignment=row).order_by("pk").values_list("pk", "sha256", "submission"))
        pending = [pk for pk, _, first_submitted in files if first_submitted is None]
        if pending:
            Attachment.objects.filter(pk__in=pending).update(submission=submission)
        attachments = [sha256 for _, sha256, _ in files]
        row.assignee_id = row.assignee_id or by.pk
        snapshot = {
            "submission": number,
            "narrative": narrative,
            "notable": notable,
            "indicators": {str(ask.indicator.pk): plain_number(value) for ask, value in reported},
            "targets": {str(ask.indicator.pk): ask.target.pk if ask.target else None for ask, value in reported},
        }
        act.finish(comment=comment, snapshot=snapshot, attachments=attachments)
    return act.row


@action("recall", who=UNIT, fields=[COMMENT], move=back_to_work)
def recall(assignment, *, by, version, comment=""):
    """The county takes its report back before review begins."""
    with _action(assignment, "recall", by, version) as act:
        act.row.assignee = by
        act.finish(comment=comment)
    return act.row


@action("begin_review", who=LEAD, fields=[COMMENT], move=claim_for_actor)
def begin_review(assignment, *, by, version, comment=""):
    """The lead section's chief takes the report up: the review task moves into their inbox."""
    with _action(assignment, "begin_review", by, version) as act:
        act.finish(comment=comment)
    return act.row


@action("accept", who=LEAD, fields=[COMMENT], move=to_end)
def accept(assignment, *, by, version, comment=""):
    """The lead section accepts (验收) the report; the process ends."""
    with _action(assignment, "accept", by, version) as act:
        row = act.row
        required = Measure.objects.filter(items=row.item_id).values_list("countersign_required", flat=True)
        if row.item_id is not None and required.get():  # a section's report has no co-operating sections
            missing = _sections_without_agreement(row)
            if missing:
                message = f"尚需 {'、'.join(missing)} 会签同意后方可验收"
                raise Conflict(message, state=act.from_state, version=row.version)  # row.state already moved
        act.finish(comment=comment)
    return act.row


@action("return", who=LEAD, fields=[REASON], move=back_to_work)
def return_for_rework(assignment, *, by, version, reason):
    """The lead section returns the report with a reason; the county's task reopens."""
    with _action(assignment, "return", by, version) as act:
        reason = _required(reason, "退回必须填写理由", "reason")
        act.finish(comment=reason)
    return act.row


@action(
    "countersign",
    who=Grant(roles.COUNTERSIGN, "co_sections"),
    fields=[Field("agree", "bool", "会签结论", choices=("同意", "不同意")), Field("opinion", "text", "会签意见")],
)
def countersign(assignment, *, by, version, opinion, agree):
    """A co-operating section adds its opinion (会签) to the report under review."""
    with _action(assignment, "countersign", by, version) as act:
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


@action(
    "reassign",
    who=Grant(roles.REASSIGN, "unit"),
    fields=[Field("to", "user", "转办给", max_length=150, help="本单位经办人的用户名"), COMMENT],
    move=claim_for_assignee,
)
def reassign(assignment, *, by, version, to, comment=""):
    """The county head hands the assignment to another clerk of the same county."""
    with _action(assignment, "reassign", by, version) as act:
        act.row.assignee = _colleague(to, act.row.unit_id)
        act.finish(comment=comment, snapshot={"to": act.row.assignee.get_username()})
    return act.row


@action("cancel", who=LEAD, fields=[REASON], move=cancel_process)
def cancel(assignment, *, by, version, reason):
    """The lead section cancels the assignment with a reason; its process ends as cancelled."""
    with _action(assignment, "cancel", by, version) as act:
        reason = _required(reason, "撤销必须填写理由", "reason")
        act.finish(comment=reason)
    return act.row


@action(
    "extend",
    who=LEAD,
    fields=[Field("due", "date", "新的报送期限", help="须晚于现在的期限,且是工作日"), REASON],
)
def extend(assignment, *, by, version, due, reason):
    """The lead section's chief moves the due date later, with a reason; the event records both dates."""
    with _action(assignment, "extend", by, version) as act:
        row = act.row
        reason = _required(reason, "延期必须填写理由", "reason")
        if not isinstance(due, datetime.date) or isinstance(due, datetime.datetime):
            raise Invalid("请填写新的报送期限(日期,如 2024-11-15)", field="due")
        if due <= row.due:
            raise Invalid(f"新的报送期限须晚于现在的期限 {date_format(row.due)}", field="due")
        working = WorkingCalendar()
        if not working.is_working_day(due):
            nearest = working.next_working_day(due)
            raise Invalid(f"{date_format(due)}是休息日,请选择工作日(如 {date_format(nearest)})", field="due")
        before, row.due = row.due, due
        Assignment.objects.filter(pk=row.pk).update(due=due)
        act.finish(comment=reason, snapshot={"from": before.isoformat(), "to": due.isoformat()})
    return act.row


def has_open_urgings(assignment):
    return Urging.objects.filter(assignment=assignment, acknowledged_at=None).exists()


@action(
    "urge",
    who=Grant(roles.REVIEW, "lead_section_or_coordinator"),
    fields=[Field("message", "text", "催办内容", help="告诉报送单位要做什么、何时前做完")],
)
def urge(assignment, *, by, version, message):
    """The lead section's chief, or the chief of the plan's coordinating section, urges (催办) the reporting
    unit with a message; the urging stays open until the unit acknowledges it."""
    with _action(assignment, "urge", by, version) as act:
        message = _required(message, "催办必须填写催办内容", "message")
        act.finish(comment=message)
        Urging.objects.create(
            assignment_id=act.row.pk, event_id=act.event_id, message=message, by=by, unit=act.unit, at=act.now
        )
    return act.row


@action("acknowledge", who=UNIT, fields=[COMMENT], when=has_open_urgings)
def acknowledge(assignment, *, by, version, comment=""):
    """The reporting unit acknowledges (签收) every open urging of the assignment at once."""
    with _action(assignment, "acknowledge", by, version) as act:
        open_ = Urging.objects.filter(assignment_id=act.row.pk, acknowledged_at=None)
        count = open_.count()
        if not count:
            raise Conflict("此事项没有待签收的催办", state=act.from_state, version=act.row.version)
        act.finish(comment=comment, snapshot={"urgings": count})
        open_.update(acknowledged_at=act.now, acknowledged_by=by, acknowledge_event_id=act.event_id)
    return act.row


def perform(name, assignment, *, by, **data):
    """Take the action `name` (as the pages and the API name it) with the data that action takes."""
    if name not in ACTIONS:
        raise Invalid(f"未知操作“{name}”,应为 {'、'.join(ACTIONS)} 之一", field="action")
    return ACTIONS[name].function(assignment, by=by, **data)


# ---------------------------------------------------------------------------------------------
# Attachments (not a transition: files join the next submission)


def attach(assignment, *, by, upload):
    """Store an uploaded file for the assignment's next submission; see `workflows.files` for the checks."""
    from . import files

    with transaction.atomic():
        row = _lock(assignment)
        if not can(by, ATTACH, row):
            raise NotAllowed("只有本县经办人可以上传附件")
        if row.state not in RULES[ATTACH].states:
            raise Conflict(f"事项{row.get_state_display()},不能上传附件", state=row.state, version=row.version)
        try:
            return files.store(row, upload, by=by)
        except files.FileRefused as error:
            raise Invalid(str(error), field="file") from None


def detach(assignment, *, by, attachment_id):
    """Remove an uploaded file that no submission carries yet (a wrong upload, say). The stored file
    stays for `sweep_media`: other rows may hold the same bytes, some not yet committed."""
    with transaction.atomic():
        row = _lock(assignment)
        if not can(by, ATTACH, row):
            raise NotAllowed("只有本县经办人可以删除附件")
        attachment = Attachment.objects.filter(assignment=row, pk=attachment_id).first()
        if attachment is None:
            raise Invalid("没有这个附件", field="attachment")
        if attachment.submission_id is not None:
            raise Conflict("已报送的附件是记录的一部分,不能删除", state=row.state, version=row.version)
        attachment.delete()
    return row


# ---------------------------------------------------------------------------------------------
# The shared steps


class _Act:
    """One action in progress: the locked row, the actor, the time; `finish` writes event and row."""

    def __init__(self, row, action, by, unit, now, from_state):
        self.row, self.action, self.by, self.unit, self.now = row, action, by, unit, now
        self.from_state = from_state
        self.finished = False
        self.event_id = None

    def finish(self, *, comment="", snapshot=None, attachments=None):
        """Move the task as the registry says, then write the event and the row."""
        row = self.row
        move = ACTIONS[self.action].move
        if move is not None:
            move(self)
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
        (self.event_id,) = bulk.insert(Event, [{**event, "assignment_id": row.pk}])
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
        notifications.for_event(self)  # the outbox rows, in this transaction: a refused action writes none
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
    """The text with its surrounding blanks removed; a text of only blanks or invisible characters is none."""
    if text is not None and not isinstance(text, str):
        raise Invalid(message, field=field)
    if values.is_blank(text):
        raise Invalid(message, field=field)
    return text.strip()


def _lock(assignment):
    pk = getattr(assignment, "pk", assignment)
    try:
        return Assignment.objects.select_for_update().get(pk=pk)
    except Assignment.DoesNotExist:
        raise NotAllowed("没有这个督办事项") from None


def _acting_unit_for(user, action, row):
    """The unit the actor acts for: the one of their units the action's permission was found on."""
    codename, where = RULES[action].grant
    if where == "co_sections":
        return acting_unit(user, codename, among=co_section_ids(row))
    if where == "lead_section_or_coordinator":  # the lead section when the actor is its chief
        return acting_unit(user, codename, among={row.lead_section_id}) or acting_unit(user, codename)
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


def _colleague(username, unit_id):
    User = get_user_model()
    user = User.objects.filter(username=username, is_active=True).first() if isinstance(username, str) else None
    if user is None:
        raise Invalid(f"没有名为“{username}”的在用账号", field="to")
    if unit_id not in principal(user).units_with(roles.WORK):
        raise Invalid(f"“{username}”不是本单位的经办人,不能转办给他", field="to")
    return user
