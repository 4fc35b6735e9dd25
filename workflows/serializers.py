"""What the API reads and writes. Output is plain data; input bodies are checked here for shape, and
by the action functions for meaning."""

import datetime
import re

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from assignments import selectors
from assignments.models import (
    Assignment,
    Attachment,
    Countersign,
    Indicator,
    Measure,
    Round,
    State,
    Submission,
    Target,
    WorkItem,
    plain_number,
)
from permissions.checks import available_actions

from . import values
from .deadlines import MEANINGS, Light
from .models import Event

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="稳定的英文错误代码,如 invalid、not_authenticated、forbidden、not_found、conflict"
    )
    detail = serializers.CharField(help_text="中文说明,可直接展示给用户")


class ConflictSerializer(ErrorSerializer):
    version = serializers.IntegerField(help_text="事项当前的版本号")
    state = serializers.ChoiceField(choices=State.choices, help_text="事项当前的状态")


class PlanTargetSerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(allow_null=True, help_text="目标所指的年度;null 为长期目标或每年目标")
    every_year = serializers.BooleanField(help_text="每年都须达到的目标(如“每年…不少于2次”)")

    class Meta:
        model = Target
        fields = ["comparator", "value", "year", "every_year", "text"]


class PlanIndicatorSerializer(serializers.ModelSerializer):
    targets = PlanTargetSerializer(many=True, help_text="按年度的目标")

    class Meta:
        model = Indicator
        fields = ["id", "subject", "unit", "kind", "targets"]


class AskSerializer(serializers.Serializer):
    """One indicator the round asks, with the target in force that year; its `id` keys the submitted
    `indicators`."""

    id = serializers.IntegerField(source="indicator.pk", help_text="指标 id:报送时 indicators 的键")
    subject = serializers.CharField(source="indicator.subject", help_text="指标名称")
    unit = serializers.CharField(source="indicator.unit", help_text="单位,如 %、个、人")
    kind = serializers.ChoiceField(
        source="indicator.kind",
        choices=Indicator.Kind.choices,
        help_text="percent 百分比(不超过 100)、count 个数(整数)、quantity 数值、average 平均数(可带两位小数)",
    )
    comparator = serializers.ChoiceField(
        source="target.comparator",
        choices=Target.Comparator.choices,
        allow_null=True,
        default=None,
        help_text="当年有效目标的比较方式(>= 不低于,<= 不高于,= 达到);当年尚无目标时为 null",
    )
    value = serializers.DecimalField(
        source="target.value", max_digits=12, decimal_places=2, allow_null=True, default=None,
        help_text="当年有效目标的目标值;当年尚无目标时为 null",
    )  # fmt: skip
    year = serializers.IntegerField(
        source="target.year", allow_null=True, default=None,
        help_text="当年有效目标所指的年度(目标自该年起有效,直到下一个目标);长期或每年目标为 null",
    )  # fmt: skip
    every_year = serializers.BooleanField(
        source="target.every_year", default=False, help_text="当年有效目标是否为每年都须达到的目标"
    )
    text = serializers.CharField(
        source="target.text", allow_null=True, default=None, help_text="当年有效目标的原文;当年尚无目标时为 null"
    )
    later = PlanTargetSerializer(many=True, help_text="此后各年度的目标,仅作参考;当年尚无目标时,第一项即将到期")


class AttachmentSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField(help_text="下载地址(同样校验可见范围)")
    submission = serializers.SerializerMethodField(help_text="首次随第几次报送提交;null 表示尚未报送")

    class Meta:
        model = Attachment
        fields = ["id", "name", "content_type", "size", "sha256", "submission", "created", "download"]

    def get_download(self, attachment) -> str:
        return reverse("api:attachment-download", args=[attachment.pk])

    def get_submission(self, attachment) -> int | None:
        return attachment.submission.number if attachment.submission_id else None


class SubmissionSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")
    notable = serializers.CharField(help_text="重要事项(可为空)")
    indicators = serializers.SerializerMethodField(help_text="各指标填报值:{指标 id: 数值字符串}")
    judged = serializers.SerializerMethodField(
        help_text="各指标对照的当年目标与是否达到:{指标 id: {comparator, value, year, met}};当年尚无目标时为 null"
    )
    attachments = AttachmentSerializer(many=True, help_text="本次报送新增的附件(之前的附件随之沿用)")

    class Meta:
        model = Submission
        fields = ["number", "narrative", "notable", "author", "created", "indicators", "judged", "attachments"]

    def get_indicators(self, submission) -> dict[str, str]:
        return {str(value.indicator_id): plain_number(value.value) for value in submission.values.all()}

    def get_judged(self, submission) -> dict[str, dict | None]:
        return {
            str(value.indicator_id): None
            if value.target is None
            else {
                "comparator": value.target.comparator,
                "value": plain_number(value.target.value),
                "year": value.target.year,
                "met": value.met,
            }
            for value in submission.values.all()
        }


class ChangeSerializer(serializers.Serializer):
    what = serializers.CharField(help_text="改动的内容:工作情况、某项指标或附件")
    before = serializers.CharField(help_text="上一次报送时")
    after = serializers.CharField(help_text="这一次报送时")


class SubmissionWithChangesSerializer(SubmissionSerializer):
    changes = ChangeSerializer(many=True, help_text="与上一次报送相比的改动(第一次报送为空)")

    class Meta(SubmissionSerializer.Meta):
        fields = [*SubmissionSerializer.Meta.fields, "changes"]


class CountersignSerializer(serializers.ModelSerializer):
    section = serializers.CharField(source="section.name")
    author = serializers.CharField(source="author.username")
    submission = serializers.IntegerField(source="submission.number")

    class Meta:
        model = Countersign
        fields = ["section", "author", "agree", "opinion", "submission", "created"]


class AssignmentRowSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="round.plan.code", help_text="计划文号")
    round = serializers.IntegerField(source="round.year", help_text="报送年度")
    measure = serializers.SerializerMethodField(help_text="重点任务:{number, title};科室年度工作报告为 null")
    item = serializers.SerializerMethodField(help_text="工作事项:{code, text};科室年度工作报告为 null")
    title = serializers.CharField(help_text="名称:事项编号与工作措施,或“2024 年度社管科工作报告”")
    unit = serializers.SerializerMethodField(
        help_text="报送单位:{name, kind},kind 为 county(县级民政局)或 section(科室,报送年度工作报告)"
    )
    county = serializers.SerializerMethodField(help_text="县级民政局名称;科室年度工作报告为 null")
    lead_section = serializers.CharField(source="lead_section.name", help_text="牵头科室")
    state_label = serializers.CharField(source="get_state_display", help_text="状态的中文名称")
    light = serializers.ChoiceField(
        choices=Light.choices,
        allow_null=True,
        help_text="期限灯:red 已逾期未报送,yellow 临近期限(DUE_WARNING_DAYS 个工作日内到期),green 正常或已报送;"
        "已验收、已撤销为 null",
    )
    light_label = serializers.SerializerMethodField(help_text="期限灯的中文说明,如“红灯 已逾期”")

    class Meta:
        model = Assignment
        fields = ["id", "plan", "round", "measure", "item", "title", "unit", "county", "lead_section", "state",
                  "state_label", "version", "due", "light", "light_label", "updated"]  # fmt: skip

    def get_light_label(self, assignment) -> str | None:
        light = assignment.light
        return f"{Light(light).label} {MEANINGS[light]}" if light else None

    def get_measure(self, assignment) -> dict | None:
        if assignment.is_report:
            return None
        measure = assignment.item.measure
        return {"number": measure.number, "title": measure.title}

    def get_item(self, assignment) -> dict | None:
        if assignment.is_report:
            return None
        return {"code": assignment.item.code, "text": assignment.item.measure_text}

    def get_unit(self, assignment) -> dict:
        return {"name": assignment.unit.name, "kind": assignment.unit.kind}

    def get_county(self, assignment) -> str | None:
        return assignment.unit.name if assignment.county else None


