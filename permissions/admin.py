from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from viewflow.workflow import admin as viewflow_admin
from viewflow.workflow.models import Process, Task

from assignments.models import Unit

from .roles import Role, RoleError, assign_role, clear_role, resolve, role_of, unit_of

User = get_user_model()


class RoleFormMixin(forms.Form):
    """Role and unit on the user's admin page, saved as the role's group and its unit grants."""

    role = forms.ChoiceField(label="角色", choices=[("", "(未分配)"), *Role.choices], required=False)
    unit = forms.ModelChoiceField(
        label="所属单位",
        queryset=Unit.objects.all(),
        required=False,
        help_text="县局人员选县级民政局,科室人员选科室;局领导可不选(即市局);审计不选。",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            self.fields["role"].initial = role_of(self.instance)
            self.fields["unit"].initial = unit_of(self.instance)

    def clean(self):
        cleaned = super().clean()
        role, unit = cleaned.get("role"), cleaned.get("unit")
        if role:
            try:
                cleaned["unit"] = resolve(role, unit.name if unit else None)  # as `adduser` does
            except RoleError as error:
                raise ValidationError(str(error)) from None
        elif unit is not None:
            raise ValidationError("指定所属单位时必须同时指定角色")
        return cleaned


class DubanUserChangeForm(RoleFormMixin, UserAdmin.form):
    pass


class DubanUserCreationForm(RoleFormMixin, UserAdmin.add_form):
    pass


class DubanUserAdmin(UserAdmin):
    form = DubanUserChangeForm
    add_form = DubanUserCreationForm
    list_display = ["username", "first_name", "role_label", "unit_label", "is_active", "is_staff"]
    list_filter = ["groups", "is_active", "is_staff"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("个人信息", {"fields": ["first_name", "last_name", "email"]}),
        ("角色与单位", {"fields": ["role", "unit"]}),
        ("状态", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("重要日期", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "password1", "password2"]}),
        ("角色与单位", {"fields": ["role", "unit"]}),
    ]

    @admin.display(description="角色")
    def role_label(self, user):
        return Role.LABELS.get(role_of(user), "")

    @admin.display(description="所属单位")
    def unit_label(self, user):
        unit = unit_of(user)
        return unit.name if unit else ""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        role = form.cleaned_data.get("role")
        if role:
            assign_role(form.instance, role, form.cleaned_data.get("unit"))
        else:
            clear_role(form.instance)


admin.site.unregister(User)
admin.site.register(User, DubanUserAdmin)


class ReadOnlyAdmin:
    """Shown, never changed: processes and tasks move only with an assignment's actions and their history."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyTaskInline(ReadOnlyAdmin, viewflow_admin.TaskInline):
    pass


class ReadOnlyProcessAdmin(ReadOnlyAdmin, viewflow_admin.ProcessAdmin):
    inlines = [ReadOnlyTaskInline]


class ReadOnlyTaskAdmin(ReadOnlyAdmin, viewflow_admin.TaskAdmin):
    pass


# viewflow registers editable admins for its own models; these replace them.
for model, model_admin in [(Process, ReadOnlyProcessAdmin), (Task, ReadOnlyTaskAdmin)]:
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
