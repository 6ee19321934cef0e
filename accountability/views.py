"""Pages: the departments and a department's indicators; a published assessment's ranking, and
from a unit's score the items that cost it points (each links to the indicator page)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.views import scoped_by
from districts import scopes
from reports.models import STATUS_CHOICES, ProgressRow

from . import selectors
from .bulletins import bulletin_request
from .models import Assessment, AssessmentScheme, AssessmentUnitScore, Bulletin, Department

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

scoped = scoped_by("reports/forbidden.html")
STATUS_LABELS = dict(STATUS_CHOICES)


@require_GET
@scoped
def index(request):
    departments = Department.objects.select_related("city").order_by("city__code", "position")
    assessments = Assessment.objects.select_related("scheme").order_by("scheme__code", "-number")
    return render(
        request,
        "accountability/index.html",
        {
            "departments": departments,
            "assessments": assessments,
            "schemes": AssessmentScheme.objects.order_by("code"),
        },
    )


@require_GET
@scoped
def department(request, code: str):
    d = get_object_or_404(Department.objects.select_related("city"), code=code)
    periods = (
        ProgressRow.objects.filter(org_unit=d.city).values_list("period", flat=True).distinct()
    )
    known = sorted({p for p in periods if p.isdigit()})
    period = request.GET.get("period") or (known[-1] if known else "")
    rows = selectors.department_indicators(department=d, user=request.user, period=period)
    for r in rows:
        r.status_label = STATUS_LABELS.get(r.status, r.status)
    return render(
        request,
        "accountability/department.html",
        {
            "d": d,
            "rows": rows,
            "period": period,
            "periods": known,
            "overdue": [r for r in rows if r.overdue],
            "can_read_city": scopes.can(request.user, scopes.READ, d.city),
        },
    )


def _assessment(assessment_id: int) -> Assessment:
    return get_object_or_404(
        Assessment.objects.select_related("scheme__city", "published_by"), pk=assessment_id
    )


@require_GET
@scoped
def assessment(request, assessment_id: int):
    a = _assessment(assessment_id)
    order = ["group", "rank"] if a.scheme.rank_by_group else ["rank"]
    units = scopes.filter_in_scope(
        a.units.select_related("org_unit"), request.user, scopes.READ
    ).order_by(*order, "org_unit__code")
    rows = []
    for s in units:
        rows.append({"s": s, "lost": s.max_score - s.score})
    return render(
        request,
        "accountability/assessment.html",
        {
            "a": a,
            "rows": rows,
            "history": a.scheme.assessments.order_by("-number"),
            "city_wide": _may_read_whole_city(request.user, a),
            "bulletins": a.bulletins.all()[:10],
        },
    )


@require_GET
@scoped
def assessment_unit(request, assessment_id: int, unit: str):
    a = _assessment(assessment_id)
    score = (
        AssessmentUnitScore.objects.filter(assessment=a, org_unit__code=unit)
        .select_related("org_unit")
        .first()
    )
    if score is None:
        raise Http404
    if not scopes.can(request.user, scopes.READ, score.org_unit):
        return render(
            request,
            "reports/forbidden.html",
            {"unit_name": score.org_unit.name_zh},
            status=403,
        )
    items = [
        {
            "i": i,
            "lost": i.points - i.earned,
            "label": STATUS_LABELS.get(i.status, i.status),
            # who answers for it: the indicator's lead, else its goal's (or why there is none)
            "lead": i.indicator.lead or i.indicator.goal.lead,
            "lead_note": i.indicator.lead_note or i.indicator.goal.lead_note,
        }
        for i in score.items.select_related("indicator__lead", "indicator__goal__lead")
    ]
    items.sort(key=lambda row: (-row["lost"], row["i"].indicator.code))
    return render(
        request, "accountability/assessment_unit.html", {"a": a, "s": score, "items": items}
    )


def _may_read_whole_city(user, a: Assessment) -> bool:
    # A bulletin names every scored unit: only who may read the whole city asks for or reads it.
    return scopes.can(user, scopes.READ, a.scheme.city)


@require_POST
@scoped
def bulletin_new(request, assessment_id: int):
    a = _assessment(assessment_id)
    if not _may_read_whole_city(request.user, a):
        raise PermissionDenied(_("通报涉及全市各单位，仅限全市查看权限（city-wide readers only）"))
    bulletin_request(actor=request.user, assessment=a)
    return redirect("accountability:assessment", assessment_id=a.id)


@require_GET
@scoped
def bulletin_file(request, bulletin_id: int, kind: str):
    b = get_object_or_404(
        Bulletin.objects.select_related("assessment__scheme__city"), pk=bulletin_id
    )
    if not _may_read_whole_city(request.user, b.assessment):
        raise PermissionDenied(_("通报涉及全市各单位，仅限全市查看权限（city-wide readers only）"))
    stored = b.pdf if kind == "pdf" else b.xlsx if kind == "xlsx" else None
    if b.state != Bulletin.SUCCEEDED or not stored:
        raise Http404
    return FileResponse(
        stored.open("rb"),
        as_attachment=True,
        filename=f"{b.assessment.scheme.title_zh}-通报-{b.assessment.number}.{kind}",
        content_type=CONTENT_TYPES[kind],
    )
