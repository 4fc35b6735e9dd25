"""The plan and its work: units, the plan's groups, measures, work items with their indicators, targets
and duties of named counties, rounds, assignments with their state field, submissions, attachments and
countersign opinions."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition


def plain_number(value):
    """A decimal as people write it: 100 and 12.5, never 1E+2 or 12.50."""
    return f"{value.normalize():f}"


class UnitQuerySet(models.QuerySet):
    def sections(self):
        return self.filter(kind=Unit.Kind.SECTION)

    def counties(self):
        return self.filter(kind=Unit.Kind.COUNTY)


class Unit(models.Model):
    """An organisational unit: the city bureau, one of its sections, or a county bureau.

    Who may see and do what is granted per unit, as object permissions on these rows.
    """

    class Kind(models.TextChoices):
        CITY = "city", "市局"
        SECTION = "section", "科室"
        COUNTY = "county", "县级民政局"

    kind = models.CharField("类别", max_length=16, choices=Kind.choices)
    name = models.CharField("名称", max_length=64, unique=True)
    full_name = models.CharField("全称", max_length=128, blank=True)
    position = models.PositiveSmallIntegerField("排序", default=0)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["position", "id"]
        permissions = [
            ("view_unit_assignments", "查看本单位的督办事项"),
            ("work_unit_assignments", "办理本单位的督办事项(县局的事项、科室的年度报告)"),
            ("reassign_unit_assignments", "在本单位内转办督办事项"),
            ("countersign_unit_assignments", "为本科室负责的事项会签"),
            ("review_unit_assignments", "下达、审核、验收本科室牵头的事项"),
            ("view_all_assignments", "查看全部单位的督办事项"),
            ("audit_history", "核验历史记录"),
        ]

    def __str__(self):
        return self.name


class Plan(models.Model):
    code = models.CharField("文号", max_length=64, unique=True)
    title = models.CharField("标题", max_length=255)
    issuer = models.CharField("发文机关", max_length=64)
    signed = models.DateField("成文日期", help_text="落款日期。")
    published = models.DateField("发布日期", null=True, blank=True)
    guiding = models.TextField("指导思想", blank=True)
    goals = models.JSONField(
        "工作目标", default=list, blank=True, help_text='按年度的目标:[{"year": 2022, "text": "到2022年底,…"}]。'
    )
    safeguards = models.JSONField(
        "保障措施", default=dict, blank=True, help_text='{"heading": 标题, "paragraphs": [各段原文]}。'
    )
    first_year = models.PositiveSmallIntegerField("起始年度")
    last_year = models.PositiveSmallIntegerField("终止年度")
    report_month = models.PositiveSmallIntegerField("年度报送月", default=10)
    report_day = models.PositiveSmallIntegerField("年度报送日", default=31)
    coordinator = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="牵头汇总科室",
        help_text="收集各年度报送的科室;其科长可下达任何重点任务,其人员可查看全部事项。",
    )

    class Meta:
        verbose_name = "行动计划"
        verbose_name_plural = "行动计划"

    def __str__(self):
        return f"{self.title}({self.code})"

    @property
    def years(self):
        return list(range(self.first_year, self.last_year + 1))


class PlanUnit(models.Model):
    """A unit the plan file names, in the file's order: units are shared by plans, their order is each plan's."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="plan_units")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="plan_units")
    position = models.PositiveSmallIntegerField("排序")

    class Meta:
        verbose_name = "计划所列单位"
        verbose_name_plural = "计划所列单位"
        ordering = ["plan", "position"]
        constraints = [models.UniqueConstraint(fields=["plan", "unit"], name="plan_unit_unique")]

    def __str__(self):
        return f"{self.plan.code} {self.unit.name}"


class MeasureGroup(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="groups")
    number = models.CharField("序号", max_length=4)
    title = models.CharField("标题", max_length=255)
    position = models.PositiveSmallIntegerField("排序")

    class Meta:
        verbose_name = "任务分组"
        verbose_name_plural = "任务分组"
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="group_number_unique"),
        ]

    def __str__(self):
        return f"({self.number}){self.title}"


