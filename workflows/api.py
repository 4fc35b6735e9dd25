"""The REST API (`/api/v1/`): a second door onto the same action functions and the same `can()`.

Every error is `{"code": "…", "detail": "…"}`: 400 bad input, 401 not logged in, 403 may see but
may not act, 404 may not see (the same answer as an id that does not exist), 409 a stale version
or a state that does not allow the action (with the current `version` and `state`).
"""

from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.urls import path, re_path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, generics, serializers, status
from rest_framework.decorators import api_view, permission_classes, schema
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from assignments import selectors
from assignments.models import ItemSection, Measure, MeasureSection, Plan, Round, State, WorkItem
from permissions import roles
from permissions.checks import can, can_audit, visible_to
from permissions.roles import principal

from . import actions, files, history, urgings
from .deadlines import Light, extend_unit, with_lights
from .models import Event
from .registry import ACTIONS
from .selectors import to_do
from .serializers import (
    AssignmentDetailSerializer,
    AssignmentRowSerializer,
    AttachmentSerializer,
    ConflictSerializer,
    ErrorSerializer,
    EventSerializer,
    PlanMeasureSerializer,
    RoundSerializer,
    StrictDateField,
    StrictIntegerField,
    TextField,
    UploadBody,
    body_for,
)

ERRORS = {
    400: OpenApiResponse(
        ErrorSerializer, description="输入有误(缺少理由、类型不符、未知指标、JSON 格式错误、未知操作)"
    ),
    401: OpenApiResponse(ErrorSerializer, description="未登录或令牌无效"),
    403: OpenApiResponse(ErrorSerializer, description="可以查看该事项,但无权执行此操作"),
    404: OpenApiResponse(ErrorSerializer, description="事项不存在或调用者无权查看(两者答复相同)"),
    409: OpenApiResponse(ConflictSerializer, description="版本已过期或当前状态不允许此操作;返回当前版本和状态"),
}

PAGE_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="页码超出范围")
FILE_TYPES = sorted({content_type for content_type, _ in files.TYPES.values()})

# action (as in the URL) → its request body, derived from the action's fields in the registry
BODIES = {name: body_for(entry) for name, entry in ACTIONS.items()}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, error):
        super().__init__(error.message, code="conflict")
        self.extra = {"version": error.details.get("version"), "state": error.details.get("state")}


CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.ParseError: "malformed",
    exceptions.ValidationError: "invalid",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.Throttled: "throttled",
}


def handle_exception(error, context):
    """Every error in one shape: {"code", "detail"} (plus the current version and state on 409)."""
    if isinstance(error, Http404):  # raised by the scoped lookups: answered as any other 404
        error = exceptions.NotFound("没有这个督办事项或你无权查看")
    elif isinstance(error, actions.NotAllowed):
        error = exceptions.PermissionDenied(error.message)
    elif isinstance(error, actions.Conflict):
        error = Conflict(error)
    elif isinstance(error, actions.Invalid):
        error = exceptions.ValidationError({error.details.get("field") or "detail": [error.message]})
    elif isinstance(error, exceptions.ParseError) and str(error.detail).startswith("JSON parse error"):
        # DRF's parser says why in English; NaN and Infinity are not JSON numbers
        if "Out of range float" in str(error.detail):
            error = exceptions.ParseError("请求体中的 NaN、Infinity 不是 JSON 数值,请填写有限的数值")
        else:
            error = exceptions.ParseError("请求体不是有效的 JSON")
    response = exception_handler(error, context)
    if response is None:
        return None
    code = next(
        (code for kind, code in CODES.items() if isinstance(error, kind)), getattr(error, "default_code", "error")
    )
    body = {"code": code, "detail": _first_message(response.data)}
    if isinstance(error, exceptions.ValidationError) and isinstance(response.data, dict):
        body["errors"] = response.data
    body.update(getattr(error, "extra", {}))
    response.data = body
    return response


