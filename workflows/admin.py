from django.contrib import admin

from . import calendar
from .models import CalendarOverride, Notification, Urging

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


class DeliveryFilter(admin.SimpleListFilter):
    title = "发送状态"
    parameter_name = "delivery"

    def lookups(self, request, model_admin):
        return [("sent", "已发送"), ("failed", "发送失败"), ("pending", "待发送")]

    def queryset(self, request, queryset):
        if self.value() == "sent":
            return queryset.exclude(sent_at=None)
        if self.value() == "failed":
            return queryset.filter(sent_at=None).exclude(last_error="")
        if self.value() == "pending":
            return queryset.filter(sent_at=None, last_error="")
        return queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox: what was told to whom, whether its e-mail went out, and why not."""

    list_display = ["created", "recipient", "subject", "kind", "state", "attempts", "last_error", "read_at"]
    list_filter = [DeliveryFilter, "kind"]
    search_fields = ["subject", "recipient__username", "last_error"]
    date_hierarchy = "created"
    list_select_related = ["recipient"]
    readonly_fields = [field.name for field in Notification._meta.fields]

    @admin.display(description="状态")
    def state(self, notice):
        return notice.state

    def has_add_permission(self, request):
        return False


@admin.register(Urging)
class UrgingAdmin(admin.ModelAdmin):
    list_display = ["at", "assignment", "unit", "by", "message", "acknowledged_at", "acknowledged_by"]
    list_select_related = ["assignment__round", "assignment__item", "assignment__unit", "unit", "by", "acknowledged_by"]
    readonly_fields = [field.name for field in Urging._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
