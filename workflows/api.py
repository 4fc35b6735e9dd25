"""The REST API (`/api/v1/`): a second door onto the same action functions and the same `can()`.

Every error is `{"code": "…", "detail": "…"}`: 400 bad input, 401 not logged in, 403 may see but
may not act, 404 may not see (the same answer as an id that does not exist), 409 a stale version
or a state that does not allow the action (with the current `version` and `state`).
"""

from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Prefetch, Q
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
from assignments.models import Attachment, ItemSection, MeasureSection, Round, State, WorkItem
from permissions.checks import Action, can_audit, visible_to

from . import actions, files, history
from .models import Event
from .selectors import to_do
from .serializers import (
    ActionBody,
    AssignmentDetailSerializer,
    AssignmentRowSerializer,
    AttachmentSerializer,
    CommentBody,
    ConflictSerializer,
    CountersignBody,
    ErrorSerializer,
    EventSerializer,
    PlanMeasureSerializer,
    ReasonBody,
    ReassignBody,
    RoundSerializer,
    SubmitBody,
    UploadBody,
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

# action (as in the URL) → its request body
BODIES = {
    Action.START: CommentBody,
    Action.SUBMIT: SubmitBody,
    Action.RECALL: CommentBody,
    Action.BEGIN_REVIEW: CommentBody,
    Action.ACCEPT: CommentBody,
    Action.RETURN: ReasonBody,
    Action.COUNTERSIGN: CountersignBody,
    Action.REASSIGN: ReassignBody,
    Action.CANCEL: ReasonBody,
}


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
    if isinstance(error, actions.NotAllowed):
        error = exceptions.PermissionDenied(error.message)
    elif isinstance(error, actions.Conflict):
        error = Conflict(error)
    elif isinstance(error, actions.Invalid):
        error = exceptions.ValidationError({error.details.get("field") or "detail": [error.message]})
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
    return selectors.assignment_detail(_scoped(request), pk)


@extend_schema_view(
    get=extend_schema(
        tags=["督办事项"],
        summary="调用者可见的督办事项列表",
        description="按年度、县、重点任务、状态、牵头科室筛选;只列出调用者可见的事项,分页返回。",
        parameters=[
            OpenApiParameter("round", int, description="报送年度,如 2024"),
            OpenApiParameter("county", str, description="县级民政局名称,如 离石区"),
            OpenApiParameter("measure", int, description="重点任务序号 1–21"),
            OpenApiParameter("state", str, enum=State.values, description="状态"),
            OpenApiParameter("section", str, description="牵头科室名称,如 基政科"),
            OpenApiParameter("todo", bool, description="true:只列出等待调用者办理的事项(本单位待认领的与本人待办的)"),
        ],
        responses={200: AssignmentRowSerializer(many=True), 400: ERRORS[400], 401: ERRORS[401], 404: PAGE_NOT_FOUND},
    )
)
class AssignmentList(generics.ListAPIView):
    serializer_class = AssignmentRowSerializer
    pagination_class = Pages

    def get_queryset(self):
        params = self.request.query_params
        filters = {"year": _int(params, "round"), "measure": _int(params, "measure")}
        if params.get("todo") not in (None, "", "true", "false"):
            raise exceptions.ValidationError({"todo": ["应为 true 或 false"]})
        only = to_do(self.request.user) if params.get("todo") == "true" else None
        state = params.get("state")
        if state and state not in State.values:
            raise exceptions.ValidationError({"state": [f"未知状态“{state}”,应为 {'、'.join(State.values)} 之一"]})
        return selectors.assignment_list(
            _scoped(self.request),
            state=state,
            county=params.get("county"),
            section=params.get("section"),
            only=only,
            **filters,
        )


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


@extend_schema(tags=["督办事项"])
class AssignmentAction(APIView):
    @extend_schema(
        summary="执行一个操作",
        description=(
            "action 为 start(开始办理)、submit(报送)、recall(撤回)、begin_review(开始审核)、accept(验收)、"
            "return(退回,须填理由)、countersign(会签)、reassign(转办)、cancel(撤销,须填理由)之一。"
            "请求体须带调用者看到的 version;成功时返回事项的最新详情(含新的 version)。"
        ),
        parameters=[OpenApiParameter("action", str, OpenApiParameter.PATH, enum=list(BODIES), description="操作")],
        request={"application/json": ActionBody},
        responses={200: AssignmentDetailSerializer, **ERRORS},
    )  # fmt: skip
    def post(self, request, pk, action):
        if action not in BODIES:
            raise exceptions.ValidationError({"action": [f"未知操作“{action}”,应为 {'、'.join(BODIES)} 之一"]})
        assignment = _detail(request, pk)
        if not isinstance(request.data, dict):
            raise exceptions.ParseError("请求体应为 JSON 对象")
        body = BODIES[action](data=request.data)
        body.is_valid(raise_exception=True)
        actions.perform(action, assignment, by=request.user, **body.validated_data)
        return Response(AssignmentDetailSerializer(_detail(request, pk), context={"request": request}).data)


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
        description="只有能查看所属督办事项的人可以下载。",
        responses={
            **{(200, content_type): OpenApiTypes.BINARY for content_type in FILE_TYPES},
            401: ERRORS[401],
            404: ERRORS[404],
        },
    )
    def get(self, request, pk):
        return files.response(generics.get_object_or_404(Attachment, pk=pk, assignment__in=_scoped(request)))


