from django.contrib import admin

from . import calendar
from .models import CalendarOverride

WEEKDAYS = "一二三四五六日"


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    """The bureau's own working and rest days; due dates and warning windows follow them from then on
    (an assignment already issued keeps its due date until it is extended)."""

    list_display = ["date", "weekday", "national", "working", "note"]
    list_filter = ["working"]
    search_fields = ["note"]
    date_hierarchy = "date"

    @admin.display(description="星期")
    def weekday(self, override):
        return f"星期{WEEKDAYS[override.date.weekday()]}"

    @admin.display(description="国家日历")
    def national(self, override):
        day = override.date
        if not calendar.is_known(day.year):
            return "未收录(按周末计算):" + ("工作日" if day.weekday() < 5 else "休息日")
        return "工作日" if calendar.national_working_day(day) else "休息日"
