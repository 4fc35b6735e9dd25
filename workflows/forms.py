from django import forms

from assignments.models import State

from . import values
from .deadlines import MEANINGS, Light


class TextField(forms.CharField):
    """A text; one made only of blanks or invisible characters counts as empty."""

    def to_python(self, value):
        value = super().to_python(value)
        return "" if values.is_blank(value) else value


class ActionForm(forms.Form):
    """The form of one action, derived from its fields in the registry. Every action form carries the
    version the user saw, so a stale page is refused. `asks` is what the round asks (`WorkItem.asks`:
    one value per indicator, for an `indicators` field), `colleagues` the people an assignment may be
    handed to (for a `user` field)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, data=None, *, entry, asks=(), colleagues=(), **kwargs):
        super().__init__(data, **kwargs)
        self.entry = entry
        self.asks = list(asks)
        for spec in entry.fields:
            if spec.kind == "indicators":
                for ask in self.asks:
                    self.fields[f"indicator_{ask.indicator.pk}"] = forms.CharField(
                        label=f"{ask.indicator.subject}({ask.indicator.unit})",
                        help_text=ask.description,
                        max_length=32,
                        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                        error_messages={"required": f"请填写指标:{ask.indicator.subject}"},
                    )
            else:
                self.fields[spec.name] = _field(spec, colleagues)

    def action_data(self):
        """The keyword arguments of the action function."""
        data = {"version": self.cleaned_data["version"]}
        for spec in self.entry.fields:
            if spec.kind == "indicators":
                data[spec.name] = {
                    str(ask.indicator.pk): self.cleaned_data[f"indicator_{ask.indicator.pk}"] for ask in self.asks
                }
            else:
                data[spec.name] = self.cleaned_data[spec.name]
        return data


def _field(spec, colleagues):
    options = {"label": spec.label, "required": spec.required, "help_text": spec.help}
    if spec.required:
        verb = "请填写" if spec.kind == "text" else "请选择"
        options["error_messages"] = {"required": f"{verb}{spec.label}"}
    if spec.kind == "text":
        rows = 6 if spec.max_length > 2000 else 3 if spec.required else 2
        return TextField(max_length=spec.max_length, widget=forms.Textarea(attrs={"rows": rows}), **options)
    if spec.kind == "bool":
        yes, no = spec.choices or ("是", "否")
        return forms.TypedChoiceField(
            choices=[("true", yes), ("false", no)], coerce=lambda value: value == "true", widget=forms.RadioSelect,
            **options,
        )  # fmt: skip
    if spec.kind == "user":
        choices = [(user.username, user.get_full_name() or user.username) for user in colleagues]
        return forms.ChoiceField(choices=choices, **options)
    if spec.kind == "date":
        options.setdefault("error_messages", {})["invalid"] = f"{spec.label}应为日期,如 2024-11-15"
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), input_formats=["%Y-%m-%d"], **options)
    raise ValueError(f"no form field for {spec.kind!r}")  # pragma: no cover - the kinds are the five above


class UploadForm(forms.Form):
    file = forms.FileField(label="附件")


class FilterForm(forms.Form):
    """The list's filters. Measures are numbered per plan, so the measure choices are those of the chosen
    plan (or of the only one)."""

    todo = forms.BooleanField(label="只看待我办理", required=False)
    plan = forms.ChoiceField(label="计划", required=False)
    year = forms.TypedChoiceField(label="年度", required=False, coerce=int, empty_value=None)
    state = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *State.choices])
    measure = forms.TypedChoiceField(label="重点任务", required=False, coerce=int, empty_value=None)
    unit = forms.ChoiceField(label="报送单位", required=False)  # a county, or a section for its annual reports
    light = forms.ChoiceField(
        label="期限灯",
        required=False,
        choices=[("", "全部"), *[(light, f"{light.label} {MEANINGS[light]}") for light in Light]],
    )

    def __init__(self, *args, plans=(), years=(), measures=(), units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [("", "全部计划"), *[(plan.code, plan.code) for plan in plans]]
        self.fields["year"].choices = [("", "全部年度"), *[(year, f"{year} 年") for year in years]]
        self.fields["measure"].choices = [("", "全部任务"), *[(m.number, f"{m.number}.{m.title}") for m in measures]]
        self.fields["unit"].choices = [("", "全部单位"), *[(name, name) for name in units]]


class OpenRoundForm(forms.Form):
    year = forms.TypedChoiceField(label="报送年度", coerce=int)
    measures = forms.TypedMultipleChoiceField(label="下达的重点任务", coerce=int, widget=forms.CheckboxSelectMultiple)
    reports = forms.BooleanField(
        label="同时下达各科室的年度工作报告",
        required=False,
        initial=True,
        help_text="由本科室审核,已下达的不重复下达。",
    )

    def __init__(self, *args, years=(), opened=(), measures=(), reports=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not reports:  # only the coordinator's chief issues the reports
            del self.fields["reports"]
        self.fields["year"].choices = [(year, f"{year} 年") for year in years]
        self.fields["year"].initial = next((year for year in years if year not in opened), None)
        self.fields["measures"].choices = [(m.pk, f"{m.number}.{m.title}") for m in measures]
        self.fields["measures"].initial = [m.pk for m in measures]


class ExtendUnitForm(forms.Form):
    """A reporting unit's due dates in one round moved at once (each assignment by the `extend` action)."""

    year = forms.TypedChoiceField(label="报送年度", coerce=int)
    unit = forms.ChoiceField(label="报送单位")  # a county, or a section for its annual report
    measure = forms.TypedChoiceField(label="重点任务", required=False, coerce=int, empty_value=None)
    due = forms.DateField(
        label="新的报送期限",
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
        error_messages={"required": "请填写新的报送期限", "invalid": "新的报送期限应为日期,如 2024-11-15"},
    )
    reason = TextField(label="理由", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                       error_messages={"required": "延期必须填写理由"})  # fmt: skip

    def __init__(self, *args, years=(), units=(), measures=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(year, f"{year} 年") for year in years]
        self.fields["year"].initial = max(years, default=None)
        self.fields["unit"].choices = [(name, name) for name in units]
        self.fields["measure"].choices = [
            ("", "全部重点任务"),
            *[(m.number, f"{m.number}.{m.title}") for m in measures],
        ]


