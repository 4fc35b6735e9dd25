from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from viewflow.urls import Site

from assignments.urls import PlanApplication
from workflows.urls import AssignmentApplication

admin.site.site_header = "督办 · 管理后台"
admin.site.site_title = "督办管理后台"
admin.site.index_title = "用户、单位与计划"

site = Site(title="督办", viewsets=[AssignmentApplication(), PlanApplication()])

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", site.urls),
]
