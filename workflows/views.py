"""The assignment pages. A view that changes state looks the assignment up through the scoped
queryset (another county's id is a 404), validates a small form, calls one action, and redirects."""

import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assignments import selectors
from assignments.models import Round, Unit
from permissions import roles
from permissions.checks import (
    ATTACH,
    available_actions,
    can_audit,
    can_issue,
    can_issue_reports,
    coordinators,
    people_with,
    visible_to,
)
from permissions.roles import principal

from . import actions, calendar, desks, files, history, ledger, notifications
from . import audit as audit_search
from . import matrix as round_matrix
from . import urgings as urgings_of
from .deadlines import describe, extend_unit, with_lights
from .diagram import flow_chart
from .forms import (
    ActionForm,
    AuditForm,
    ExtendUnitForm,
    FilterForm,
    MatrixForm,
    OpenRoundForm,
    UploadForm,
    UrgeForm,
)
from .models import Checkpoint, Event, Notification
from .registry import ACTIONS
from .rounds import open_round
from .selectors import to_do


@require_GET
def assignment_list(request):
    scoped = visible_to(request.user)
    plans = {plan.code: plan for plan in selectors.plans()}
    if not plans:
        raise Http404("尚未载入行动计划")
    # Measures are numbered per plan: offered for the chosen plan, or the only one.
    plan = plans.get(request.GET.get("plan")) or (next(iter(plans.values())) if len(plans) == 1 else None)
    opened = Round.objects.filter(plan=plan) if plan else Round.objects.all()
    form = FilterForm(
        request.GET or None,
        plans=list(plans.values()),
        years=sorted(set(opened.values_list("year", flat=True))),
        measures=plan.measures.order_by("number") if plan else (),
        units=_visible_units(request.user),
    )
    filters = dict(form.cleaned_data) if form.is_valid() else {}
    filters["plan"] = plans.get(filters.get("plan"))
    only = to_do(request.user) if filters.pop("todo", False) else None
    light = filters.pop("light", None)
    rows = selectors.assignment_list(with_lights(scoped), only=only, **filters)
    page = Paginator(rows.filter(light=light) if light else rows, 50).get_page(request.GET.get("page"))
    page.object_list = describe(list(page.object_list))
    context = {"form": form, "page": page, "urgings": _urgings_to_acknowledge(request.user)}
    if filters.get("year") and (filters["plan"] or plan):  # the chosen round's ledger, as this list scopes it
        context["ledger"] = {"year": filters["year"], "plan": (filters["plan"] or plan).code}
    return render(request, "workflows/assignment_list.html", context)


@require_GET
def assignment_detail(request, pk):
    assignment = selectors.assignment_detail(with_lights(visible_to(request.user)), pk, viewer=request.user)
    return render(request, "workflows/assignment_detail.html", _detail_context(request.user, assignment))


@require_POST
def act(request, pk, action):
    assignment = get_object_or_404(visible_to(request.user), pk=pk)
    if action not in ACTIONS:
        raise Http404("没有这个操作")
    form = _action_form(action, assignment, request.POST)
    if form.is_valid():
        try:
            actions.perform(action, assignment, by=request.user, **form.action_data())
        except actions.NotAllowed as error:
            raise PermissionDenied(error.message) from None
        except actions.Conflict as error:
            messages.error(request, error.message)
            return redirect("assignments:detail", pk=pk)
        except actions.Invalid as error:
            form.add_error(
                error.details.get("field") if error.details.get("field") in form.fields else None, error.message
            )
        else:
            messages.success(request, f"已{ACTIONS[action].label}。")
            return redirect("assignments:detail", pk=pk)
    detail = selectors.assignment_detail(with_lights(visible_to(request.user)), pk, viewer=request.user)
    context = _detail_context(request.user, detail, failed=(action, form))
    return render(request, "workflows/assignment_detail.html", context, status=400)


@require_POST
def upload(request, pk):
    assignment = get_object_or_404(visible_to(request.user), pk=pk)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择要上传的文件")
        return redirect("assignments:detail", pk=pk)
    try:
        attachment = actions.attach(assignment, by=request.user, upload=form.cleaned_data["file"])
    except actions.NotAllowed as error:
        raise PermissionDenied(error.message) from None
    except actions.ActionError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"已上传附件“{attachment.name}”,将随下次报送提交。")
    return redirect("assignments:detail", pk=pk)


