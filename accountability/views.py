"""Pages: the departments and a department's indicators; a published assessment's ranking, and
from a unit's score the items that cost it points (each links to the indicator page)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from core.views import scoped_by
from districts import scopes
from reports.models import STATUS_CHOICES, ProgressRow

from . import selectors
from .models import Assessment, AssessmentScheme, AssessmentUnitScore, Department

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
        {"a": a, "rows": rows, "history": a.scheme.assessments.order_by("-number")},
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
