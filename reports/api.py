"""/api/v1/progress/: computed progress rows inside the caller's scope (SPEC §3, §4.5).

The same columns as ``export_progress`` (indicator, org_unit, period, value, numerator,
denominator, target, comparator, deadline, expected, status, forecast, completeness), plus
percent_of_target, share_of_total and, for the cagr method, ratio and score.
"""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from core.api import (
    ApiViewMixin,
    DecimalNumberField,
    FiniteFloatField,
    ScalablePagination,
    finite_float,
    plain_number,
)
from districts import scopes
from targets.models import COMPARATORS

from . import selectors
from .filtersets import ProgressFilterSet
from .models import STATUS_CHOICES, ProgressRow


class ProgressOut(serializers.Serializer):
    """One progress row, from a ``values()`` row of :func:`progress_rows`.

    The fields below are the contract (schema, CSV columns, their order); ``to_representation``
    writes the same out by hand because this is the API's busiest list and DRF's per-field
    machinery was a third of its time (bench/api_progress.py).
    """

    indicator = serializers.CharField(source="indicator_code")
    plan = serializers.CharField(source="plan_code")
    org_unit = serializers.CharField(source="org_unit_code")
    period = serializers.CharField()
    period_end = serializers.DateField()
    value = DecimalNumberField()
    numerator = DecimalNumberField()
    denominator = DecimalNumberField()
    target = DecimalNumberField()
    comparator = serializers.ChoiceField(choices=COMPARATORS)
    deadline = serializers.DateField()
    expected = DecimalNumberField(help_text="轨迹上此时应达到的值（expected on the trajectory）")
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    forecast = DecimalNumberField(help_text="期限时的线性预测（forecast at the deadline）")
    completeness = DecimalNumberField(
        max_digits=7,
        decimal_places=4,
        help_text="已报送下级单位比例（share of child units that reported）",
    )
    percent_of_target = DecimalNumberField()
    share_of_total = DecimalNumberField(
        max_digits=10, decimal_places=4, help_text="占全市合计的比例（share of the city total）"
    )
    ratio = FiniteFloatField(help_text="cagr: R 或 v（progress ratio）")
    score = FiniteFloatField(help_text="cagr: 得分 −5…5（score）")
    computed_at = serializers.DateTimeField()

    def to_representation(self, row: dict) -> dict:
        return {
            "indicator": row["indicator_code"],
            "plan": row["plan_code"],
            "org_unit": row["org_unit_code"],
            "period": row["period"],
            "period_end": row["period_end"].isoformat(),
            "value": plain_number(row["value"]),
            "numerator": plain_number(row["numerator"]),
            "denominator": plain_number(row["denominator"]),
            "target": plain_number(row["target"]),
            "comparator": row["comparator"],
            "deadline": row["deadline"].isoformat(),
            "expected": plain_number(row["expected"]),
            "status": row["status"],
            "forecast": plain_number(row["forecast"]),
            "completeness": plain_number(row["completeness"]),
            "percent_of_target": plain_number(row["percent_of_target"]),
            "share_of_total": plain_number(row["share_of_total"]),
            "ratio": finite_float(row["ratio"]),
            "score": finite_float(row["score"]),
            "computed_at": _datetime(row["computed_at"]),
        }


def _datetime(value) -> str:
    """DRF's DateTimeField output (local time, ISO 8601, ``Z`` for UTC) without its per-call
    machinery."""
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


PROGRESS_COLUMNS = (*selectors.PROGRESS_COLUMNS, "computed_at")


KEY_COLUMNS = ("id", "indicator_id", "org_unit_id")
"""Not shown: the sort keys of a keyset page (:class:`core.api.ScalablePagination`)."""


def progress_rows(user):
    """The progress rows ``user`` may read, as dicts for :class:`ProgressOut`."""
    queryset = ProgressRow.objects.order_by("indicator_id", "org_unit_id", "period")
    return scopes.filter_in_scope(queryset, user, scopes.READ).values(
        *PROGRESS_COLUMNS,
        *KEY_COLUMNS,
        indicator_code=F("indicator__code"),
        plan_code=F("indicator__plan__code"),
        org_unit_code=F("org_unit__code"),
    )


@extend_schema_view(
    list=extend_schema(
        summary="Progress in your scope",
        description="指标 × 单位 × 期间的进度，仅限您的范围（progress rows of the units in your "
        "scope）。`?status=` 可重复（may be repeated）。\n\n"
        "Paging: `?page=` as before (`count` on the first page only, or with `count=true`), or "
        "keyset pages with `?cursor=` (start empty, follow `next`), whose cost does not grow "
        "with the scope or the depth; with a cursor, `ordering` may be none (indicator, unit, "
        "period) or `computed_at`/`-computed_at`. Sync: `?updated_since=2026-05-01T00:00:00Z&"
        "ordering=computed_at&cursor=` walks what the progress job wrote since then (rows it "
        "removed are not listed). `?latest=true`: each indicator and unit's latest period.",
    )
)
class ProgressViewSet(ApiViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Computed progress rows of the units inside the caller's scope."""

    filterset_class = ProgressFilterSet
    serializer_class = ProgressOut
    pagination_class = ScalablePagination
    # ordering → sort key of a keyset page, each served by an index of ProgressRow: the unique
    # (indicator, org_unit, period) and progress_computed_key.
    keyset_orderings = {
        "": ("indicator_id", "org_unit_id", "period"),
        "computed_at": ("computed_at", "id"),
    }

    def get_queryset(self):
        return progress_rows(self.request.user)
