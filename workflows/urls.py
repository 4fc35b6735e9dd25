from django.urls import path
from viewflow.urls import Application

from permissions.checks import can_audit

from . import desks, views
from .matrix import may_view as may_view_matrix


class AssignmentApplication(Application):
    """The assignments pages, in the site's menu."""

    title = "督办事项"
    icon = "assignment"
    app_name = "assignments"
    menu_template_name = "workflows/_menu.html"

    index_path = path("", views.assignment_list, name="index")
    detail_path = path("<int:pk>/", views.assignment_detail, name="detail")
    act_path = path("<int:pk>/actions/<str:action>/", views.act, name="act")
    upload_path = path("<int:pk>/attachments/", views.upload, name="upload")
    detach_path = path("<int:pk>/attachments/<int:attachment_pk>/delete/", views.detach, name="detach")
    download_path = path("attachments/<int:pk>/", views.download, name="download")
    rounds_path = path("rounds/", views.rounds, name="rounds")
    extend_path = path("rounds/extend/", views.extend_round, name="extend")
    ledger_path = path("rounds/<int:year>/ledger.<str:extension>", views.ledger_download, name="ledger")
    urge_path = path("rounds/urge/", views.urge_round, name="urge")
    urgings_path = path("urgings/", views.urgings, name="urgings")


class InboxApplication(Application):
    """本县待办: a reporting unit's open assignments, for its people (a county's, a section's for its report)."""

    title = "本县待办"
    icon = "inbox"
    app_name = "inbox"
    menu_template_name = None
    permission = staticmethod(desks.works_on)

    index_path = path("", views.inbox, name="index")


class ReviewApplication(Application):
    """审核台: the reports waiting for a section's review or opinion."""

    title = "审核台"
    icon = "fact_check"
    app_name = "review"
    menu_template_name = None
    permission = staticmethod(desks.reviews)

    index_path = path("", views.review, name="index")


class NotificationApplication(Application):
    """A person's notifications (通知), newest first."""

    title = "通知"
    icon = "notifications"
    app_name = "notifications"
    menu_template_name = None

    index_path = path("", views.notification_list, name="index")
    open_path = path("<int:pk>/", views.notification_open, name="open")


class MatrixApplication(Application):
    """年度总览: a round's measures × counties at a glance, for leaders, sections and auditors."""

    title = "年度总览"
    icon = "grid_on"
    app_name = "matrix"
    menu_template_name = None
    permission = staticmethod(may_view_matrix)
    refusal = "年度总览供局领导、各科室和审计人员查看;县局请在“督办事项”中查看本县的事项"

    index_path = path("", views.matrix_index, name="index")
    year_path = path("<int:year>/", views.matrix, name="year")


class AuditApplication(Application):
    """审计: the auditors' event search with its exports, the integrity check and the checkpoints."""

    title = "审计"
    icon = "verified"
    app_name = "audit"
    menu_template_name = None
    permission = staticmethod(can_audit)
    refusal = "审计页面只供审计人员使用:查询、导出和核验历史记录"

    index_path = path("", views.audit, name="index")
    export_path = path("events.<str:extension>", views.audit_export, name="export")
    checkpoint_path = path("checkpoints/<int:pk>/", views.checkpoint_download, name="checkpoint")