class Measure(models.Model):
    """One of the plan's key measures (重点任务), with its responsible sections, lead first."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="measures")
    group = models.ForeignKey(MeasureGroup, on_delete=models.PROTECT, related_name="measures")
    number = models.PositiveSmallIntegerField("序号")
    title = models.CharField("标题", max_length=255)
    body = models.TextField("内容")
    sections_text = models.CharField("责任单位(原文)", max_length=255)
    sections = models.ManyToManyField(Unit, through="MeasureSection", related_name="measures", verbose_name="责任科室")
    countersign_required = models.BooleanField(
        "验收前须全部配合科室会签同意",
        default=False,
        help_text="勾选后,牵头科室验收前,事项的每个配合科室都须对当前报送会签同意。",
    )

    class Meta:
        verbose_name = "重点任务"
        verbose_name_plural = "重点任务"
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="measure_number_unique"),
        ]

    def __str__(self):
        return f"{self.number}.{self.title}"

    def ordered_sections(self):
        """The responsible sections, lead first (uses prefetched `measure_sections` when present)."""
        return [link.unit for link in self.measure_sections.all()]


class MeasureSection(models.Model):
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="measure_sections")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField("排序")

    class Meta:
        verbose_name = "任务责任科室"
        verbose_name_plural = "任务责任科室"
        ordering = ["measure", "position"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "unit"], name="measure_section_unique"),
            models.UniqueConstraint(fields=["measure", "position"], name="measure_section_position_unique"),
        ]

    def __str__(self):
        return f"{self.measure.number} {self.unit.name}"

    @property
    def is_lead(self):
        return self.position == 0


class WorkItem(models.Model):
    """One row of a measure's task list (任务清单), the unit of work assigned to every county of its plan, or to
    the counties it is scoped to (`counties`)."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="items")
    code = models.CharField("编号", max_length=8)
    position = models.PositiveSmallIntegerField("排序")
    measure_text = models.TextField("工作措施")
    path_text = models.TextField("工作路径及任务指标", blank=True)
    deadline_text = models.CharField("完成时限(原文)", max_length=64, blank=True)
    first_year = models.PositiveSmallIntegerField("起始年度")
    last_year = models.PositiveSmallIntegerField("终止年度")
    final_due = models.DateField("完成时限", null=True, blank=True)
    sections_text = models.CharField("责任单位(原文)", max_length=255)
    notes = models.JSONField("整理说明", default=list, blank=True)
    sections = models.ManyToManyField(Unit, through="ItemSection", related_name="items", verbose_name="责任科室")
    counties = models.ManyToManyField(
        Unit,
        through="ItemCounty",
        related_name="scoped_items",
        verbose_name="适用县",
        help_text="只向这些县下达;不列则向计划所列的全部县下达。",
    )

    class Meta:
        verbose_name = "工作事项"
        verbose_name_plural = "工作事项"
        ordering = ["measure", "position"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "code"], name="item_code_unique"),
            models.CheckConstraint(
                condition=models.Q(first_year__lte=models.F("last_year")),
                name="item_years_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.measure_text[:24]}"

    @property
    def years(self):
        return list(range(self.first_year, self.last_year + 1))

    def is_active_in(self, year):
        return self.first_year <= year <= self.last_year

    def ordered_sections(self):
        """The row's sections, lead first (uses prefetched `item_sections` when present)."""
        return [link.unit for link in self.item_sections.all()]

    def asks(self, year):
        """What the round of `year` asks: one `Ask` per indicator (uses prefetched `indicators__targets`)."""
        return [indicator.ask(year) for indicator in self.indicators.all()]

    def scope(self):
        """The counties the item is issued to, in the plan file's order; empty: every county of the plan
        (uses prefetched `item_counties` when present)."""
        return [link.unit for link in self.item_counties.all()]

    @property
    def scope_text(self):
        """ "仅限:临县、石楼县、兴县" for an item of named counties, "" for an item of every county."""
        names = [unit.name for unit in self.scope()]
        return f"仅限:{'、'.join(names)}" if names else ""

    def is_for(self, county):
        """Whether the item is issued to `county`: every county, or one it names."""
        scope = self.scope()
        return not scope or county in scope


class ItemSection(models.Model):
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="item_sections")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField("排序")

    class Meta:
        verbose_name = "事项责任科室"
        verbose_name_plural = "事项责任科室"
        ordering = ["item", "position"]
        constraints = [
            models.UniqueConstraint(fields=["item", "unit"], name="item_section_unique"),
            models.UniqueConstraint(fields=["item", "position"], name="item_section_position_unique"),
        ]

    def __str__(self):
        return f"{self.item.code} {self.unit.name}"

    @property
    def is_lead(self):
        return self.position == 0


