"""Supervision pages under /supervision/: the overdue list (who is late for which period, per
district/town), one unit's reporting periods with the reviewer's reopen button, the schedules,
and the signed-in user's notifications.

Each view checks access with :mod:`districts.scopes`, parses its input, calls one selector or
service and renders. A unit outside the user's read scope is a 404; an action the user may not
take on a unit they can see is a 403.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.periods import Period, PeriodError
from core.text import name_of
from core.views import scoped_by
from districts import scopes
from districts.models import OrgUnit

from . import rules, selectors, services

PAGE_SIZE = 200

STATE_FILTERS = {
    "overdue": (rules.OVERDUE,),
    "due_soon": (rules.DUE_SOON,),
    "not_reported": rules.NOT_REPORTED,
    "submitted": (rules.SUBMITTED,),
    "approved": (rules.APPROVED,),
    "all": None,
}


scoped = scoped_by("supervision/forbidden.html")


def _as_of(request) -> date:
    text = request.GET.get("as_of", "").strip()
    if text:
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    return selectors.today()


def _readable_unit(user, code: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=(code or "").strip()).first()
    if unit is None or not scopes.can(user, scopes.READ, unit):
        raise Http404("org unit")
    return unit


def _state_filter_labels() -> list[tuple[str, str]]:
    return [
        ("overdue", _("已逾期")),
        ("due_soon", _("即将到期")),
        ("not_reported", _("未报（全部）")),
        ("submitted", _("已提交")),
        ("approved", _("已审核")),
        ("all", _("全部")),
    ]


@login_required
@require_GET
def index(request):
    return redirect("supervision:overdue")


@scoped
@require_GET
def overdue(request):
    """Which units are late for which periods, with counts per district/town."""
    user = request.user
    as_of = _as_of(request)
    root_code = request.GET.get("root", "").strip()
    root = _readable_unit(user, root_code) if root_code else None
    state = request.GET.get("state", "overdue")
    if state not in STATE_FILTERS:
        state = "overdue"
    period_type = request.GET.get("period_type", "")
    if period_type not in ("year", "quarter", "month"):
        period_type = ""
    area_code = request.GET.get("area", "").strip()
    statuses = selectors.reporting_statuses(user, as_of=as_of, root=root, period_type=period_type)
    areas = selectors.counts_by_area(statuses)
    wanted = STATE_FILTERS[state]
    rows = [
        s
        for s in statuses
        if (wanted is None or s.state in wanted) and (not area_code or s.area.code == area_code)
    ]
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    review_paths = scopes.scope_paths(user, scopes.REVIEW)
    for s in page.object_list:
        s.can_reopen = s.locked and scopes.path_in_scope(s.unit.path, review_paths)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "supervision/overdue.html",
        {
            "as_of": as_of,
            "root": root,
            "root_name": name_of(root),
            "areas": areas,
            "page": page,
            "rows_total": len(rows),
            "state": state,
            "state_filters": _state_filter_labels(),
            "period_type": period_type,
            "area_code": area_code,
            "legend": selectors.state_legend(),
            "has_scope": selectors.has_any_scope(user),
            "query": query.urlencode(),
            "here": request.get_full_path(),
        },
    )


@scoped
@require_GET
def unit(request, code: str):
    """One unit's periods in view: state, deadline, what is missing; reopen for reviewers."""
    user = request.user
    org_unit = _readable_unit(user, code)
    as_of = _as_of(request)
    statuses = selectors.unit_statuses(user, org_unit, as_of=as_of)
    can_review = scopes.can(user, scopes.REVIEW, org_unit)
    for s in statuses:
        s.elements = selectors.missing_elements(s)
        s.can_reopen = can_review and s.approved > 0
    return render(
        request,
        "supervision/unit.html",
        {
            "unit": org_unit,
            "unit_name": name_of(org_unit),
            "as_of": as_of,
            "statuses": statuses,
            "can_review": can_review,
            "can_write": scopes.can(user, scopes.WRITE, org_unit),
            "reopens": selectors.reopens_for(org_unit)[:50],
            "legend": selectors.state_legend(),
            "here": request.get_full_path(),
        },
    )


@scoped
@require_POST
def reopen(request, code: str):
    """A reviewer reopens an approved period of a unit, with a reason."""
    user = request.user
    org_unit = _readable_unit(user, code)
    if not scopes.can(user, scopes.REVIEW, org_unit):
        raise PermissionDenied(_("只有审核员可以重新开放已审核的期间"))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("supervision:unit_status", args=[org_unit.code])
    try:
        period = Period.parse(request.POST.get("period", ""))
        record = services.period_reopen(
            actor=user, org_unit=org_unit, period=period, reason=request.POST.get("reason", "")
        )
    except PeriodError as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(
            request,
            _("已重新开放 %(unit)s %(period)s 的 %(n)d 个数值，原因已记入修改记录")
            % {
                "unit": name_of(org_unit),
                "period": record.period,
                "n": record.value_count,
            },
        )
    return redirect(target)


@scoped
@require_GET
def schedules(request):
    return render(
        request,
        "supervision/schedules.html",
        {"schedules": selectors.schedules_for_page(), "last_run": selectors.last_reminder_run()},
    )


@scoped
@require_GET
def notifications(request):
    unread_only = request.GET.get("unread") == "1"
    qs = selectors.notifications_for(request.user, unread_only=unread_only)
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    for n in page.object_list:
        n.unit_name = name_of(n.org_unit)
    return render(
        request,
        "supervision/notifications.html",
        {
            "page": page,
            "unread_only": unread_only,
            "unread": selectors.unread_count(request.user),
            "query": urlencode({"unread": "1"} if unread_only else {}),
        },
    )


@scoped
@require_POST
def notifications_read(request):
    ids: list[int] | None
    if request.POST.get("all") == "1":
        ids = None
    else:
        ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()]
    count = services.notifications_mark_read(user=request.user, ids=ids)
    messages.success(request, _("已标记 %(n)d 条为已读") % {"n": count})
    return redirect("supervision:notifications")