def _first_message(data):
    if isinstance(data, dict):
        if "detail" in data and not isinstance(data["detail"], (list, dict)):
            return str(data["detail"])
        for field, value in data.items():
            message = _first_message(value)
            return message if field in ("detail", "non_field_errors") else f"{field}:{message}"
    if isinstance(data, list) and data:
        return _first_message(data[0])
    return str(data)


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _scoped(request):
    return visible_to(request.user)


def _detail(request, pk):
    return selectors.assignment_detail(with_lights(_scoped(request)), pk, viewer=request.user)


@extend_schema_view(
    get=extend_schema(
        tags=["督办事项"],
        summary="调用者可见的督办事项列表",
        description="按计划、年度、县或报送单位、重点任务、状态、牵头科室筛选;只列出调用者可见的事项,分页返回。"
        "科室的年度工作报告也在其中(unit 为该科室,county、measure、item 为 null)。",
        parameters=[
            OpenApiParameter("plan", str, description="计划文号,如 吕民发〔2022〕31号;省略时列出全部计划的事项"),
            OpenApiParameter("round", int, description="报送年度,如 2024"),
            OpenApiParameter("county", str, description="县级民政局名称,如 离石区"),
            OpenApiParameter("unit", str, description="报送单位名称:县级民政局,或科室(其年度工作报告),如 社管科"),
            OpenApiParameter(
                "measure", int, description="重点任务序号(各计划各自编号;载入了多个计划时须同时指定 plan)"
            ),
            OpenApiParameter("state", str, enum=State.values, description="状态"),
            OpenApiParameter("section", str, description="牵头科室名称,如 基政科"),
            OpenApiParameter("todo", bool, description="true:只列出等待调用者办理的事项(本单位待认领的与本人待办的)"),
            OpenApiParameter(
                "light",
                str,
                enum=Light.values,
                description="期限灯:red 已逾期未报送,yellow 临近期限,green 正常或已报送(已验收、已撤销的没有灯)",
            ),
        ],
        responses={200: AssignmentRowSerializer(many=True), 400: ERRORS[400], 401: ERRORS[401], 404: PAGE_NOT_FOUND},
    )
)
class AssignmentList(generics.ListAPIView):
    serializer_class = AssignmentRowSerializer
    pagination_class = Pages

    def get_queryset(self):
        params = self.request.query_params
        filters = {"year": _int(params, "round"), "measure": _int(params, "measure"), "plan": _plan(params)}
        if filters["measure"] and filters["plan"] is None and Plan.objects.count() > 1:
            raise exceptions.ValidationError({"measure": ["各计划的重点任务各自编号,请同时用 plan 指定计划文号"]})
        if params.get("todo") not in (None, "", "true", "false"):
            raise exceptions.ValidationError({"todo": ["应为 true 或 false"]})
        only = to_do(self.request.user) if params.get("todo") == "true" else None
        state = params.get("state")
        if state and state not in State.values:
            raise exceptions.ValidationError({"state": [f"未知状态“{state}”,应为 {'、'.join(State.values)} 之一"]})
        light = params.get("light")
        if light and light not in Light.values:
            raise exceptions.ValidationError({"light": [f"未知期限灯“{light}”,应为 {'、'.join(Light.values)} 之一"]})
        rows = selectors.assignment_list(
            with_lights(_scoped(self.request)),
            state=state,
            county=params.get("county"),
            unit=params.get("unit"),
            section=params.get("section"),
            only=only,
            **filters,
        )
        return rows.filter(light=light) if light else rows


def _plan(params):
    """The plan named by `?plan=` (its 文号), None when absent; an unknown code is a 400."""
    code = params.get("plan")
    if code in (None, ""):
        return None
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        codes = "、".join(selectors.plans().values_list("code", flat=True))
        raise exceptions.ValidationError({"plan": [f"没有文号为“{code}”的计划(已载入:{codes})"]})
    return plan


_PLAN_PARAMETER = OpenApiParameter("plan", str, description="计划文号,如 吕民发〔2022〕31号")


def _int(params, name):
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise exceptions.ValidationError({name: [f"应为整数,而非“{value}”"]}) from None


