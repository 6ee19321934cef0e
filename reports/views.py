"""Leadership pages: home, city dashboard, org-unit and indicator drill-downs, cross-city
comparison and report packs. Each view checks access with :mod:`districts.scopes`, parses its
input, calls one selector or service and renders; the view-models live in :mod:`reports.dashboards`, shared reads in :mod:`reports.selectors`."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.services import audit_record
from core.text import name_of
from districts import scopes
from districts.models import OrgUnit
from targets.models import Indicator, Plan

from . import packs, selectors
from .dashboards import city as city_page
from .dashboards import compare as compare_page
from .dashboards import home as home_page
from .dashboards import indicator as indicator_page
from .dashboards import plan_text as plan_text_page
from .dashboards import unit as unit_page
from .dashboards.common import status_legend
from .models import ReportPack


def _forbidden(request, unit: OrgUnit | None = None):
    """The unit exists (the org-unit tree is public) but its progress is outside the scope."""
    return render(
        request,
        "reports/forbidden.html",
        {"unit": unit, "unit_name": name_of(unit) if unit else ""},
        status=403,
    )


def _as_of(request) -> str:
    value = request.GET.get("as_of", "").strip()
    return value if selectors.parse_period(value) else ""


def _include_proposals(request) -> bool:
    """``?proposals=1``: count research reports' and proposals' figures in the headline too."""
    return request.GET.get("proposals", "") == "1"


@login_required
@require_GET
def home(request):
    cards = home_page.cities_for_home(request.user)
    return render(
        request,
        "reports/home.html",
        {
            "cards": cards,
            "legend": status_legend(),
            "can_compare": sum(1 for c in cards if c.is_city) > 1,
        },
    )


@login_required
@require_GET
def city(request, code: str):
    unit = get_object_or_404(OrgUnit, code=code)
    if not scopes.can(request.user, scopes.READ, unit):
        return _forbidden(request, unit)
    try:
        goal_id = int(request.GET.get("goal", "") or 0) or None
    except ValueError:
        goal_id = None
    status = request.GET.get("status", "")
    if status and status != "attention" and status not in selectors.STATUS_ORDER:
        status = ""
    dashboard = city_page.city_dashboard(
        city=unit,
        plan_code=request.GET.get("plan", ""),
        goal_id=goal_id,
        status=status,
        as_of=_as_of(request),
        include_proposals=_include_proposals(request),
        department=request.GET.get("department", ""),
    )
    if dashboard is None:
        return redirect("reports:unit", code=unit.code)
    return render(
        request,
        "reports/city.html",
        {"d": dashboard, "legend": status_legend()},
    )


@login_required
@require_GET
def unit(request, code: str):
    org_unit = get_object_or_404(OrgUnit, code=code)
    if not scopes.can(request.user, scopes.READ, org_unit):
        return _forbidden(request, org_unit)
    overview = unit_page.unit_overview(
        unit=org_unit,
        user=request.user,
        as_of=_as_of(request),
        include_proposals=_include_proposals(request),
    )
    return render(request, "reports/unit.html", {"o": overview})


@login_required
@require_GET
def indicator(request, code: str):
    found = indicator_page.indicator_for_page(code)
    if found is None:
        raise Http404
    city_unit = found.plan.city
    unit_code = request.GET.get("unit", "").strip()
    if unit_code and unit_code != city_unit.code:
        org_unit = get_object_or_404(OrgUnit, code=unit_code)
        if not org_unit.is_within(city_unit):
            raise Http404
    else:
        org_unit = indicator_page.default_unit_for(request.user, city_unit)
        if org_unit is None:
            return _forbidden(request, city_unit)
    if not scopes.can(request.user, scopes.READ, org_unit):
        return _forbidden(request, org_unit)
    detail = indicator_page.indicator_detail(
        indicator=found, unit=org_unit, user=request.user, as_of=_as_of(request)
    )
    return render(request, "reports/indicator.html", {"i": detail})


@login_required
@require_GET
def plan_text(request, code: str):
    """The plan's document with an indicator's clause highlighted (``?indicator=<code>``), where
    the installation holds the texts (``PLAN_TEXTS_DIR``)."""
    plan = get_object_or_404(Plan.objects.select_related("city"), code=code)
    if indicator_page.default_unit_for(request.user, plan.city) is None:
        return _forbidden(request, plan.city)
    found = None
    indicator_code = request.GET.get("indicator", "").strip()
    if indicator_code:
        found = Indicator.objects.filter(plan=plan, code=indicator_code).first()
    page = plan_text_page.plan_text(plan=plan, indicator=found)
    if page is None:
        raise Http404
    return render(request, "reports/plan_text.html", {"t": page})


@login_required
@require_GET
def compare(request):
    return render(
        request,
        "reports/compare.html",
        {"c": compare_page.comparison(user=request.user, as_of=_as_of(request))},
    )


@login_required
@require_http_methods(["GET", "POST"])
def pack_list(request):
    cities = selectors.pack_cities_for(request.user)
    if request.method == "POST":
        by_code = {c["code"]: c for c in cities}
        chosen = by_code.get(request.POST.get("city", ""))
        as_of = request.POST.get("as_of", "").strip()
        language = request.POST.get("language", "") or translation.get_language()
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        if chosen is None:
            messages.error(request, _("请选择您权限范围内的城市。"))
        elif as_of and as_of not in chosen["periods"]:
            messages.error(request, _("该城市没有这一期间的进度数据。"))
        else:
            pack = packs.report_pack_request(
                actor=request.user,
                city=chosen["unit"],
                as_of=as_of or chosen["default"],
                language=language,
            )
            return redirect("reports:pack", pack_id=pack.pk)
    return render(
        request,
        "reports/packs.html",
        {
            "cities": cities,
            "packs": list(selectors.packs_for(request.user)[:50]),
            "languages": settings.LANGUAGES,
            "current_language": translation.get_language(),
            "selected_city": request.GET.get("city", ""),
        },
    )


def _pack_urls(pack: ReportPack) -> dict:
    done = pack.state == ReportPack.SUCCEEDED
    return {
        "pdf_url": reverse("reports:pack_file", args=[pack.pk, "pdf"]) if done else "",
        "xlsx_url": reverse("reports:pack_file", args=[pack.pk, "xlsx"]) if done else "",
    }


@login_required
@require_GET
def pack_detail(request, pack_id: int):
    pack = selectors.pack_for(request.user, pack_id)
    if pack is None:
        raise Http404
    return render(
        request,
        "reports/pack.html",
        {"pack": pack, "city_name": name_of(pack.city), **_pack_urls(pack)},
    )


@login_required
@require_GET
def pack_status(request, pack_id: int):
    pack = selectors.pack_for(request.user, pack_id)
    if pack is None:
        raise Http404
    return JsonResponse(
        {
            "id": pack.pk,
            "state": pack.state,
            "state_label": str(pack.get_state_display()),
            "percent": pack.percent,
            "step": pack.step,
            "step_label": str(packs.STEP_LABELS.get(pack.step, "")),
            "error": pack.error,
            **_pack_urls(pack),
        }
    )


@login_required
@require_GET
def pack_file(request, pack_id: int, kind: str):
    pack = selectors.pack_for(request.user, pack_id)
    if pack is None or pack.state != ReportPack.SUCCEEDED or kind not in ("pdf", "xlsx"):
        raise Http404
    stored = pack.pdf if kind == "pdf" else pack.xlsx
    if not stored:
        raise Http404
    audit_record(actor=request.user, action="pack.download", target=pack, detail={"kind": kind})
    return FileResponse(
        stored.open("rb"),
        as_attachment=True,
        filename=packs.download_name(pack, kind),
        content_type=packs.CONTENT_TYPES[kind],
    )


def healthz(request):
    """Liveness for load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
