from django.conf import settings
from django.db import models

from assignments.models import Assignment, State, Unit


class Event(models.Model):
    """One entry of an assignment's history. Append-only: the database refuses UPDATE, DELETE and REPLACE.

    Each event's `hash` is an HMAC, with a key the database never holds, over its content (ids, not
    names) and the previous event's hash of the same assignment; the assignment keeps the last hash and
    the count, which a trigger moves only onto the last event. `verify_history` shows any altered,
    forged, removed or inserted event; with a checkpoint also a removed tail or a re-hashed chain.
    """

    class Action(models.TextChoices):
        ISSUE = "issue", "下达"
        START = "start", "开始办理"
        SUBMIT = "submit", "报送"
        RECALL = "recall", "撤回报送"
        BEGIN_REVIEW = "begin_review", "开始审核"
        ACCEPT = "accept", "验收"
        RETURN = "return", "退回"
        COUNTERSIGN = "countersign", "会签"
        REASSIGN = "reassign", "转办"
        CANCEL = "cancel", "撤销"
        EXTEND = "extend", "延期"
        URGE = "urge", "催办"
        ACKNOWLEDGE = "acknowledge", "签收"

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="events")
    sequence = models.PositiveIntegerField("序号")
    action = models.CharField("操作", max_length=16, choices=Action.choices)
    from_state = models.CharField("原状态", max_length=16, choices=State.choices, blank=True)
    to_state = models.CharField("新状态", max_length=16, choices=State.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField("操作人", max_length=150, blank=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    unit_name = models.CharField("单位", max_length=64, blank=True)
    at = models.DateTimeField("时间")
    comment = models.TextField("意见或理由", blank=True)
    snapshot = models.JSONField("报送内容快照", default=dict, blank=True)
    attachments = models.JSONField("附件 SHA-256", default=list, blank=True)
    prev_hash = models.CharField("上一条哈希", max_length=64, blank=True)
    hash = models.CharField("哈希", max_length=64, unique=True)
    algorithm = models.CharField("摘要算法", max_length=8, blank=True)  # sm3 or sha256; "" before keyed history
    key_id = models.CharField("密钥标识", max_length=16, blank=True)

    class Meta:
        verbose_name = "历史记录"
        verbose_name_plural = "历史记录"
        ordering = ["assignment", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "sequence"], name="event_sequence_unique"),
        ]

    def __str__(self):
        return f"{self.assignment_id}#{self.sequence} {self.get_action_display()}"


class Checkpoint(models.Model):
    """Every chain's head at one moment, keyed: `line` is what the auditor keeps outside the database."""

    at = models.DateTimeField("时间")
    chains = models.PositiveIntegerField("督办事项数")
    events = models.PositiveIntegerField("历史条数")
    digest = models.CharField("摘要", max_length=64)
    line = models.TextField("检查点")

    class Meta:
        verbose_name = "检查点"
        verbose_name_plural = "检查点"
        ordering = ["-at"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.chains}/{self.events}"


class CalendarOverride(models.Model):
    """The bureau's own word on one day, over the national calendar: a working day or a rest day."""

    date = models.DateField("日期", unique=True)
    working = models.BooleanField("上班", help_text="勾选为工作日,不勾选为休息日。")
    note = models.CharField("说明", max_length=100, blank=True)

    class Meta:
        verbose_name = "工作日调整"
        verbose_name_plural = "工作日调整"
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {'上班' if self.working else '休息'}"


class Urging(models.Model):
    """An urging (催办) of one assignment, open until the reporting unit acknowledges it (签收). Both are
    events of the assignment's history; this row is there so that open urgings list without reading it."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="urgings")
    event = models.OneToOneField(Event, on_delete=models.PROTECT, related_name="+", verbose_name="催办记录")
    message = models.TextField("催办内容")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="催办人")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="催办单位")
    at = models.DateTimeField("催办时间")
    acknowledged_at = models.DateTimeField("签收时间", null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="签收人",
    )  # fmt: skip
    acknowledge_event = models.ForeignKey(
        Event, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="签收记录"
    )

    class Meta:
        verbose_name = "催办"
        verbose_name_plural = "催办"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["assignment", "acknowledged_at"])]

    def __str__(self):
        return f"{self.assignment_id} {self.at:%Y-%m-%d %H:%M} {self.message[:20]}"


class Notification(models.Model):
    """One notice to one person (an outbox row): written in the transaction of what it tells, delivered
    after commit by `workflows.notifications.deliver` (in-app, and e-mail when the person has an address).

    `key` names what it tells ("event/<id>", "issue/<round>/<time>", "reminder/<day>"); one person gets each
    once, however often an action or a delivery is retried.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name="收件人"
    )
    key = models.CharField("标识", max_length=100)
    kind = models.CharField("类别", max_length=16)  # an action's name, or "reminder"
    # no database constraint: a notice tells of an event but must not hold the history in place (the history
    # answers for itself: its keyed chain shows a removed event, a notice would only block the removal)
    event = models.ForeignKey(
        Event, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    assignment = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="督办事项"
    )
    subject = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    link = models.CharField("链接", max_length=200, blank=True)
    created = models.DateTimeField("创建时间")
    available_at = models.DateTimeField("送达时间", null=True, blank=True)  # shown in the app from then on
    sent_at = models.DateTimeField("邮件发出时间", null=True, blank=True)  # or found to need no e-mail
    email = models.CharField("邮件地址", max_length=254, blank=True)
    attempts = models.PositiveSmallIntegerField("邮件尝试次数", default=0)
    last_error = models.TextField("最近一次错误", blank=True)
    read_at = models.DateTimeField("阅读时间", null=True, blank=True)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once"),
            models.UniqueConstraint(
                fields=["event", "recipient"], condition=models.Q(event__isnull=False), name="notification_event_once"
            ),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return f"{self.recipient_id} {self.subject}"

    @property
    def state(self):
        if self.sent_at is not None:
            return "已发送"
        if self.last_error:
            return "已放弃" if self.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS else "待重试"
        return "待发送"