@extend_schema(tags=["督办事项"])
class AssignmentDetail(APIView):
    @extend_schema(
        summary="一个督办事项",
        description="含全部报送(工作情况、指标值、附件)、会签意见,以及调用者现在可以执行的操作 `actions`。",
        responses={200: AssignmentDetailSerializer, 401: ERRORS[401], 404: ERRORS[404]},
    )
    def get(self, request, pk):
        return Response(AssignmentDetailSerializer(_detail(request, pk), context={"request": request}).data)


class AssignmentAction(APIView):
    """One action on one assignment; one route and one schema per action of the registry."""

    action = None  # the registry's entry, set for each action below

    def post(self, request, pk):
        entry = self.action
        assignment = _detail(request, pk)
        if not can(request.user, entry.name, assignment):  # who may act is answered before what they sent
            raise exceptions.PermissionDenied(f"你无权对此事项执行“{entry.label}”")
        if not isinstance(request.data, dict):
            raise exceptions.ParseError("请求体应为 JSON 对象")
        body = BODIES[entry.name](data=request.data)
        body.is_valid(raise_exception=True)
        actions.perform(entry.name, assignment, by=request.user, **body.validated_data)
        return Response(AssignmentDetailSerializer(_detail(request, pk), context={"request": request}).data)


def _action_view(entry):
    required = [spec.label for spec in entry.fields if spec.required]
    view = type(f"{BODIES[entry.name].__name__[:-4]}Action", (AssignmentAction,), {"action": entry})
    return extend_schema_view(
        post=extend_schema(
            tags=["督办事项"],
            operation_id=f"assignments_{entry.name}",
            summary=entry.label,
            description=(
                f"对事项执行“{entry.label}”。请求体须带调用者看到的 version"
                + (f",并填写{'、'.join(required)}" if required else "")
                + ";成功时返回事项的最新详情(含新的 version)。"
            ),
            request={"application/json": BODIES[entry.name]},
            responses={200: AssignmentDetailSerializer, **ERRORS},
        )
    )(view)


@api_view(["POST"])
@schema(None)
def unknown_action(request, pk, action):
    """An action the registry lacks: 401 when not logged in and 404 for an assignment the caller may not
    see, as every other route of an assignment answers; else 400."""
    generics.get_object_or_404(_scoped(request), pk=pk)
    raise exceptions.ValidationError({"action": [f"未知操作“{action}”,应为 {'、'.join(ACTIONS)} 之一"]})


@extend_schema_view(
    get=extend_schema(
        tags=["督办事项"],
        summary="一个督办事项的历史记录",
        description="由旧到新;每条记录的 hash 覆盖其内容与上一条的 hash(prev_hash)。",
        responses={200: EventSerializer(many=True), 401: ERRORS[401], 404: ERRORS[404]},  # also a page out of range
    )
)
class AssignmentEvents(generics.ListAPIView):
    serializer_class = EventSerializer
    pagination_class = Pages

    def get_queryset(self):
        assignment = generics.get_object_or_404(_scoped(self.request), pk=self.kwargs["pk"])
        return Event.objects.filter(assignment=assignment).order_by("sequence")


@extend_schema(tags=["附件"])
class AssignmentAttachments(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="上传附件",
        description=(
            "multipart 表单字段 file;随下次报送提交。按内容校验类型(PDF、Word、Excel、JPEG、PNG),单个不超过 20 MiB。"
        ),
        request={"multipart/form-data": UploadBody},
        responses={201: AttachmentSerializer, **ERRORS},
    )
    def post(self, request, pk):
        assignment = generics.get_object_or_404(_scoped(request), pk=pk)
        body = UploadBody(data=request.data)
        body.is_valid(raise_exception=True)
        attachment = actions.attach(assignment, by=request.user, upload=body.validated_data["file"])
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["附件"])
class AttachmentDownload(APIView):
    @extend_schema(
        summary="下载附件",
        description="只有能查看所属督办事项的人可以下载;尚未报送的附件只有本县人员可以下载。",
        responses={
            **{(200, content_type): OpenApiTypes.BINARY for content_type in FILE_TYPES},
            401: ERRORS[401],
            404: ERRORS[404],
        },
    )
    def get(self, request, pk):
        return files.response(generics.get_object_or_404(files.downloadable(request.user), pk=pk))