class AssignmentDetailSerializer(AssignmentRowSerializer):
    key = serializers.CharField(
        help_text="标识:年度/事项 id/单位 id,科室年度工作报告为 年度/r计划 id/单位 id"
        "(历史记录的摘要覆盖它,单位或事项改名不变)"
    )
    assignee = serializers.SerializerMethodField(help_text="经办人用户名")
    targets = AskSerializer(
        source="asks",
        many=True,
        help_text="本年度要报送的指标:每个指标一项,带当年有效的目标和此后的目标;其 id 为报送 indicators 的键",
    )
    duties = serializers.SerializerMethodField(help_text="本县本年度的点名任务(文件点名本县的部分),原文")
    measure_body = serializers.SerializerMethodField(help_text="重点任务的内容(原文);科室年度工作报告为 null")
    path_text = serializers.SerializerMethodField(help_text="工作路径及任务指标;科室年度工作报告为 null")
    sections = serializers.SerializerMethodField(help_text="责任科室,牵头在前;科室年度工作报告为审核它的牵头汇总科室")
    covers = serializers.SerializerMethodField(
        help_text="科室年度工作报告所涵盖的重点任务(本科室负责的):[{number, title, body}];工作事项为空"
    )
    submissions = serializers.SerializerMethodField(help_text="全部报送,最新在前;changes 为与上一次报送相比的改动")
    attachments = AttachmentSerializer(many=True, help_text="附件;尚未报送的只列给本县人员")
    countersigns = CountersignSerializer(many=True, help_text="会签意见")
    actions = serializers.SerializerMethodField(
        help_text="调用者现在可以执行的操作(操作名,如 start、submit;attach 表示可以上传附件)"
    )

    class Meta(AssignmentRowSerializer.Meta):
        fields = [*AssignmentRowSerializer.Meta.fields, "key", "assignee", "measure_body", "path_text", "sections",
                  "covers", "targets", "duties", "submissions", "attachments", "countersigns", "actions"]  # fmt: skip

    def get_measure_body(self, assignment) -> str | None:
        return None if assignment.is_report else assignment.item.measure.body

    def get_path_text(self, assignment) -> str | None:
        return None if assignment.is_report else assignment.item.path_text

    def get_covers(self, assignment) -> list[dict]:
        return [{"number": m.number, "title": m.title, "body": m.body} for m in assignment.covers]

    @extend_schema_field(SubmissionWithChangesSerializer(many=True))
    def get_submissions(self, assignment):
        return [
            {
                **SubmissionSerializer(submission).data,
                "changes": changes,
            }
            for submission, changes in selectors.reports(assignment)
        ]

    def get_duties(self, assignment) -> list[str]:
        return [duty.text for duty in assignment.duties]

    def get_assignee(self, assignment) -> str | None:
        return assignment.assignee.username if assignment.assignee_id else None

    def get_sections(self, assignment) -> list[str]:
        if assignment.is_report:
            return [assignment.lead_section.name]
        links = sorted(assignment.item.item_sections.all(), key=lambda link: link.position)
        return [link.unit.name for link in links]

    def get_actions(self, assignment) -> list[str]:
        return available_actions(self.context["request"].user, assignment)


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", help_text="操作人用户名;系统操作为空")
    unit = serializers.CharField(source="unit_name", help_text="操作人所代表的单位")

    class Meta:
        model = Event
        fields = ["sequence", "action", "from_state", "to_state", "actor", "unit", "at", "comment", "snapshot",
                  "attachments", "prev_hash", "hash"]  # fmt: skip


class RoundSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.code", help_text="计划文号")
    opened_by = serializers.SerializerMethodField()
    assignments = serializers.IntegerField(
        source="visible_count", read_only=True, help_text="调用者可见的本年度督办事项数"
    )

    class Meta:
        model = Round
        fields = ["plan", "year", "opened_at", "opened_by", "assignments"]

    def get_opened_by(self, round_) -> str | None:
        return round_.opened_by.username if round_.opened_by_id else None


class PlanItemSerializer(serializers.ModelSerializer):
    years = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    sections = serializers.SerializerMethodField()
    indicators = PlanIndicatorSerializer(many=True)

    class Meta:
        model = WorkItem
        fields = ["id", "code", "measure_text", "path_text", "deadline_text", "years", "final_due", "sections_text",
                  "sections", "indicators"]  # fmt: skip

    def get_sections(self, item) -> list[str]:
        return [link.unit.name for link in sorted(item.item_sections.all(), key=lambda link: link.position)]


class PlanMeasureSerializer(serializers.ModelSerializer):
    group = serializers.CharField(source="group.number")
    sections = serializers.SerializerMethodField()
    items = PlanItemSerializer(many=True)

    class Meta:
        model = Measure
        fields = ["number", "title", "group", "body", "sections_text", "sections", "countersign_required", "items"]

    def get_sections(self, measure) -> list[str]:
        return [link.unit.name for link in sorted(measure.measure_sections.all(), key=lambda link: link.position)]