class ItemCounty(models.Model):
    """A county an item is scoped to: an item with none is issued to every county its plan names."""

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="item_counties")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField("排序")

    class Meta:
        verbose_name = "事项适用县"
        verbose_name_plural = "事项适用县"
        ordering = ["item", "position"]
        constraints = [
            models.UniqueConstraint(fields=["item", "unit"], name="item_county_unique"),
            models.UniqueConstraint(fields=["item", "position"], name="item_county_position_unique"),
        ]

    def __str__(self):
        return f"{self.item.code} {self.unit.name}"


class Indicator(models.Model):
    """What a county reports one value of in each round: a subject with its unit and kind, read from a
    work item's text. Its targets say what the value is judged against, year by year."""

    class Kind(models.TextChoices):
        PERCENT = "percent", "百分比"
        COUNT = "count", "个数(整数)"
        QUANTITY = "quantity", "数值"
        AVERAGE = "average", "平均数"

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="indicators")
    position = models.PositiveSmallIntegerField("排序")
    subject = models.CharField("指标", max_length=128)
    unit = models.CharField("单位", max_length=16)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)

    class Meta:
        verbose_name = "量化指标"
        verbose_name_plural = "量化指标"
        ordering = ["item", "position"]
        constraints = [
            models.UniqueConstraint(fields=["item", "position"], name="indicator_position_unique"),
            models.UniqueConstraint(fields=["item", "subject"], name="indicator_subject_unique"),
        ]

    def __str__(self):
        return self.subject

    def ask(self, year):
        """What the round of `year` asks of this indicator (uses prefetched `targets` when present)."""
        targets = list(self.targets.all())
        due = [target for target in targets if target.year is not None and target.year <= year]
        later = sorted((target for target in targets if target.year is not None and target.year > year), key=_year)
        standing = next((target for target in targets if target.year is None), None)
        return Ask(self, year, max(due, key=_year) if due else standing, later)


def _year(target):
    return target.year


@dataclass(frozen=True)
class Ask:
    """What a round asks of one indicator: one value, judged against the target in force that year (the
    latest target due by then, else the standing or yearly one; None before the first is due), with the
    later targets shown as context."""

    indicator: Indicator
    year: int
    target: "Target | None"
    later: list

    @property
    def coming(self):
        """The next target, when none is in force yet."""
        return self.later[0] if self.target is None and self.later else None

    @property
    def description(self):
        """The target in force and those to come, as the form and the page say it."""
        if self.target is not None:
            parts = [f"目标:{self.target.phrase}"]
        elif self.later:
            parts = [f"{self.year} 年尚无目标,对照 {self.later[0].year} 年目标:{self.later[0].phrase}"]
        else:
            parts = ["无量化目标"]
        upcoming = self.later[1:] if self.target is None else self.later
        if upcoming:
            parts.append("此后:" + ";".join(f"{target.year} 年 {target.phrase}" for target in upcoming))
        return ";".join(parts)