@extend_schema(tags=["计划"])
class PlanView(APIView):
    @extend_schema(
        summary="行动计划",
        description="分组、重点任务(责任科室牵头在前)、工作事项与量化指标;只读。省略 plan 时为最近的计划。",
        parameters=[_PLAN_PARAMETER],
        responses={200: inline_serializer("Plan", {
            "code": serializers.CharField(), "title": serializers.CharField(),
            "first_year": serializers.IntegerField(), "last_year": serializers.IntegerField(),
            "groups": serializers.ListField(child=serializers.DictField()),
            "measures": PlanMeasureSerializer(many=True)}), 400: ERRORS[400], 401: ERRORS[401]},
    )  # fmt: skip
    def get(self, request):
        plan = _plan(request.query_params) or selectors.current_plan()
        items = WorkItem.objects.prefetch_related(
            Prefetch("item_sections", queryset=ItemSection.objects.select_related("unit")), "indicators__targets"
        )
        measures = plan.measures.select_related("group").prefetch_related(
            Prefetch("measure_sections", queryset=MeasureSection.objects.select_related("unit")),
            Prefetch("items", queryset=items),
        )
        return Response(
            {
                "code": plan.code,
                "title": plan.title,
                "first_year": plan.first_year,
                "last_year": plan.last_year,
                "groups": [{"number": group.number, "title": group.title} for group in plan.groups.all()],
                "measures": PlanMeasureSerializer(measures.order_by("number"), many=True).data,
            }
        )


@extend_schema(tags=["计划"])
class RoundList(APIView):
    @extend_schema(
        summary="报送年度",
        description=(
            "已下达的年度(各计划的年度各自下达),以及每个年度中调用者可见的督办事项数。省略 plan 时列出全部计划的年度。"
        ),
        parameters=[_PLAN_PARAMETER],
        responses={200: RoundSerializer(many=True), 400: ERRORS[400], 401: ERRORS[401]},
    )
    def get(self, request):
        plan = _plan(request.query_params)
        visible = _scoped(request).values("pk")
        years = Round.objects.filter(plan=plan) if plan else Round.objects.all()
        years = (
            years.select_related("opened_by", "plan")
            .annotate(visible_count=Count("assignments", filter=Q(assignments__in=visible)))
            .order_by("plan__first_year", "plan_id", "year")
        )
        return Response(RoundSerializer(years, many=True).data)


class ExtendUnitBody(serializers.Serializer):
    """一个报送单位在一个报送年度的批量延期"""

    unit = serializers.CharField(
        required=False,
        help_text="报送单位名称:县级民政局,或科室(其年度工作报告),如 兴县、社管科",
        error_messages={"blank": "请填写报送单位"},
    )
    county = serializers.CharField(
        required=False,
        help_text="县级民政局名称(旧名称,与 unit 二选一)",
        error_messages={"blank": "请填写报送单位"},
    )
    measure = StrictIntegerField(
        required=False,
        help_text="重点任务序号;省略时为该单位全部可延期事项",
        error_messages={"invalid": "重点任务序号应为整数"},
    )
    due = StrictDateField(
        help_text="新的报送期限 YYYY-MM-DD,须晚于各事项现在的期限,且是工作日",
        error_messages={"required": "请填写新的报送期限", "null": "请填写新的报送期限"},
    )
    reason = TextField(
        max_length=2000,
        help_text="延期理由",
        error_messages={"required": "延期必须填写理由", "blank": "延期必须填写理由", "null": "延期必须填写理由"},
    )
    plan = serializers.CharField(required=False, help_text="计划文号;只载入了一个计划时可省略")

    def validate(self, data):
        if ("unit" in data) == ("county" in data):
            raise serializers.ValidationError({"unit": ["请用 unit 填写一个报送单位(county 为旧名称,二者只填一个)"]})
        return data