@require_POST
def detach(request, pk, attachment_pk):
    assignment = get_object_or_404(visible_to(request.user), pk=pk)
    try:
        actions.detach(assignment, by=request.user, attachment_id=attachment_pk)
    except actions.NotAllowed as error:
        raise PermissionDenied(error.message) from None
    except actions.ActionError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "已删除附件。")
    return redirect("assignments:detail", pk=pk)


@require_GET
def download(request, pk):
    """The only way a stored file leaves the server: to someone who may see its assignment."""
    return files.response(get_object_or_404(files.downloadable(request.user), pk=pk))


@require_http_methods(["GET", "POST"])
def rounds(request):
    # Queries: one each for the plans, the counts, the rounds, the measures with their sections, and (for a
    # chief) the reporting units; whatever the number of rounds and measures.
    plans = list(selectors.plans())
    code = request.GET.get("plan")
    plan = next((plan for plan in plans if plan.code == code), None) if code else next(iter(plans), None)
    if plan is None:
        raise Http404(f"没有文号为“{code}”的计划" if code else "尚未载入行动计划")
    summary = selectors.round_summary(visible_to(request.user), plan)
    opened = {row["round"].year for row in summary}
    every = list(plan.measures.prefetch_related("measure_sections").order_by("number"))
    measures = [measure for measure in every if can_issue(request.user, measure)]
    reports = can_issue_reports(request.user, plan)
    form = None
    if measures:
        form = OpenRoundForm(request.POST or None, years=plan.years, opened=opened, measures=measures, reports=reports)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("你无权下达报送任务")
        if form.is_valid():
            try:
                data = form.cleaned_data
                round_, created = open_round(
                    data["year"],
                    by=request.user,
                    plan=plan,
                    measures=data["measures"],
                    reports=data.get("reports", False),
                )
            except actions.ActionError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, f"{round_.year} 年度已下达:新建督办事项 {created} 个。")
                return redirect(f"{reverse('assignments:rounds')}?{urlencode({'plan': plan.code})}")
    context = {"plan": plan, "plans": plans, "form": form, "summary": summary}
    if opened and principal(request.user).units_with(roles.REVIEW):
        units = list(selectors.reporting_units(plan).values_list("name", flat=True))
        context["extend_form"] = _extend_form(request.user, plan, sorted(opened), units=units, measures=every)
        context["urge_form"] = _urge_form(request.user, plan, sorted(opened), measures=every)
    context["unknown_years"] = [note for year in plan.years if (note := calendar.unknown_note(year))]
    return render(request, "workflows/rounds.html", context)


@require_POST
def extend_round(request):
    """A section chief moves a reporting unit's due dates in one round at once (each by the `extend` action)."""
    plan = selectors.current_plan(request.GET.get("plan"))
    opened = sorted(Round.objects.filter(plan=plan).values_list("year", flat=True))
    form = _extend_form(request.user, plan, opened, request.POST)
    if form is None:
        raise PermissionDenied("只有牵头科室的科长可以延期")
    back = f"{reverse('assignments:rounds')}?{urlencode({'plan': plan.code})}"
    if not form.is_valid():
        messages.error(request, "延期未执行:" + "；".join(error for errors in form.errors.values() for error in errors))
        return redirect(back)
    data = form.cleaned_data
    round_ = Round.objects.get(plan=plan, year=data["year"])
    unit = selectors.reporting_units(plan).get(name=data["unit"])
    measure = plan.measures.filter(number=data["measure"]).first() if data["measure"] else None
    try:
        extended = extend_unit(round_, unit, by=request.user, due=data["due"], reason=data["reason"], measure=measure)
    except actions.NotAllowed as error:
        raise PermissionDenied(error.message) from None
    except actions.ActionError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"已将{unit.name} {round_.year} 年度的 {len(extended)} 个事项延期至{date_format(data['due'])}。"
        )
    return redirect(back)


