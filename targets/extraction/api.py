"""POST /api/v1/extractions/: a plan document in, its target candidates out (issue 19).

The HTTP layer only: the pure extractor (the rest of this package) never imports it. Nothing
is stored; the answer also carries the draft plan file, ready for review and ``load_plans``.
Catalog editors only (staff, superusers, or the ``targets.add_plan`` permission).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from core.api import ApiViewMixin
from core.text import bilingual
from districts.models import OrgUnit

from .pipeline import build_draft
from .reading import DocumentError, read_document


def is_catalog_editor(user) -> bool:
    return bool(
        user
        and user.is_authenticated
        and (user.is_staff or user.is_superuser or user.has_perm("targets.add_plan"))
    )


class IsCatalogEditor(permissions.BasePermission):
    message = bilingual("仅目录编辑可用", "catalog editors only")

    def has_permission(self, request, view):
        return is_catalog_editor(request.user)


class ExtractionIn(serializers.Serializer):
    file = serializers.FileField(
        required=False,
        help_text="TXT（UTF-8/GB18030）、DOCX 或带文字层的 PDF（TXT, DOCX, text PDF）",
    )
    text = serializers.CharField(
        required=False, trim_whitespace=False, help_text="或直接提交全文（or the plain text）"
    )
    city = serializers.CharField(help_text="规划所属城市的单位代码（org unit code of the city）")
    issued = serializers.DateField(help_text="印发日期（issue date; 3年内 counts from it）")
    horizon = serializers.DateField(
        required=False, help_text="规划期末，未写明期限的目标取此日（plan end for undated targets）"
    )
    code = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", required=False, max_length=80)
    title = serializers.CharField(required=False, max_length=200)

    def validate_city(self, value):
        if not OrgUnit.objects.filter(code=value).exists():
            raise serializers.ValidationError(bilingual("单位不存在", f"no org unit “{value}”"))
        return value

    def validate(self, attrs):
        if bool(attrs.get("file")) == bool(attrs.get("text")):
            raise serializers.ValidationError(
                {"file": [bilingual("请上传文件或提交全文，二者选一", "send either file or text")]}
            )
        return attrs


class ClauseOut(serializers.Serializer):
    path = serializers.CharField()
    number = serializers.CharField()
    title = serializers.CharField()


class CandidateOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["value", "ratio", "coverage", "growth", "milestone"])
    comparator = serializers.ChoiceField(choices=[">=", ">", "<=", "<", "="])
    target = serializers.FloatField()
    unit = serializers.CharField()
    deadline = serializers.DateField(allow_null=True)
    deadline_rule = serializers.CharField(help_text="date.year, date.five_year_plan, horizon, …")
    recurring = serializers.BooleanField(help_text="每年（a yearly target）")
    start = serializers.IntegerField(help_text="引文起点（character offset, inclusive）")
    end = serializers.IntegerField(help_text="引文终点（character offset, exclusive）")
    quote = serializers.CharField()
    number_span = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    deadline_span = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    clause = ClauseOut(allow_null=True)
    rule = serializers.CharField()
    confidence = serializers.FloatField()
    level = serializers.CharField()
    group = serializers.CharField()
    name_zh = serializers.CharField()
    elements = serializers.DictField(help_text="element / numerator / denominator / condition / of")
    notes = serializers.ListField(child=serializers.CharField())


class ExtractionOut(serializers.Serializer):
    source = serializers.CharField()
    characters = serializers.IntegerField()
    horizon = serializers.DateField(allow_null=True)
    count = serializers.IntegerField()
    candidates = CandidateOut(many=True)
    draft_yaml = serializers.CharField(help_text="草稿规划文件（the draft plan file, SPEC §4.1）")


class ExtractionViewSet(ApiViewMixin, viewsets.GenericViewSet):
    permission_classes = [IsCatalogEditor]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    serializer_class = ExtractionIn
    # POST only: ApiViewMixin brings a list() that the router would otherwise route GET to.
    http_method_names = ["post", "options"]

    @extend_schema(
        summary="Extract target candidates from a plan document",
        description="上传规划全文（multipart `file`，或 JSON `text`），返回候选指标及其原文位置和草稿"
        "规划文件；不保存任何内容（nothing is stored）。",
        request={"multipart/form-data": ExtractionIn, "application/json": ExtractionIn},
        responses={200: ExtractionOut},
    )
    def create(self, request, *args, **kwargs):
        form = ExtractionIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        upload = data.get("file")
        filename = upload.name if upload else "text.txt"
        try:
            text = read_document(upload.read(), filename) if upload else data["text"]
            draft = build_draft(
                text=text,
                filename=filename,
                city=data["city"],
                issued=data["issued"],
                horizon=data.get("horizon"),
                code=data.get("code", ""),
                title=data.get("title", ""),
            )
        except DocumentError as exc:
            raise serializers.ValidationError({"file" if upload else "text": [str(exc)]}) from exc
        body = {
            "source": filename,
            "characters": len(draft.text),
            "horizon": draft.extraction.horizon,
            "count": len(draft.candidates),
            "candidates": draft.candidates,
            "draft_yaml": draft.yaml_text,
        }
        return Response(ExtractionOut(body).data)