@extend_schema(tags=["督办事项"])
class RoundExtend(APIView):
    @extend_schema(
        summary="批量延期一个报送单位的报送期限",
        description=(
            "把该报送单位(县级民政局,或报送年度工作报告的科室)本年度(可限于一个重点任务)调用者所在科室牵头、"
            "尚未验收或撤销、期限早于 due 的事项,逐个以“延期”操作改到 due,每个事项各记一条历史;"
            "任何一个被拒绝则全部不改。只有牵头科室的科长可以延期(科室的年度工作报告:牵头汇总科室的科长)。"
            "单位用 unit 指名,与列表的 ?unit= 相同;county 为旧名称,仍可使用。"
        ),
        request={"application/json": ExtendUnitBody},
        responses={
            200: inline_serializer("Extended", {"extended": serializers.ListField(child=serializers.IntegerField())}),
            **ERRORS,
        },
    )
    def post(self, request, year):
        # who and which round before the body, as for every action: a year never opened is 404 to all,
        # and whoever chairs no section may not extend, whatever they send
        if not Round.objects.filter(year=year).exists():
            raise exceptions.NotFound(f"{year} 年度尚未下达")
        if not principal(request.user).units_with(roles.REVIEW):
            raise exceptions.PermissionDenied("只有牵头科室的科长可以延长报送期限")
        data, plan, round_ = _round_body(request, year, ExtendUnitBody)
        unit = _named_unit(plan, data, "unit" if "unit" in data else "county")
        measure = _named_measure(plan, data) if "measure" in data else None
        extended = extend_unit(round_, unit, by=request.user, due=data["due"], reason=data["reason"], measure=measure)
        return Response({"extended": [row.pk for row in extended]})


@extend_schema(tags=["审计"])
class HistoryVerification(APIView):
    @extend_schema(
        summary="核验全部历史记录",
        description=(
            "用密钥重新计算每个督办事项的摘要链,并与最近记录的检查点比对;只有审计人员可以调用。"
            "intact 为 false 时 problem 指出第一条有问题的记录。checkpoint 为最近的检查点(没有时为 null)。"
        ),
        responses={
            200: inline_serializer(
                "Verdict",
                {
                    "intact": serializers.BooleanField(),
                    "assignments": serializers.IntegerField(),
                    "events": serializers.IntegerField(),
                    "problem": serializers.CharField(),
                    "checkpoint": inline_serializer(
                        "Checkpoint",
                        {
                            "at": serializers.DateTimeField(),
                            "chains": serializers.IntegerField(),
                            "events": serializers.IntegerField(),
                            "digest": serializers.CharField(),
                        },
                        allow_null=True,
                    ),
                },
            ),
            401: ERRORS[401],
            403: ERRORS[403],
        },
    )
    def get(self, request):
        if not can_audit(request.user):
            raise exceptions.PermissionDenied("只有审计人员可以核验历史记录")
        verdict, checkpoint = history.verify_against_latest()
        return Response(
            {
                "intact": verdict.intact,
                "assignments": verdict.assignments,
                "events": verdict.events,
                "problem": verdict.problem,
                "checkpoint": checkpoint
                and {
                    "at": checkpoint.at,
                    "chains": checkpoint.chains,
                    "events": checkpoint.events,
                    "digest": checkpoint.digest,
                },
            }
        )


class UrgeRoundBody(serializers.Serializer):
    """一个报送单位或一项重点任务在一个报送年度的逾期事项,一次催办"""

    unit = serializers.CharField(required=False, help_text="报送单位名称,如 兴县;与 measure 二者选一")
    measure = StrictIntegerField(
        required=False, help_text="重点任务序号;与 unit 二者选一", error_messages={"invalid": "重点任务序号应为整数"}
    )
    message = TextField(
        max_length=2000,
        help_text="催办内容",
        error_messages=dict.fromkeys(("required", "blank", "null"), "催办必须填写催办内容"),
    )
    plan = serializers.CharField(required=False, help_text="计划文号;只载入了一个计划时可省略")

    def validate(self, data):
        if ("unit" in data) == ("measure" in data):
            raise serializers.ValidationError("请填写 unit 或 measure(二者选一)")
        return data