LEDGER_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@require_GET
def ledger_download(request, year, extension):
    """A round's ledger (台账) as xlsx or csv, holding only what the user may see, as the list does."""
    if extension not in LEDGER_TYPES:
        raise Http404("台账只能导出为 xlsx 或 csv")
    plan = selectors.current_plan(request.GET.get("plan"))
    round_ = get_object_or_404(Round.objects.select_related("plan"), plan=plan, year=year)
    built = ledger.build(round_, user=request.user)
    if not built.entries:
        raise Http404("该年度没有你可查看的督办事项")
    content = io.BytesIO()
    (ledger.write_xlsx if extension == "xlsx" else ledger.write_csv)(built, content)
    content.seek(0)
    name = f"{plan.code}-{year}年度台账.{extension}"
    return FileResponse(content, as_attachment=True, filename=name, content_type=LEDGER_TYPES[extension])


@require_POST
def urge_round(request):
    """A chief urges every late assignment of a unit, or of a measure, in one round (each by `urge`)."""
    plan = selectors.current_plan(request.GET.get("plan"))
    opened = sorted(Round.objects.filter(plan=plan).values_list("year", flat=True))
    form = _urge_form(request.user, plan, opened, request.POST)
    if form is None:
        raise PermissionDenied("只有牵头科室或牵头汇总科室的科长可以催办")
    back = f"{reverse('assignments:rounds')}?{urlencode({'plan': plan.code})}"
    if not form.is_valid():
        messages.error(request, "催办未执行:" + "；".join(error for errors in form.errors.values() for error in errors))
        return redirect(back)
    data = form.cleaned_data
    round_ = Round.objects.get(plan=plan, year=data["year"])
    unit = selectors.reporting_units(plan).filter(name=data["unit"]).first() if data["unit"] else None
    measure = plan.measures.filter(number=data["measure"]).first() if data["measure"] else None
    try:
        urged = urgings_of.urge_late(round_, by=request.user, message=data["message"], unit=unit, measure=measure)
    except actions.NotAllowed as error:
        raise PermissionDenied(error.message) from None
    except actions.ActionError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"已催办 {round_.year} 年度逾期事项 {len(urged)} 个。")
    return redirect(back)


@require_GET
def urgings(request):
    """The open urgings the user may see, oldest first, with how long each has waited for its 签收."""
    return render(request, "workflows/urgings.html", {"urgings": urgings_of.waiting(request.user)})


