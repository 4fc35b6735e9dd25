"""The plan and its work: units, the plan's groups, measures, work items and targets."""

from django.db import models


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
            ("work_unit_assignments", "办理本县的督办事项"),
            ("reassign_unit_assignments", "在本县内转办督办事项"),
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
    issued = models.DateField("成文日期")
    published = models.DateField("发布日期", null=True, blank=True)
    first_year = models.PositiveSmallIntegerField("起始年度")
    last_year = models.PositiveSmallIntegerField("终止年度")
    report_month = models.PositiveSmallIntegerField("年度报送月", default=10)
    report_day = models.PositiveSmallIntegerField("年度报送日", default=31)

    class Meta:
        verbose_name = "行动计划"
        verbose_name_plural = "行动计划"

    def __str__(self):
        return f"{self.title}({self.code})"

    @property
    def years(self):
        return list(range(self.first_year, self.last_year + 1))


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
    """One row of a measure's task list (任务清单), the unit of work assigned to every county."""

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


class Target(models.Model):
    """A quantitative indicator read from a work item's text, which every county reports on."""

    class Comparator(models.TextChoices):
        AT_LEAST = ">=", "不低于"
        AT_MOST = "<=", "不高于"
        EQUAL = "=", "达到"

    class Kind(models.TextChoices):
        PERCENT = "percent", "百分比"
        COUNT = "count", "数量(整数)"
        QUANTITY = "quantity", "数值"

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="targets")
    position = models.PositiveSmallIntegerField("排序")
    subject = models.CharField("指标", max_length=128)
    comparator = models.CharField("比较", max_length=2, choices=Comparator.choices)
    value = models.DecimalField("目标值", max_digits=12, decimal_places=2)
    unit = models.CharField("单位", max_length=16)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    year = models.PositiveSmallIntegerField("年度", null=True, blank=True)
    text = models.CharField("原文", max_length=255)

    class Meta:
        verbose_name = "量化指标"
        verbose_name_plural = "量化指标"
        ordering = ["item", "position"]
        constraints = [
            models.UniqueConstraint(fields=["item", "position"], name="target_position_unique"),
        ]

    def __str__(self):
        return f"{self.subject}{self.get_comparator_display()}{self.value_display}"

    @property
    def value_display(self):
        return f"{self.value.normalize():f}{self.unit}"