@extend_schema(tags=["督办事项"])
class RoundUrge(APIView):
    @extend_schema(
        summary="催办一个单位或一项重点任务的逾期事项",
        description=(
            "把该单位(或该重点任务各报送单位)本年度已逾期(红灯)、调用者可催办的事项,以同一催办内容逐个“催办”,"
            "每个事项各记一条历史,待报送单位签收;任何一个被拒绝则全部不催办。"
            "牵头科室的科长可催办本科室牵头的事项,牵头汇总科室的科长可催办本计划的任何事项。"
        ),
        request={"application/json": UrgeRoundBody},
        responses={
            200: inline_serializer("Urged", {"urged": serializers.ListField(child=serializers.IntegerField())}),
            **ERRORS,
        },
    )
    def post(self, request, year):
        data, plan, round_ = _round_body(request, year, UrgeRoundBody)
        unit = _named_unit(plan, data, "unit") if "unit" in data else None
        measure = None if unit else _named_measure(plan, data)
        urged = urgings.urge_late(round_, by=request.user, message=data["message"], unit=unit, measure=measure)
        return Response({"urged": [row.pk for row in urged]})


def _round_body(request, year, body_class):
    """A round-wide request's checked body, its plan and its round (404 when that plan never opened it)."""
    if not isinstance(request.data, dict):
        raise exceptions.ParseError("请求体应为 JSON 对象")
    body = body_class(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    try:
        plan = selectors.the_plan(data.get("plan"))
    except LookupError as error:
        raise exceptions.ValidationError({"plan": [str(error)]}) from None
    round_ = Round.objects.filter(plan=plan, year=year).first()
    if round_ is None:
        raise exceptions.NotFound(f"{plan.code} {year} 年度尚未下达")
    return data, plan, round_


def _named_unit(plan, data, field):
    unit = selectors.reporting_units(plan).filter(name=data[field]).first()
    if unit is None:
        raise exceptions.ValidationError({field: [f"{plan.code} 没有名为“{data[field]}”的报送单位"]})
    return unit


def _named_measure(plan, data):
    measure = Measure.objects.filter(plan=plan, number=data["measure"]).first()
    if measure is None:
        raise exceptions.ValidationError({"measure": [f"{plan.code} 没有第 {data['measure']} 项重点任务"]})
    return measure


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
@schema(None)
def unknown(request, rest=""):
    """Any other path under /api/v1/: a JSON 404, like every other error of the API."""
    raise exceptions.NotFound("没有这个接口")


def _api(view):
    """DRF answers for itself (401 in JSON), so the site-wide login redirect does not apply."""
    return login_not_required(view.as_view())


app_name = "api"
urlpatterns = [
    path("assignments/", _api(AssignmentList), name="assignment-list"),
    path("assignments/<int:pk>/", _api(AssignmentDetail), name="assignment-detail"),
    *[
        path(f"assignments/<int:pk>/actions/{name}/", _api(_action_view(entry)), name=f"assignment-{name}")
        for name, entry in ACTIONS.items()
    ],
    path("assignments/<int:pk>/actions/<str:action>/", login_not_required(unknown_action)),
    path("assignments/<int:pk>/events/", _api(AssignmentEvents), name="assignment-events"),
    path("assignments/<int:pk>/attachments/", _api(AssignmentAttachments), name="assignment-attachments"),
    path("attachments/<int:pk>/", _api(AttachmentDownload), name="attachment-download"),
    path("plan/", _api(PlanView), name="plan"),
    path("rounds/", _api(RoundList), name="rounds"),
    path("rounds/<int:year>/extend/", _api(RoundExtend), name="round-extend"),
    path("rounds/<int:year>/urge/", _api(RoundUrge), name="round-urge"),
    path("history/verify/", _api(HistoryVerification), name="history-verify"),
    re_path(r"^(?P<rest>[\s\S]*)\Z", login_not_required(unknown)),  # any character, a newline too
]