@extend_schema(tags=["计划"])
class PlanView(APIView):
    @extend_schema(
        summary="行动计划",
        description="分组、重点任务(责任科室牵头在前)、工作事项与量化指标;只读。",
        responses={200: inline_serializer("Plan", {
            "code": serializers.CharField(), "title": serializers.CharField(),
            "first_year": serializers.IntegerField(), "last_year": serializers.IntegerField(),
            "groups": serializers.ListField(child=serializers.DictField()),
            "measures": PlanMeasureSerializer(many=True)}), 401: ERRORS[401]},
    )  # fmt: skip
    def get(self, request):
        plan = selectors.current_plan()
        items = WorkItem.objects.prefetch_related(
            Prefetch("item_sections", queryset=ItemSection.objects.select_related("unit")), "targets"
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
        description="已下达的年度,以及每个年度中调用者可见的督办事项数。",
        responses={200: RoundSerializer(many=True), 401: ERRORS[401]},
    )
    def get(self, request):
        plan = selectors.current_plan()
        visible = _scoped(request).values("pk")
        years = (
            Round.objects.filter(plan=plan)
            .select_related("opened_by")
            .annotate(visible_count=Count("assignments", filter=Q(assignments__in=visible)))
            .order_by("year")
        )
        return Response(RoundSerializer(years, many=True).data)


@extend_schema(tags=["审计"])
class HistoryVerification(APIView):
    @extend_schema(
        summary="核验全部历史记录",
        description=(
            "重新计算每个督办事项的哈希链;只有审计人员可以调用。intact 为 false 时 problem 指出第一条有问题的记录。"
        ),
        responses={
            200: inline_serializer(
                "Verdict",
                {
                    "intact": serializers.BooleanField(),
                    "assignments": serializers.IntegerField(),
                    "events": serializers.IntegerField(),
                    "problem": serializers.CharField(),
                },
            ),
            401: ERRORS[401],
            403: ERRORS[403],
        },
    )
    def get(self, request):
        if not can_audit(request.user):
            raise exceptions.PermissionDenied("只有审计人员可以核验历史记录")
        verdict = history.verify()
        return Response(
            {
                "intact": verdict.intact,
                "assignments": verdict.assignments,
                "events": verdict.events,
                "problem": verdict.problem,
            }
        )


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
    path("assignments/<int:pk>/actions/<str:action>/", _api(AssignmentAction), name="assignment-action"),
    path("assignments/<int:pk>/events/", _api(AssignmentEvents), name="assignment-events"),
    path("assignments/<int:pk>/attachments/", _api(AssignmentAttachments), name="assignment-attachments"),
    path("attachments/<int:pk>/", _api(AttachmentDownload), name="attachment-download"),
    path("plan/", _api(PlanView), name="plan"),
    path("rounds/", _api(RoundList), name="rounds"),
    path("history/verify/", _api(HistoryVerification), name="history-verify"),
    re_path(r"^(?P<rest>.*)$", login_not_required(unknown)),
]
