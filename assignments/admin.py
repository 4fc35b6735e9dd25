from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from .models import (
    Duty,
    DutyCounty,
    Indicator,
    ItemSection,
    Measure,
    MeasureGroup,
    MeasureSection,
    Plan,
    Target,
    Unit,
    WorkItem,
)
from .selectors import open_assignments


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):  # roles and unit grants are given on the user page or by `adduser`
    list_display = ["name", "kind", "full_name", "position"]
    list_filter = ["kind"]
    search_fields = ["name", "full_name"]
    ordering = ["position"]


class MeasureGroupInline(admin.TabularInline):
    model = MeasureGroup
    extra = 0


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "first_year", "last_year"]
    inlines = [MeasureGroupInline]


class SectionsFormSet(BaseInlineFormSet):
    """The sections decide who leads, countersigns and sees an assignment: while assignments of the
    measure or item are open, they stay as they are (the same rule as `load_plan`)."""

    def clean(self):
        super().clean()
        if self.instance.pk is None or not self.has_changed():
            return
        lookup = {"item__measure": self.instance} if isinstance(self.instance, Measure) else {"item": self.instance}
        count = open_assignments().filter(**lookup).count()
        if count:
            raise ValidationError(f"有 {count} 件未办结的督办事项,不能更改责任科室;请先验收或撤销这些事项。")


class MeasureSectionInline(admin.TabularInline):
    model = MeasureSection
    formset = SectionsFormSet
    extra = 0


class WorkItemInline(admin.StackedInline):
    model = WorkItem
    extra = 0
    fields = ["code", "measure_text", "path_text", "deadline_text", "first_year", "last_year", "final_due"]
    show_change_link = True


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "group", "sections_text"]
    list_filter = ["group"]
    search_fields = ["title", "body"]
    inlines = [MeasureSectionInline, WorkItemInline]


class ItemSectionInline(admin.TabularInline):
    model = ItemSection
    formset = SectionsFormSet
    extra = 0


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    show_change_link = True  # its targets are edited on the indicator's own page


class DutyInline(admin.TabularInline):
    model = Duty
    extra = 0
    show_change_link = True  # its counties are edited on the duty's own page


class DutyCountyInline(admin.TabularInline):
    model = DutyCounty
    extra = 0


@admin.register(Duty)
class DutyAdmin(admin.ModelAdmin):
    list_display = ["item", "text", "first_year", "last_year"]
    inlines = [DutyCountyInline]


@admin.register(WorkItem)
class WorkItemAdmin(admin.ModelAdmin):
    list_display = ["code", "measure", "deadline_text", "first_year", "last_year", "sections_text"]
    list_filter = ["measure__group", "first_year", "last_year"]
    search_fields = ["code", "measure_text", "path_text"]
    inlines = [ItemSectionInline, IndicatorInline, DutyInline]


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["subject", "item", "unit", "kind"]
    list_filter = ["kind"]
    search_fields = ["subject", "item__code"]
    inlines = [TargetInline]
