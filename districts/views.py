"""The data pages under /data/: entry form, uploads (with templates, progress and rollback),
the reviewer inbox and the history of values and uploads.

Each view checks access with :mod:`districts.scopes` (through the selectors), parses its input,
calls one selector or service and renders. A unit, value or upload outside the user's scope is a
404; an action the user may not take on something they can see is a 403.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.api import MULTIPART_SLACK, too_large_message
from core.numbers import plain
from core.periods import PeriodError, parse_period
from core.text import bilingual, name_of
from core.views import scoped_by
from supervision import rules as supervision_rules
from supervision import selectors as supervision_selectors
from targets.models import DataElement

from . import scopes, selectors, services
from .forms import ReviewForm, RollbackForm, TemplateForm, UploadForm, grid_cells
from .intake import (
    can_approve_uploads,
    upload_can_rollback,
    upload_create,
    upload_errors_csv,
    upload_rollback,
    upload_template,
)
from .models import DataValue, UploadJob
from .rules import OUTLIER_FACTOR, check_value

DUE_SHOWN = 60
"""Rows of the "what is due" list on /data/ (most urgent first); the rest is on the overdue page."""

STATUS_ERRORS_SHOWN = 200
"""Row errors (and warnings) in the status JSON and on the page; all are in the errors CSV."""


def _messages_of(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "；".join(m for ms in exc.message_dict.values() for m in ms)
    return "；".join(exc.messages)


scoped = scoped_by("districts/forbidden.html")


def _require(user, action: str) -> None:
    if not selectors.has_role(user, action):
        raise PermissionDenied(_("您没有该操作的权限"))


def _without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- index -----------------------------------------------------------------------------------


@scoped
@require_GET
def index(request):
    user = request.user
    can_write = selectors.has_role(user, scopes.WRITE)
    due = []
    if can_write:
        # What is due in the official's scope, most urgent first (the supervision rule).
        due = [
            s
            for s in supervision_selectors.reporting_statuses(user, action=scopes.WRITE)
            if s.state != supervision_rules.NOT_DUE
        ][:DUE_SHOWN]
    return render(
        request,
        "districts/index.html",
        {
            "due": due,
            "can_write": can_write,
            "can_review": selectors.has_role(user, scopes.REVIEW),
            "pending": selectors.pending_review_count(user),
            "rejected": selectors.rejected_groups(user),
            "uploads": list(selectors.uploads_for(user)[:5]),
        },
    )


# --- entry -----------------------------------------------------------------------------------


def _entry_url(unit_code: str, period: str, show_all: bool = False) -> str:
    query = {"unit": unit_code, "period": period}
    if show_all:
        query["all"] = "1"
    return f"{reverse('districts:entry')}?{urlencode(query)}"


@scoped
@require_http_methods(["GET", "POST"])
def entry(request):
    """Pick a unit and a period; then the grid of the elements that unit reports."""
    user = request.user
    _require(user, scopes.WRITE)
    units = selectors.unit_choices(user, scopes.WRITE)
    code = request.GET.get("unit", "").strip() or (units[0][0] if len(units) == 1 else "")
    period_text = request.GET.get("period", "").strip()
    show_all = request.GET.get("all") == "1"
    context = {
        "units": units,
        "unit_code": code,
        "period_text": period_text,
        "period_choices": [],
        "outlier_factor": OUTLIER_FACTOR,
        "show_all": show_all,
        "grid": None,
        "period_error": "",
    }
    if not code:
        return render(request, "districts/entry.html", context)
    unit = selectors.unit_for(user, code, scopes.WRITE)
    # The picker offers the periods valid for this unit, with their reporting state (the
    # supervision rule), what is due first.
    statuses = supervision_selectors.unit_statuses(user, unit, action=scopes.WRITE)
    context["period_choices"] = selectors.entry_period_choices(unit, statuses, period_text)
    if not period_text:
        return render(request, "districts/entry.html", context)
    try:
        period = parse_period(period_text)
    except PeriodError as exc:
        context["period_error"] = str(exc)
        return render(request, "districts/entry.html", context, status=400)
    grid = selectors.entry_grid(unit=unit, period=period, show_all=show_all)
    context.update(grid=grid, unit=unit, period_text=str(period), unit_name=name_of(unit))
    if request.method == "POST":
        action = request.POST.get("action")
        submit = action in ("submit", "complete")
        cells = grid_cells(request.POST, [row.element for row in grid.rows])
        if action == "complete":
            result = services.values_complete_grid(
                actor=user,
                org_unit=unit,
                period=period,
                cells=cells,
                confirmed=request.POST.get("confirm") == "1",
            )
        else:
            result = services.values_save_grid(
                actor=user, org_unit=unit, period=period, cells=cells, submit=submit
            )
        if result.ok:
            if submit:
                messages.success(
                    request,
                    _("已保存 %(saved)d 项，提交审核 %(submitted)d 项")
                    % {"saved": result.saved, "submitted": result.submitted},
                )
            else:
                messages.success(request, _("已保存 %(saved)d 项草稿") % {"saved": result.saved})
            return redirect(_entry_url(unit.code, str(period), show_all))
        selectors.overlay_posted(grid, cells, result.errors, result.warnings)
        context["errors"] = len(result.errors)
        context["needs_confirmation"] = result.needs_confirmation and not result.errors
        context["warning_count"] = len(result.warnings)
        return render(request, "districts/entry.html", context, status=400)
    return render(request, "districts/entry.html", context)


@scoped
@require_GET
def entry_check(request):
    """One cell checked by the server's own rules while the official types (light JS)."""
    element = (
        DataElement.objects.filter(code=request.GET.get("element", ""))
        .select_related("not_above")
        .first()
    )
    if element is None:
        return JsonResponse({"ok": False, "error": _("数据项不存在")}, status=404)
    text = request.GET.get("value", "")
    if not text.strip():
        return JsonResponse({"ok": True, "value": ""})
    try:
        value = check_value(text, services.element_rule(element))
    except ValueError as exc:
        return JsonResponse({"ok": False, "error": str(exc)})
    return JsonResponse({"ok": True, "value": plain(value)})


