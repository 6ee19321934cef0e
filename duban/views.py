"""督办 pages under /duban/: the task list with lamps, a task's page (steps, timeline, progress
with evidence, the user's actions, the instructions thread), assigning a task, the 督办单 PDF,
instructions and replies, and the scoped evidence downloads.

Thin: each view checks access through the selectors and services (the one scope rule), parses
the form, calls one service and renders or redirects. A task outside the user's scope is a 404;
an action the user may not take on a task they can see is a 403; an illegal move is a 409 page
message.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.text import is_english
from core.views import scoped_by
from districts import scopes
from districts.models import OrgUnit
from targets.models import Indicator, Plan

from . import rules, selectors, services
from .forms import InstructionForm, ProgressForm, ReplyForm, TaskForm, TransitionForm
from .models import TaskStep
from .sheet import sheet_pdf

scoped = scoped_by("duban/forbidden.html")
UNIT_LEVELS_FOR_CHOICE = ("city", "district", "town", "subdistrict", "zone")


def _as_of(request) -> date:
    try:
        return date.fromisoformat(request.GET.get("as_of", "").strip())
    except ValueError:
        return selectors.today()


def _errors(exc: ValidationError) -> str:
    return (
        "；".join(m for msgs in exc.message_dict.values() for m in msgs)
        if hasattr(exc, "error_dict")
        else "；".join(exc.messages)
    )


def _lamp_row(task, as_of):
    lamp = selectors.lamp_of(task, as_of)
    return {"task": task, "lamp": lamp, "lamp_label": rules.lamp_name(lamp, is_english())}


@scoped
@require_GET
def task_list(request):
    as_of = _as_of(request)
    state = request.GET.get("state", "")
    lamp = request.GET.get("lamp", "")
    unit_code = request.GET.get("unit", "").strip()
    unit = None
    if unit_code:
        unit = OrgUnit.objects.filter(code=unit_code).first()
        if unit is None or not scopes.can(request.user, scopes.READ, unit):
            unit = None
    rows = [
        _lamp_row(t, as_of) for t in selectors.tasks_listed(request.user, state=state, unit=unit)
    ]
    counts = {k: sum(1 for r in rows if r["lamp"] == k) for k in rules.LAMPS}
    if lamp in rules.LAMPS:
        rows = [r for r in rows if r["lamp"] == lamp]
    return render(
        request,
        "duban/task_list.html",
        {
            "rows": rows,
            "alerts": selectors.alerts_for(request.user),
            "as_of": as_of,
            "state": state,
            "lamp": lamp,
            "unit_code": unit.code if unit else "",
            "states": [(s, rules.state_name(s, is_english())) for s in rules.STATES],
            "lamps": [(k, rules.lamp_name(k, is_english()), counts[k]) for k in rules.LAMPS],
            "units": _units_for_choice(request.user, scopes.READ),
            "can_assign": scopes.is_admin(request.user)
            or bool(scopes.scope_paths(request.user, scopes.ASSIGN)),
        },
    )


def _units_for_choice(user, action: str):
    return (
        scopes.units_in_scope(user, action)
        .filter(level__in=UNIT_LEVELS_FOR_CHOICE)
        .order_by("path")
    )


def _task_or_404(request, pk: int):
    task = selectors.task_detail(request.user, pk)
    if task is None:
        raise Http404("task")
    return task


@scoped
@require_GET
def task_detail(request, pk: int):
    task = _task_or_404(request, pk)
    as_of = _as_of(request)
    parties = services.parties_of(request.user, task)
    lamp = selectors.lamp_of(task, as_of)
    instructions = selectors.instructions_visible(request.user).filter(task=task)
    return render(
        request,
        "duban/task_detail.html",
        {
            "task": task,
            "as_of": as_of,
            "lamp": lamp,
            "lamp_label": rules.lamp_name(lamp, is_english()),
            "state_label": task.state_name,
            "moves": rules.moves_for(task.state, parties),
            "may_report": rules.may_report_progress(task.state, parties),
            "is_assignee": rules.ASSIGNEE in parties and task.state != rules.CLOSED,
            "progress_form": ProgressForm(),
            "instructions": [
                {"i": i, "can_reply": services.can_reply(request.user, i)} for i in instructions
            ],
            "can_instruct": scopes.is_admin(request.user)
            or scopes.can_any(request.user, scopes.INSTRUCT, services.task_units(task)),
            "reply_form": ReplyForm(),
            "today": selectors.today(),
            "max_mb": services.evidence_max_bytes() // (1024 * 1024),
        },
    )


@scoped
@require_POST
def task_transition(request, pk: int):
    task = _task_or_404(request, pk)
    form = TransitionForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请求无效"))
        return redirect("duban:task_detail", pk=task.pk)
    try:
        services.task_transition(
            actor=request.user,
            task=task,
            to=form.cleaned_data["to"],
            note=form.cleaned_data["note"],
            files=form.cleaned_data["evidence"],
        )
    except services.TransitionRefused as exc:
        messages.error(request, exc.message_text if exc.code != rules.INCOMPLETE else _errors(exc))
        response = redirect("duban:task_detail", pk=task.pk)
        return response
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("duban:task_detail", pk=task.pk)
    messages.success(
        request,
        _("已办理：%(state)s") % {"state": rules.state_name(form.cleaned_data["to"], is_english())},
    )
    return redirect("duban:task_detail", pk=task.pk)


@scoped
@require_POST
def task_progress(request, pk: int):
    task = _task_or_404(request, pk)
    form = ProgressForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
        return redirect("duban:task_detail", pk=task.pk)
    try:
        services.progress_report_add(
            actor=request.user,
            task=task,
            text=form.cleaned_data["text"],
            reported_on=form.cleaned_data["reported_on"],
            percent=form.cleaned_data["percent"],
            files=form.cleaned_data["evidence"],
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("duban:task_detail", pk=task.pk)
    messages.success(request, _("进展已报送"))
    return redirect("duban:task_detail", pk=task.pk)


@scoped
@require_POST
def step_done(request, pk: int, step_id: int):
    task = _task_or_404(request, pk)
    step = get_object_or_404(TaskStep, pk=step_id, task=task)
    step.task = task
    try:
        services.step_mark_done(
            actor=request.user,
            step=step,
            done_on=None if request.POST.get("undo") else selectors.today(),
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect("duban:task_detail", pk=task.pk)


@scoped
@require_GET
def task_sheet(request, pk: int):
    task = _task_or_404(request, pk)
    as_of = _as_of(request)
    pdf = sheet_pdf(task, as_of=as_of, lamp=selectors.lamp_of(task, as_of))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"督办单-DB{task.pk}.pdf"
    )
    return response


@scoped
@require_http_methods(["GET", "POST"])
def task_create(request):
    user = request.user
    if not (scopes.is_admin(user) or scopes.scope_paths(user, scopes.ASSIGN)):
        raise PermissionDenied(_("只有领导或审核员可以交办督办事项"))
    indicator = None
    code = (request.POST.get("indicator") or request.GET.get("indicator") or "").strip()
    if code:
        indicator = Indicator.objects.filter(code=code, kind="milestone").first()
        if indicator is None:
            raise Http404("indicator")
    plan_code = (request.POST.get("plan") or request.GET.get("plan") or "").strip()
    plan = indicator.plan if indicator else Plan.objects.filter(code=plan_code).first()
    plans = Plan.objects.order_by("city__code", "code")
    if plan is None:
        return render(request, "duban/task_choose.html", {"plans": plans})
    units = list(_units_for_choice(user, scopes.ASSIGN))
    goals = list(plan.goals.order_by("position", "id"))
    initial = {}
    if indicator is not None:
        initial = {
            "title_zh": indicator.name_zh,
            "title_en": indicator.name_en,
            "goal": indicator.goal_id,
            "quote": indicator.quote,
            "deadline": indicator.deadline,
            "indicator": indicator.code,
        }
    elif request.GET.get("goal", "").isdigit():
        goal = next((g for g in goals if g.pk == int(request.GET["goal"])), None)
        if goal is not None:
            initial = {"goal": goal.pk, "title_zh": goal.title_zh, "title_en": goal.title_en}
    city_units = [u for u in units if u.path.startswith(plan.city.path)]
    if city_units:
        initial.setdefault("lead_unit", city_units[0].code)
    form = TaskForm(request.POST or None, initial=initial, goals=goals, units=units)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        by_code = {u.code: u for u in units}
        try:
            task = services.task_assign(
                actor=user,
                plan=plan,
                indicator=indicator,
                goal=next((g for g in goals if g.pk == data["goal"]), None),
                clause=data["clause"],
                quote=data["quote"],
                title_zh=data["title_zh"],
                title_en=data["title_en"],
                lead_unit=by_code.get(data["lead_unit"]),
                assignees=[by_code[c] for c in data["assignees"]],
                deadline=data["deadline"],
                steps=data["steps"],
                note=data["note"],
            )
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        else:
            messages.success(request, _("已交办"))
            return redirect("duban:task_detail", pk=task.pk)
    return render(
        request,
        "duban/task_form.html",
        {"form": form, "plan": plan, "indicator": indicator},
    )


# --- instructions ------------------------------------------------------------------------------


@scoped
@require_GET
def instruction_list(request):
    instructions = selectors.instructions_visible(request.user)
    return render(
        request,
        "duban/instruction_list.html",
        {
            "instructions": [
                {"i": i, "can_reply": services.can_reply(request.user, i)} for i in instructions
            ],
            "reply_form": ReplyForm(),
            "can_instruct": scopes.is_admin(request.user)
            or bool(scopes.scope_paths(request.user, scopes.INSTRUCT)),
        },
    )


@scoped
@require_http_methods(["GET", "POST"])
def instruction_create(request):
    user = request.user
    if not (scopes.is_admin(user) or scopes.scope_paths(user, scopes.INSTRUCT)):
        raise PermissionDenied(_("只有领导可以批示"))
    units = list(
        scopes.units_in_scope(user, scopes.READ)
        .filter(level__in=UNIT_LEVELS_FOR_CHOICE)
        .order_by("path")
    )
    task_id = request.POST.get("task") or request.GET.get("task")
    task = selectors.task_detail(user, int(task_id)) if str(task_id or "").isdigit() else None
    initial = {}
    if task is not None:
        initial = {"task": task.pk, "addressee": task.lead_unit.code if task.lead_unit else ""}
    form = InstructionForm(request.POST or None, initial=initial, units=units)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        by_code = {u.code: u for u in units}
        indicator = None
        if data["indicator"]:
            indicator = Indicator.objects.filter(code=data["indicator"].strip()).first()
            if indicator is None:
                form.add_error("indicator", _("没有该指标"))
        if form.is_valid():
            try:
                instruction = services.instruction_create(
                    actor=user,
                    text=data["text"],
                    addressee=by_code[data["addressee"]],
                    task=task,
                    indicator=indicator,
                    unit=None if task else by_code.get(data["unit"]),
                )
            except ValidationError as exc:
                form.add_error(None, _errors(exc))
            else:
                messages.success(request, _("批示已发出"))
                if instruction.task_id:
                    return redirect("duban:task_detail", pk=instruction.task_id)
                return redirect("duban:instruction_list")
    return render(request, "duban/instruction_form.html", {"form": form, "task": task})


@scoped
@require_POST
def instruction_reply(request, pk: int):
    instruction = selectors.instructions_visible(request.user).filter(pk=pk).first()
    if instruction is None:
        raise Http404("instruction")
    form = ReplyForm(request.POST, request.FILES)
    back = request.POST.get("back") == "task" and instruction.task_id
    target = ("duban:task_detail", instruction.task_id) if back else ("duban:instruction_list",)
    if not form.is_valid():
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
        return redirect(*target)
    try:
        services.instruction_reply(
            actor=request.user,
            instruction=instruction,
            text=form.cleaned_data["text"],
            files=form.cleaned_data["evidence"],
            mark_done=form.cleaned_data["done"],
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect(*target)
    messages.success(request, _("回复已提交"))
    return redirect(*target)


# --- evidence ----------------------------------------------------------------------------------


def _evidence_or_404(request, pk: int):
    row = selectors.evidence_visible(request.user, pk)
    if row is None:
        raise Http404("evidence")
    return row


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@scoped
@require_GET
def evidence_download(request, pk: int):
    row = _evidence_or_404(request, pk)
    # Always an attachment with the type found on upload: the browser never renders a file
    # (an SVG or HTML smuggled in could not run in the portal's origin anyway, but never try).
    response = FileResponse(
        row.file.open("rb"),
        as_attachment=True,
        filename=row.original_name,
        content_type=row.content_type,
    )
    return _private(response)


@scoped
@require_GET
def evidence_preview(request, pk: int):
    row = _evidence_or_404(request, pk)
    png = services.evidence_preview(evidence=row)
    if png is None:
        raise Http404("preview")
    response = HttpResponse(png, content_type="image/png")
    response["Content-Disposition"] = "inline"
    return _private(response)