class UrgeForm(forms.Form):
    """Every late assignment of a unit, or of a measure, in one round urged with one message."""

    year = forms.TypedChoiceField(label="报送年度", coerce=int)
    unit = forms.ChoiceField(label="报送单位", required=False)
    measure = forms.TypedChoiceField(label="重点任务", required=False, coerce=int, empty_value=None)
    message = TextField(label="催办内容", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                        error_messages={"required": "催办必须填写催办内容"})  # fmt: skip

    def __init__(self, *args, years=(), units=(), measures=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(year, f"{year} 年") for year in years]
        self.fields["year"].initial = max(years, default=None)
        self.fields["unit"].choices = [("", "(按重点任务催办)"), *[(name, name) for name in units]]
        self.fields["measure"].choices = [
            ("", "(按单位催办)"),
            *[(m.number, f"{m.number}.{m.title}") for m in measures],
        ]

    def clean(self):
        data = super().clean()
        if bool(data.get("unit")) == bool(data.get("measure")):
            raise forms.ValidationError("请选择一个报送单位或一项重点任务(二者选一)")
        return data


def _date_field(label):
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": f"{label}应为日期,如 2024-10-31"},
    )


class MatrixForm(forms.Form):
    """The matrix's filters (a GET form): a group of measures, a lead section, a state, a light, and the day
    the matrix is rebuilt as of."""

    group = forms.ChoiceField(label="分组", required=False)
    section = forms.ChoiceField(label="牵头科室", required=False)
    state = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *State.choices])
    light = forms.ChoiceField(
        label="期限灯",
        required=False,
        choices=[("", "全部"), *[(light, f"{light.label} {MEANINGS[light]}") for light in Light]],
    )
    as_of = _date_field("截至日期")

    def __init__(self, *args, groups=(), sections=(), today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["group"].choices = [("", "全部分组"), *[(g.number, f"{g.number}、{g.title}") for g in groups]]
        self.fields["section"].choices = [("", "全部科室"), *[(name, name) for name in sections]]

    def clean_as_of(self):
        day = self.cleaned_data["as_of"]
        if day is not None and self.today is not None and day > self.today:
            raise forms.ValidationError("截至日期不能晚于今天:未来的情况还没有发生")
        return day


class AuditForm(forms.Form):
    """The auditors' event search (a GET form); the same filters select what the exports hold."""

    plan = forms.ChoiceField(label="计划", required=False)
    unit = forms.ChoiceField(label="报送单位", required=False)  # a county, or a section for its reports
    section = forms.ChoiceField(label="牵头科室", required=False)
    measure = forms.TypedChoiceField(label="重点任务", required=False, coerce=int, empty_value=None)
    item = forms.CharField(label="工作事项编号", required=False, max_length=8)
    actor = forms.CharField(label="操作人账号", required=False, max_length=150)
    action = forms.ChoiceField(label="操作", required=False)
    since = _date_field("起始日期")
    until = _date_field("截止日期")

    def __init__(self, *args, plans=(), units=(), sections=(), measures=(), actions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [("", "全部计划"), *[(plan.code, plan.code) for plan in plans]]
        self.fields["unit"].choices = [("", "全部单位"), *[(name, name) for name in units]]
        self.fields["section"].choices = [("", "全部科室"), *[(name, name) for name in sections]]
        self.fields["measure"].choices = [("", "全部任务"), *[(m.number, f"{m.number}.{m.title}") for m in measures]]
        self.fields["action"].choices = [("", "全部操作"), *actions]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("起始日期晚于截止日期,查不到任何记录,请调换")
        return data
