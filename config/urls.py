from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from viewflow.urls import Site

from assignments.urls import PlanApplication
from config.auth import LoginForm
from workflows.urls import (
    AssignmentApplication,
    AuditApplication,
    InboxApplication,
    MatrixApplication,
    NotificationApplication,
    ReviewApplication,
)
from workflows.views import landing

admin.site.site_header = "督办 · 管理后台"
admin.site.site_title = "督办管理后台"
admin.site.index_title = "用户、单位与计划"


class DubanSite(Site):
    """The site: its index sends each person to their desk (`workflows.views.landing`)."""

    index_path = path("", landing, name="index")


site = DubanSite(
    title="督办",
    viewsets=[
        InboxApplication(),
        ReviewApplication(),
        AssignmentApplication(),
        MatrixApplication(),
        PlanApplication(),
        AuditApplication(),
        NotificationApplication(),
    ],
)

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("workflows.api")),
    path("api/schema/", login_not_required(SpectacularAPIView.as_view()), name="schema"),
    # Swagger UI's start script comes as a file of its own (`?script`), not inline: the CSP allows no inline script.
    path("api/docs/", login_not_required(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="api-docs"),
    path("", site.urls),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