@require_GET
def notification_list(request):
    page = Paginator(notifications.of(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "workflows/notifications.html", {"page": page})


@require_GET
def notification_open(request, pk):
    """Opening a notification marks it read and leads to what it tells of; another's is a 404."""
    notice = get_object_or_404(notifications.of(request.user), pk=pk)
    Notification.objects.filter(pk=notice.pk, read_at=None).update(read_at=timezone.now())
    return redirect(notice.link or "notifications:index")


@require_GET
def audit(request):
    """审计: the auditors' event search, 50 to a page, the recorded checkpoint and, when asked (`?verify=1`),
    the integrity check of every history (it recomputes every chain, so paging does not rerun it)."""
    if not can_audit(request.user):
        raise PermissionDenied("只有审计人员可以查询和核验历史记录")
    form, events = _audit_search(request)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    for name in ("page", "verify"):
        query.pop(name, None)
    verdict, checkpoint = history.verify_against_latest() if request.GET.get("verify") else (None, None)
    context = {"form": form, "page": page, "query": query.urlencode(), "verdict": verdict}
    context["checkpoint"] = checkpoint or history.latest_checkpoint()
    return render(request, "workflows/audit.html", context)


@require_GET
def audit_export(request, extension):
    """The current search's events, every page, as CSV (UTF-8 with a byte-order mark) or xlsx; auditors only."""
    if not can_audit(request.user):
        raise PermissionDenied("只有审计人员可以导出历史记录")
    if extension not in ("csv", "xlsx"):
        raise Http404("历史记录只能导出为 csv 或 xlsx")
    form, events = _audit_search(request)
    name = f"历史记录-{timezone.localtime():%Y%m%d%H%M}.{extension}"
    if extension == "csv":
        content = io.StringIO()
        audit_search.write_csv(events, content)
        content = io.BytesIO(content.getvalue().encode("utf-8"))
        kind = "text/csv; charset=utf-8"
    else:
        content = io.BytesIO()
        audit_search.write_xlsx(events, content)
        content.seek(0)
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return FileResponse(content, as_attachment=True, filename=name, content_type=kind)


def _audit_search(request):
    """The audit page's form and the events it selects (every event while the form is empty or invalid
    would mislead: an invalid form selects none)."""
    plans = list(selectors.plans())
    chosen = next((plan for plan in plans if plan.code == request.GET.get("plan")), None)
    plan = chosen or (plans[0] if len(plans) == 1 else None)
    units = Unit.objects.exclude(kind=Unit.Kind.CITY).order_by("kind", "position").values_list("kind", "name")
    form = AuditForm(
        request.GET or None,
        plans=plans,
        units=[name for kind, name in units],
        sections=[name for kind, name in units if kind == Unit.Kind.SECTION],
        measures=plan.measures.order_by("number") if plan else (),
        actions=Event.Action.choices,
    )
    if not request.GET:
        return form, audit_search.search()
    if not form.is_valid():
        return form, Event.objects.none()
    filters = dict(form.cleaned_data)
    filters["plan"] = chosen
    return form, audit_search.search(**filters)


@require_GET
def matrix_index(request):
    """年度总览 without a year: the latest round of the plan."""
    plan = selectors.current_plan(request.GET.get("plan"))
    latest = Round.objects.filter(plan=plan).order_by("-year").first()
    if latest is None:
        raise Http404(f"{plan.code} 尚未下达任何年度,还没有总览")
    return redirect(f"{reverse('matrix:year', args=[latest.year])}?{urlencode({'plan': plan.code})}")


@require_GET
def matrix(request, year):
    """年度总览: the round's measures and items × its counties (and the sections' reports), each cell one
    assignment's state and light; `?as_of=YYYY-MM-DD` rebuilds it as it stood at the end of that day."""
    if not round_matrix.may_view(request.user):
        raise PermissionDenied("年度总览供局领导、各科室和审计人员查看;县局请在“督办事项”中查看本县的事项")
    plans = list(selectors.plans())
    plan = next((plan for plan in plans if plan.code == request.GET.get("plan")), plans[0] if plans else None)
    if plan is None:
        raise Http404("尚未载入行动计划")
    opened = {round_.year: round_ for round_ in Round.objects.filter(plan=plan)}
    if year not in opened:
        raise Http404(f"{plan.code} 尚未下达 {year} 年度")
    measures = round_matrix.structure(plan, year)
    sections = Unit.objects.sections().filter(plan_units__plan=plan).order_by("plan_units__position")
    form = MatrixForm(
        request.GET or None,
        groups=round_matrix.groups_of(measures),
        sections=list(sections.values_list("name", flat=True)),
        today=timezone.localdate(),
    )
    filters = {name: value for name, value in form.cleaned_data.items() if value} if form.is_valid() else {}
    built = round_matrix.build(request.user, opened[year], measures, round_matrix.counties_of(plan), **filters)
    context = {"plan": plan, "plans": plans, "year": year, "years": sorted(opened), "form": form, "matrix": built}
    context["as_of"] = filters.get("as_of")
    context["filtered"] = bool(filters)
    return render(request, "workflows/matrix.html", context)


@require_GET
def checkpoint_download(request, pk):
    """A recorded checkpoint as the one-line file `verify_history --checkpoint` reads; auditors only."""
    if not can_audit(request.user):
        raise PermissionDenied("只有审计人员可以下载检查点")
    checkpoint = get_object_or_404(Checkpoint, pk=pk)
    response = HttpResponse(checkpoint.line + "\n", content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="checkpoint-{checkpoint.at:%Y%m%dT%H%M%SZ}.txt"'
    return response


@require_GET
def landing(request):
    """Where a signed-in person starts: a reporting unit's people at their unit's desk (本县待办), a section's at
    the review desk (审核台), everyone else at the list."""
    if desks.works_on(request.user) and not desks.reviews(request.user):
        return redirect("inbox:index")
    if desks.reviews(request.user):
        return redirect("review:index")
    return redirect("assignments:index")


@require_GET
def inbox(request):
    """本县待办: the open assignments of the user's unit, grouped by what they need."""
    groups = desks.inbox(request.user)
    people = desks.colleagues(request.user, groups)
    for row in (row for group in groups for row in group.rows if row.can_reassign):
        row.reassign_to = [person for person in people[row.unit_id] if person.pk != row.assignee_id]
    return render(request, "workflows/inbox.html", {"groups": groups, "total": sum(len(g.rows) for g in groups)})


@require_GET
def review(request):
    """审核台: the reports waiting for the user's sections, to review or to countersign, oldest first."""
    groups = desks.review_desk(request.user)
    return render(request, "workflows/review.html", {"groups": groups, "total": sum(len(g.rows) for g in groups)})


def _extend_form(user, plan, years, data=None, *, units=None, measures=None):
    """The bulk extension form, for a section chief once a round is open; else None. `units` (names) and
    `measures` are read here unless the caller has them."""
    if not years or not principal(user).units_with(roles.REVIEW):
        return None
    units = list(selectors.reporting_units(plan).values_list("name", flat=True)) if units is None else units
    measures = plan.measures.order_by("number") if measures is None else measures
    return ExtendUnitForm(data, years=years, units=units, measures=measures, auto_id="id_extend_%s")


def _urge_form(user, plan, years, data=None, *, units=None, measures=None):
    """The bulk urging form, for a section chief once a round is open; else None. `units` (names) and
    `measures` are read here unless the caller has them."""
    if not years or not principal(user).units_with(roles.REVIEW):
        return None
    names = list(selectors.reporting_units(plan).values_list("name", flat=True)) if units is None else units
    measures = plan.measures.order_by("number") if measures is None else measures
    return UrgeForm(data, years=years, units=names, measures=measures, auto_id="id_urge_%s")


def _urgings_to_acknowledge(user):
    """The open urgings of the user's own unit, for the panel above the list, each with its 签收 form."""
    own = principal(user).units_with(roles.WORK)
    if not own:
        return []
    rows = list(urgings_of.open_for(user).filter(assignment__unit__in=own)[:50])
    for urging in rows:
        urging.form = _action_form("acknowledge", urging.assignment)
    return rows


def _visible_counties(user):
    who = principal(user)
    counties = Unit.objects.counties()
    own = [pk for pk in who.units_with(roles.WORK) if who.units[pk].kind == Unit.Kind.COUNTY]
    if not who.sees_everything and own:
        counties = counties.filter(pk__in=own)  # a county's people see their own county only
    return list(counties.values_list("name", flat=True))


def _visible_units(user):
    """The reporting units the list's 单位 filter offers: the counties the user may see, and the sections
    whose reports they may see (every section for the coordinator, leaders and auditors; else their own)."""
    who = principal(user)
    sections = Unit.objects.sections()
    if not who.sees_everything and not who.units_with(roles.VIEW) & set(coordinators(user).values()):
        sections = sections.filter(pk__in=who.units_with(roles.WORK))
    return _visible_counties(user) + list(sections.values_list("name", flat=True))


def _action_form(action, assignment, data=None):
    entry = ACTIONS[action]
    kinds = {spec.kind for spec in entry.fields}
    options = {"initial": {"version": assignment.version}, "auto_id": f"id_{action}_%s"}  # ids unique on the page
    if "indicators" in kinds:  # what the round asks: `assignment_detail` has it, the bare row computes it
        options["asks"] = getattr(assignment, "asks", None)
        if options["asks"] is None:
            options["asks"] = assignment.item.asks(assignment.round.year) if assignment.item_id else []
    if "user" in kinds:
        options["colleagues"] = people_with(roles.WORK, assignment.unit_id).exclude(pk=assignment.assignee_id)
    return ActionForm(data, entry=entry, **options)


REVIEWING = {"begin_review", "accept", "return", "countersign"}  # the actions that judge a report


def _detail_context(user, assignment, failed=None):
    describe([assignment])
    available = available_actions(user, assignment)
    buttons = [action for action in available if action != ATTACH]
    forms = {action: _action_form(action, assignment) for action in buttons}
    if failed:
        forms[failed[0]] = failed[1]
    return {
        "assignment": assignment,
        "actions": [(action, ACTIONS[action].label, forms[action]) for action in buttons],
        "can_attach": ATTACH in available,
        "upload_form": UploadForm(),
        "reports": selectors.reports(assignment),
        "events": Event.objects.filter(assignment=assignment).order_by("sequence"),
        "flow": flow_chart(assignment.state, mine=buttons),
        # a reviewer reads the report before the buttons that judge it
        "reviewing": bool(REVIEWING & set(buttons)),
    }