class Target(models.Model):
    """What an indicator's value is judged against: from a year on (`year`), standing (no year), or a
    duty repeated every year (`every_year`, such as 县级每年…不少于2次)."""

    class Comparator(models.TextChoices):
        AT_LEAST = ">=", "不低于"
        AT_MOST = "<=", "不高于"
        EQUAL = "=", "达到"

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="targets")
    # The order of the item's targets as the plan file lists them (across its indicators).
    position = models.PositiveSmallIntegerField("排序")
    comparator = models.CharField("比较", max_length=2, choices=Comparator.choices)
    value = models.DecimalField("目标值", max_digits=12, decimal_places=2)
    year = models.PositiveSmallIntegerField("年度", null=True, blank=True, help_text="目标所指的年度;空为长期目标。")
    every_year = models.BooleanField("每年", default=False, help_text="每年都须达到的目标(如“每年…不少于2次”)。")
    text = models.CharField("原文", max_length=255)

    class Meta:
        verbose_name = "指标目标"
        verbose_name_plural = "指标目标"
        ordering = ["indicator", "position"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "year"], name="target_year_unique"),
            models.CheckConstraint(
                condition=models.Q(every_year=False) | models.Q(year__isnull=True), name="target_yearly_has_no_year"
            ),
        ]

    def __str__(self):
        return f"{self.indicator.subject}{self.phrase}"

    @property
    def value_display(self):
        return f"{plain_number(self.value)}{self.indicator.unit}"

    @property
    def when(self):
        return "每年" if self.every_year else f"{self.year} 年" if self.year else "长期"

    @property
    def phrase(self):
        """ "不低于 40%(2022 年)", "每年不低于 2次"."""
        if self.every_year:
            return f"每年{self.get_comparator_display()} {self.value_display}"
        return f"{self.get_comparator_display()} {self.value_display}({self.when})"

    def met_by(self, value):
        if self.comparator == self.Comparator.AT_LEAST:
            return value >= self.value
        if self.comparator == self.Comparator.AT_MOST:
            return value <= self.value
        return value == self.value


class Duty(models.Model):
    """A part of a work item the document asks of named counties in named years (11b: 临县、石楼县、兴县
    sum up relocation-community governance in 2022)."""

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="duties")
    position = models.PositiveSmallIntegerField("排序")
    text = models.TextField("原文")
    first_year = models.PositiveSmallIntegerField("起始年度")
    last_year = models.PositiveSmallIntegerField("终止年度")
    counties = models.ManyToManyField(Unit, through="DutyCounty", related_name="duties", verbose_name="县级民政局")

    class Meta:
        verbose_name = "点名任务"
        verbose_name_plural = "点名任务"
        ordering = ["item", "position"]
        constraints = [
            models.UniqueConstraint(fields=["item", "position"], name="duty_position_unique"),
            models.CheckConstraint(
                condition=models.Q(first_year__lte=models.F("last_year")), name="duty_years_ordered"
            ),
        ]

    def __str__(self):
        return self.text

    @property
    def years(self):
        return list(range(self.first_year, self.last_year + 1))

    def ordered_counties(self):
        """The named counties in the document's order (uses prefetched `duty_counties` when present)."""
        return [link.unit for link in self.duty_counties.all()]


class DutyCounty(models.Model):
    duty = models.ForeignKey(Duty, on_delete=models.CASCADE, related_name="duty_counties")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField("排序")

    class Meta:
        verbose_name = "点名县"
        verbose_name_plural = "点名县"
        ordering = ["duty", "position"]
        constraints = [models.UniqueConstraint(fields=["duty", "unit"], name="duty_county_unique")]

    def __str__(self):
        return f"{self.duty.item.code} {self.unit.name}"