# --- uploads ---------------------------------------------------------------------------------


def _wants_json(request) -> bool:
    return request.headers.get(
        "x-requested-with"
    ) == "XMLHttpRequest" or "application/json" in request.headers.get("accept", "")


def _status_payload(job: UploadJob) -> dict:
    final = job.state in (UploadJob.SUCCEEDED, UploadJob.FAILED, UploadJob.ROLLED_BACK)
    errors = (job.errors or [])[:STATUS_ERRORS_SHOWN]
    warnings = (job.warnings or [])[:STATUS_ERRORS_SHOWN]
    return {
        "id": job.pk,
        "name": job.original_name,
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "final": final,
        "percent": job.percent,
        "total_rows": job.total_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "unchanged": job.unchanged_count,
        "error_count": job.error_count,
        "errors": errors,
        "errors_truncated": job.error_count > len(errors),
        "warning_count": len(job.warnings or []),
        "warnings": warnings,
        "message": job.message,
        "detail_url": reverse("districts:upload", args=[job.pk]),
        "status_url": reverse("districts:upload_status", args=[job.pk]),
        "errors_csv_url": (
            reverse("districts:upload_errors", args=[job.pk]) if job.error_count else None
        ),
    }


def _file_too_large() -> str:
    limit = settings.UPLOAD_MAX_BYTES / (1024 * 1024)
    return bilingual(
        f"文件过大：上限为 {limit:.1f} MB", f"the file is too large: the limit is {limit:.1f} MB"
    )


def _may_upload(user) -> bool:
    return selectors.has_role(user, scopes.WRITE) or selectors.has_role(user, scopes.REVIEW)


