from django import forms

from assignments.models import State
from permissions.checks import Action


class ActionForm(forms.Form):
    """Every action form carries the version the user saw, so a stale page is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class CommentForm(ActionForm):
    comment = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ReasonForm(ActionForm):
    reason = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class CountersignForm(ActionForm):
    agree = forms.TypedChoiceField(
        label="会签结论",
        choices=[("true", "同意"), ("false", "不同意")],
        coerce=lambda value: value == "true",
        widget=forms.RadioSelect,
    )
    opinion = forms.CharField(label="会签意见", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ReassignForm(ActionForm):
    to = forms.ChoiceField(label="转办给")
    comment = forms.CharField(label="备注", required=False, max_length=2000)

    def __init__(self, *args, colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(user.username, user.get_full_name() or user.username) for user in colleagues]


class SubmitForm(ActionForm):
    narrative = forms.CharField(label="工作情况", widget=forms.Textarea(attrs={"rows": 6}), max_length=20000)

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.targets = list(targets)
        for target in self.targets:
            self.fields[f"target_{target.pk}"] = forms.CharField(
                label=f"{target.label}:目标 {target.get_comparator_display()} {target.value_display}",
                max_length=32,
            )

    def indicators(self):
        return {str(target.pk): self.cleaned_data[f"target_{target.pk}"] for target in self.targets}


class UploadForm(forms.Form):
    file = forms.FileField(label="附件")


FORMS = {
    Action.START: CommentForm,
    Action.SUBMIT: SubmitForm,
    Action.RECALL: CommentForm,
    Action.BEGIN_REVIEW: CommentForm,
    Action.ACCEPT: CommentForm,
    Action.RETURN: ReasonForm,
    Action.COUNTERSIGN: CountersignForm,
    Action.REASSIGN: ReassignForm,
    Action.CANCEL: ReasonForm,
}


class FilterForm(forms.Form):
    todo = forms.BooleanField(label="只看待我办理", required=False)
    year = forms.TypedChoiceField(label="年度", required=False, coerce=int, empty_value=None)
    state = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *State.choices])
    measure = forms.TypedChoiceField(label="重点任务", required=False, coerce=int, empty_value=None)
    county = forms.ChoiceField(label="县级民政局", required=False)

    def __init__(self, *args, years=(), measures=(), counties=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", "全部年度"), *[(year, f"{year} 年") for year in years]]
        self.fields["measure"].choices = [("", "全部任务"), *[(m.number, f"{m.number}.{m.title}") for m in measures]]
        self.fields["county"].choices = [("", "全部县"), *[(name, name) for name in counties]]


class OpenRoundForm(forms.Form):
    year = forms.TypedChoiceField(label="报送年度", coerce=int)
    measures = forms.TypedMultipleChoiceField(label="下达的重点任务", coerce=int, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, years=(), opened=(), measures=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(year, f"{year} 年") for year in years]
        self.fields["year"].initial = next((year for year in years if year not in opened), None)
        self.fields["measures"].choices = [(m.pk, f"{m.number}.{m.title}") for m in measures]
        self.fields["measures"].initial = [m.pk for m in measures]
