from django.urls import path
from viewflow.urls import Application

from . import desks, views


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
    audit_path = path("audit/", views.audit, name="audit")
    checkpoint_path = path("audit/checkpoints/<int:pk>/", views.checkpoint_download, name="checkpoint")


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