def _upload_too_large(request):
    """A body over the upload limit by its Content-Length is refused before it is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.UPLOAD_MAX_BYTES + MULTIPART_SLACK:
        return _refuse_large_upload(request, length)
    return None


def _refuse_large_upload(request, size: int):
    message = too_large_message(size, settings.UPLOAD_MAX_BYTES)
    if _wants_json(request):
        return JsonResponse({"detail": message, "code": "payload_too_large"}, status=413)
    messages.error(request, message)
    return _uploads_page(request, status=413)


@scoped
@require_http_methods(["GET", "POST"])
def uploads(request):
    """The upload page: drop a file, watch it run, see the result; templates; past uploads."""
    user = request.user
    if not _may_upload(user):
        raise PermissionDenied(_("您没有填报或审核权限"))
    if request.method == "POST":
        too_large = _upload_too_large(request)
        if too_large:
            return too_large
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid() and form.cleaned_data["file"].size > settings.UPLOAD_MAX_BYTES:
            return _refuse_large_upload(request, form.cleaned_data["file"].size)
        if not form.is_valid():
            if _wants_json(request):
                return JsonResponse({"errors": form.errors}, status=400)
            messages.error(request, _("请选择要上传的文件"))
            return redirect("districts:uploads")
        if form.cleaned_data["file"].size > settings.UPLOAD_MAX_BYTES:
            # Refused before it is stored; the job refuses it too (districts.intake.tables).
            detail = _file_too_large()
            if _wants_json(request):
                return JsonResponse({"detail": detail}, status=413)
            messages.error(request, detail)
            return redirect("districts:uploads")
        try:
            job = upload_create(
                actor=user,
                uploaded_file=form.cleaned_data["file"],
                approve=form.cleaned_data["approve"],
            )
        except PermissionDenied as exc:
            if _wants_json(request):
                return JsonResponse({"detail": str(exc)}, status=403)
            raise
        job.refresh_from_db()  # in-process runs (tests, quick start) have finished already
        if _wants_json(request):
            return JsonResponse(_status_payload(job), status=202)
        return redirect("districts:upload", pk=job.pk)
    return _uploads_page(request)


def _uploads_page(request, status: int = 200):
    user = request.user
    units = selectors.unit_choices(user, scopes.WRITE)
    periods = []
    if units:
        statuses = [
            s
            for s in supervision_selectors.reporting_statuses(user, action=scopes.WRITE)
            if s.state != supervision_rules.NOT_DUE
        ]
        periods = selectors.template_period_choices(user, statuses)
    page = Paginator(selectors.uploads_for(user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "districts/uploads.html",
        {
            "form": UploadForm(),
            "can_approve": can_approve_uploads(user),
            "template_form": TemplateForm(
                units=units,
                periods=periods,
                initial={"period": periods[0][0] if periods else "", "fmt": "xlsx"},
            ),
            "can_write": bool(units),
            "page": page,
        },
        status=status,
    )


@scoped
@require_GET
def upload_template_view(request):
    """A CSV or XLSX to fill in, pre-filled with the units and elements to report."""
    user = request.user
    _require(user, scopes.WRITE)
    form = TemplateForm(request.GET, units=selectors.unit_choices(user, scopes.WRITE))
    unit = selectors.unit_for(user, request.GET.get("unit", ""), scopes.WRITE)
    if not form.is_valid():
        return HttpResponse(
            "；".join(str(e) for errs in form.errors.values() for e in errs),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    made = upload_template(
        actor=user,
        org_unit=unit,
        period=form.cleaned_data["period"],
        fmt=form.cleaned_data["fmt"],
    )
    response = HttpResponse(made.content, content_type=made.content_type)
    response["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    return response


@scoped
@require_GET
def upload_detail(request, pk: int):
    job = selectors.upload_for(request.user, pk)
    changes = Paginator(selectors.upload_changes(job), selectors.HISTORY_PAGE_SIZE)
    page = changes.get_page(request.GET.get("page"))
    selectors.annotate_changes(page.object_list)
    return render(
        request,
        "districts/upload.html",
        {
            "job": job,
            "status": _status_payload(job),
            "page": page,
            "can_rollback": job.state == UploadJob.SUCCEEDED
            and upload_can_rollback(request.user, job),
            "rollback_form": RollbackForm(),
        },
    )


@scoped
@require_GET
def upload_status(request, pk: int):
    job = selectors.upload_for(request.user, pk)
    response = JsonResponse(_status_payload(job))
    response["Cache-Control"] = "no-store"
    return response


@scoped
@require_GET
def upload_errors(request, pk: int):
    job = selectors.upload_for(request.user, pk)
    response = HttpResponse(upload_errors_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="upload-{job.pk}-errors.csv"'
    return response


@scoped
@require_POST
def upload_rollback_view(request, pk: int):
    job = selectors.upload_for(request.user, pk)
    form = RollbackForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        restored = upload_rollback(actor=request.user, job=job, reason=reason)
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    else:
        messages.success(request, _("已撤销上传，恢复 %(n)d 个数值") % {"n": restored})
    return redirect("districts:upload", pk=job.pk)


# --- review ----------------------------------------------------------------------------------


@scoped
@require_http_methods(["GET", "POST"])
def review(request):
    """Submitted values in the reviewer's scope, grouped by unit and period; approve or reject
    one group, the checked values, or everything on the page."""
    user = request.user
    _require(user, scopes.REVIEW)
    filters = {
        "unit_code": request.GET.get("unit", "").strip(),
        "period": request.GET.get("period", "").strip(),
        "element": request.GET.get("element", "").strip(),
        "state": request.GET.get("state", DataValue.SUBMITTED),
    }
    if filters["state"] not in dict(DataValue.STATE_CHOICES):
        filters["state"] = DataValue.SUBMITTED
    if request.method == "POST":
        form = ReviewForm(request.POST)
        back = f"{reverse('districts:review')}?{request.GET.urlencode()}"
        if not form.is_valid():
            # Shown again at once, with the error beside the field it concerns and the values
            # the reviewer had checked still checked.
            picked = {int(i) for i in request.POST.getlist("ids") if i.isdigit()}
            return _review_page(request, filters, form=form, picked=picked, status=400)
        values = selectors.values_for_action(user, form.cleaned_data["ids"])
        comment = form.cleaned_data["comment"].strip()
        try:
            if form.cleaned_data["action"] == ReviewForm.APPROVE:
                done = services.values_approve(actor=user, values=values, comment=comment)
                messages.success(request, _("已审核通过 %(n)d 个数值") % {"n": len(done)})
            else:
                done = services.values_reject(actor=user, values=values, comment=comment)
                messages.success(request, _("已退回 %(n)d 个数值") % {"n": len(done)})
        except ValidationError as exc:
            messages.error(request, _messages_of(exc))
        return redirect(back)
    return _review_page(request, filters)


def _review_page(request, filters, *, form=None, picked=frozenset(), status=200):
    user = request.user
    queryset = selectors.inbox_queryset(user, **filters)
    page = Paginator(queryset, selectors.INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    values = list(page.object_list)
    selectors.annotate_review(values)
    return render(
        request,
        "districts/review.html",
        {
            "filters": filters,
            "page": page,
            "groups": selectors.group_inbox(values),
            "summary": selectors.inbox_summary(user),
            "periods": selectors.inbox_period_choices(user),
            "units": selectors.unit_choices(user, scopes.REVIEW),
            "states": DataValue.STATE_CHOICES,
            "query": _without_page(request),
            "form": form,
            "picked": picked,
            "comment_error": "; ".join(form.errors.get("comment", [])) if form else "",
            "ids_error": "; ".join(form.errors.get("ids", [])) if form else "",
            "comment_text": form.data.get("comment", "") if form else "",
        },
        status=status,
    )


# --- history ---------------------------------------------------------------------------------


@scoped
@require_GET
def value_history(request, pk: int):
    value = selectors.value_for(request.user, pk)
    changes = list(selectors.value_history(value)[:500])
    selectors.annotate_changes(changes)
    value.shown = plain(value.value)
    return render(
        request,
        "districts/value_history.html",
        {
            "value": value,
            "element_name": name_of(value.element),
            "unit_name": name_of(value.org_unit),
            "changes": changes,
            "can_write": scopes.can(request.user, scopes.WRITE, value.org_unit),
        },
    )