# Request bodies of the actions: one per action, derived from its fields in the registry. Input is
# taken as given, never coerced: a version is a JSON integer, a yes or no a JSON boolean, a text a
# JSON string (one of only blanks or invisible characters counts as empty).


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class TextField(serializers.CharField):
    def run_validation(self, data=empty):
        if data is not empty and data is not None and not isinstance(data, str):
            self.fail("invalid")
        if isinstance(data, str) and values.is_blank(data):
            data = ""
        return super().run_validation(data)


class StrictDateField(serializers.DateField):
    """A day as a JSON string YYYY-MM-DD, nothing else (no time, no other format)."""

    default_error_messages = {"invalid": "日期应为 YYYY-MM-DD 形式的字符串,如 2024-11-15"}

    def to_internal_value(self, data):
        if not isinstance(data, str) or not ISO_DATE.fullmatch(data):
            self.fail("invalid")
        try:
            return datetime.date.fromisoformat(data)
        except ValueError:
            self.fail("invalid")


@extend_schema_field({"oneOf": [{"type": "string", "maxLength": 32}, {"type": "number"}]})
class IndicatorValueField(serializers.Field):
    """A value as a JSON number or a string of digits; its meaning is checked by the action."""

    default_error_messages = {"invalid": "指标填报值应为数值或数值字符串", "max_length": "指标填报值过长"}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            self.fail("invalid")
        if isinstance(data, str) and len(data) > 32:
            self.fail("max_length")
        return data

    def to_representation(self, value):  # pragma: no cover - bodies are read, never written
        return value


VERSION_HELP = "调用者看到的版本号;与当前版本不符时返回 409"


def _version():
    return StrictIntegerField(
        min_value=1,
        help_text=VERSION_HELP,
        error_messages={
            "required": "缺少版本号(version)",
            "null": "缺少版本号(version)",
            "invalid": "版本号(version)应为整数",
            "min_value": "版本号(version)应为正整数",
            "max_string_length": "版本号(version)过大",
            "max_value": "版本号(version)过大",
        },
    )


def _body_field(spec):
    options = {"required": spec.required, "help_text": spec.help or spec.label}
    if spec.kind in ("text", "user"):
        return TextField(
            max_length=spec.max_length,
            allow_blank=not spec.required,
            error_messages={
                "required": f"请填写{spec.label}",
                "blank": f"请填写{spec.label}",
                "null": f"请填写{spec.label}",
                "invalid": f"{spec.label}应为文字",
                "max_length": f"{spec.label}不能超过 {{max_length}} 个字",
            },
            **options,
        )
    if spec.kind == "bool":
        yes, no = spec.choices or ("是", "否")
        options["help_text"] = f"{spec.label}:true 为{yes},false 为{no}"
        messages = {
            "required": f"请选择{spec.label}",
            "null": f"请选择{spec.label}",
            "invalid": f"{spec.label}应为 true 或 false",
        }
        return StrictBooleanField(error_messages=messages, **options)
    if spec.kind == "indicators":
        return serializers.DictField(
            child=IndicatorValueField(),
            error_messages={
                "not_a_dict": "指标填报值应为 {{指标 id: 数值}} 形式的对象",
                "null": "指标填报值不能为 null",
            },
            **options,
        )
    if spec.kind == "date":
        messages = {"required": f"请填写{spec.label}", "null": f"请填写{spec.label}"}
        return StrictDateField(error_messages=messages, **options)
    raise ValueError(f"no body field for {spec.kind!r}")  # pragma: no cover - the kinds are the five above


def body_for(entry):
    """The request body of `entry`'s action, named for it (`SubmitBody`) in the schema."""
    fields = {"version": _version(), **{spec.name: _body_field(spec) for spec in entry.fields}}
    name = "".join(part.capitalize() for part in entry.name.split("_")) + "Body"
    return type(name, (serializers.Serializer,), {**fields, "__doc__": f"{entry.label}的请求体"})


class UploadBody(serializers.Serializer):
    file = serializers.FileField(help_text="PDF、Word、Excel、JPEG 或 PNG,单个不超过 20 MiB")