class Round(models.Model):
    """A reporting round (年度报送): one year of the plan, opened once."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="rounds")
    year = models.PositiveSmallIntegerField("年度")
    opened_at = models.DateTimeField("下达时间", default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "报送年度"
        verbose_name_plural = "报送年度"
        ordering = ["plan", "year"]
        constraints = [models.UniqueConstraint(fields=["plan", "year"], name="round_year_unique")]

    def __str__(self):
        return f"{self.year} 年度"

    def due_for(self, item):
        """The due date of `item` in this round: the item's own deadline in its last year, else the report
        day (a section's report, `item` None, is due on the report day)."""
        if item is not None and item.final_due is not None and item.final_due.year == self.year:
            return item.final_due
        return datetime.date(self.year, self.plan.report_month, self.plan.report_day)


class State(models.TextChoices):
    ASSIGNED = "assigned", "已下达"
    IN_PROGRESS = "in_progress", "办理中"
    SUBMITTED = "submitted", "已报送"
    UNDER_REVIEW = "under_review", "审核中"
    ACCEPTED = "accepted", "已验收"
    RETURNED = "returned", "已退回"
    CANCELLED = "cancelled", "已撤销"


# The order of a list of assignments within a round: by measure and row, a section's report (no item) after
# every item on each database (SQLite sorts NULL first, PostgreSQL last).
ITEM_ORDER = (
    models.F("item__measure__number").asc(nulls_last=True),
    models.F("item__position").asc(nulls_last=True),
)


class AssignmentQuerySet(models.QuerySet):
    def in_round(self, year):
        return self.filter(round__year=year)

    def led_by(self, section_name):
        return self.filter(lead_section__name=section_name)

    def reports(self):
        """The sections' annual reports."""
        return self.filter(item__isnull=True)


class Assignment(FSMModelMixin, models.Model):
    """What one reporting unit owes in one round: a work item assigned to a county bureau, or a
    section's annual report on the measures it is responsible for (no item; reviewed by the plan's
    coordinating section).

    `state` is the business state that lists, dashboards and the API read. It is protected: only the
    action functions in `workflows.actions` move it, through the transitions declared below, in
    the same transaction as the assignment's viewflow task.
    """

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="assignments")
    item = models.ForeignKey(
        WorkItem, on_delete=models.PROTECT, null=True, blank=True, related_name="assignments"
    )  # None: a section's annual report
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="unit_assignments", verbose_name="报送单位"
    )  # the reporting unit: a county bureau, or a section for its annual report
    # "2024/17/5": year, item id and unit id ("2024/r1/5" for a section's report: year, plan id and unit
    # id), written once; the history hashes it, so an action needs no join to chain its event, and
    # `verify_history` checks it against the rows it names.
    key = models.CharField("标识", max_length=100, unique=True, editable=False)
    lead_section = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="led_assignments")
    state = FSMField("状态", choices=State.choices, default=State.ASSIGNED, protected=True, db_index=True)
    version = models.PositiveIntegerField("版本", default=1)
    due = models.DateField("报送期限")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    process = models.OneToOneField("viewflow.Process", on_delete=models.PROTECT, related_name="assignment")
    task = models.ForeignKey(
        "viewflow.Task", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )  # the process's open human task, kept here so that an action needs no lookup
    event_count = models.PositiveIntegerField("历史条数", default=0)
    last_hash = models.CharField("最后一条历史的哈希", max_length=64, blank=True)
    created = models.DateTimeField("创建时间", default=timezone.now)
    updated = models.DateTimeField("更新时间", default=timezone.now)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = "督办事项"
        verbose_name_plural = "督办事项"
        ordering = ["round", *ITEM_ORDER, "unit__position"]
        constraints = [
            models.UniqueConstraint(fields=["round", "item", "unit"], name="assignment_unique"),
            models.UniqueConstraint(
                fields=["round", "unit"], condition=models.Q(item__isnull=True), name="section_report_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "state"]),
            models.Index(fields=["lead_section", "state"]),
        ]

    def __str__(self):
        return self.label

    @property
    def is_report(self):
        """A section's annual report (no work item)."""
        return self.item_id is None

    @property
    def county(self):
        """The county bureau it is assigned to; None for a section's report."""
        return self.unit if self.unit.kind == Unit.Kind.COUNTY else None

    @property
    def title(self):
        """What it is: "7a 工作措施…" for an item, "2024 年度社管科工作报告" for a section's report."""
        if self.is_report:
            return f"{self.round.year} 年度{self.unit.name}工作报告"
        return f"{self.item.code} {self.item.measure_text}"

    @property
    def label(self):
        """How people name it: "2024/7a/离石区" (year, item code, unit), "2024/报告/社管科" for a section's
        report. The `key` holds ids instead."""
        return f"{self.round.year}/{self.item.code if self.item_id else '报告'}/{self.unit.name}"

    @staticmethod
    def make_key(round_, item, unit):
        """Ids, not names: the history hashes the key, and renaming a unit or an item code is not tampering.
        A section's report (`item` None) is named by its plan, of which a section reports once a year."""
        if item is None:
            return f"{round_.year}/r{round_.plan_id}/{unit.pk}"
        return f"{round_.year}/{item.pk}/{unit.pk}"

    # The lifecycle (README, "The lifecycle"). Each method is one action's move; `workflows.actions` calls it.
    @transition(state, source=State.ASSIGNED, target=State.IN_PROGRESS)
    def start(self):
        pass

    @transition(state, source=[State.IN_PROGRESS, State.RETURNED], target=State.SUBMITTED)
    def submit(self):
        pass

    @transition(state, source=State.SUBMITTED, target=State.IN_PROGRESS)
    def recall(self):
        pass

    @transition(state, source=State.SUBMITTED, target=State.UNDER_REVIEW)
    def begin_review(self):
        pass

    @transition(state, source=State.UNDER_REVIEW, target=State.ACCEPTED)
    def accept(self):
        pass

    @transition(state, source=State.UNDER_REVIEW, target=State.RETURNED)
    def return_for_rework(self):
        pass

    @transition(state, source=State.UNDER_REVIEW, target=None)
    def countersign(self):
        pass

    @transition(state, source=[State.ASSIGNED, State.IN_PROGRESS, State.RETURNED], target=None)
    def reassign(self):
        pass

    @transition(
        state,
        source=[State.ASSIGNED, State.IN_PROGRESS, State.SUBMITTED, State.UNDER_REVIEW, State.RETURNED],
        target=State.CANCELLED,
    )
    def cancel(self):
        pass

    @transition(
        state,
        source=[State.ASSIGNED, State.IN_PROGRESS, State.SUBMITTED, State.UNDER_REVIEW, State.RETURNED],
        target=None,
    )
    def extend(self):
        pass

    @transition(state, source=[State.ASSIGNED, State.IN_PROGRESS, State.RETURNED], target=None)
    def urge(self):
        """Only what the reporting unit still owes is urged."""

    @transition(
        state,
        source=[State.ASSIGNED, State.IN_PROGRESS, State.SUBMITTED, State.UNDER_REVIEW, State.RETURNED],
        target=None,
    )
    def acknowledge(self):
        pass


class Submission(models.Model):
    """One report of a county on an assignment; every submission is kept."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="submissions")
    number = models.PositiveSmallIntegerField("第几次报送")
    narrative = models.TextField("工作情况")
    notable = models.TextField("重要事项", blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField("报送时间", default=timezone.now)

    class Meta:
        verbose_name = "报送"
        verbose_name_plural = "报送"
        ordering = ["assignment", "number"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "number"], name="submission_number_unique"),
        ]

    def __str__(self):
        return f"{self.assignment} 第 {self.number} 次报送"


class IndicatorValue(models.Model):
    """A county's value of one indicator in one submission, with the target it was judged against: the one
    in force in the round's year when it was submitted (None when none was yet), kept so that a later
    change of the plan's targets does not rewrite a judgement already made."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="values")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey(
        Target, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="对照目标"
    )
    value = models.DecimalField("填报值", max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = "指标填报值"
        verbose_name_plural = "指标填报值"
        ordering = ["submission", "indicator__position"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "indicator"], name="indicator_value_unique"),
        ]

    def __str__(self):
        return f"{self.indicator.subject}:{self.value_display}"

    @property
    def value_display(self):
        return f"{plain_number(self.value)}{self.indicator.unit}"

    @property
    def met(self):
        """Whether the value meets the target it was judged against; None without one."""
        return None if self.target is None else self.target.met_by(self.value)


class Attachment(models.Model):
    """A file a county attached to an assignment, stored by SHA-256. `submission` is the submission it
    first joined (None: not submitted yet); every later submission carries it too."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="attachments")
    submission = models.ForeignKey(
        Submission, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    name = models.CharField("文件名", max_length=255)
    content_type = models.CharField("类型", max_length=128)
    size = models.PositiveBigIntegerField("大小")
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)  # the file: `workflows.files.path_of`
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        ordering = ["assignment", "created", "id"]

    def __str__(self):
        return self.name


class Countersign(models.Model):
    """A co-operating section's opinion (会签意见) on an assignment under review."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="countersigns")
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="countersigns")
    section = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agree = models.BooleanField("同意")
    opinion = models.TextField("会签意见")
    created = models.DateTimeField("会签时间", default=timezone.now)

    class Meta:
        verbose_name = "会签意见"
        verbose_name_plural = "会签意见"
        ordering = ["assignment", "created", "id"]

    def __str__(self):
        return f"{self.section.name}:{'同意' if self.agree else '不同意'}"
