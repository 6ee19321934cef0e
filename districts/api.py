"""/api/v1/ endpoints of the org-unit tree, reported data values and uploads.

Org units are catalog (every signed-in user reads them). Data values are read inside the
caller's scope and written only through :mod:`districts.services`, with the same rules as an
uploaded file (:mod:`districts.intake`): a value outside the scope is a 404 to read and a 403
to write. Concurrent edits are caught by the value's ``version``, sent back as the ``ETag`` and
checked against ``If-Match`` (412) or a ``version`` in the body (409). A PATCH must say which
version it read, by either of them: without one it is a 428. The domain work (existence,
``not_above``, locking) is in :mod:`districts.services`; this module maps it to HTTP.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.api import (
    ApiViewMixin,
    Conflict,
    CSVRenderer,
    DecimalNumberField,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    ScalablePagination,
    too_large_message,
)
from core.periods import Period, PeriodError, parse_period
from core.text import bilingual
from targets.models import DataElement

from . import scopes, services
from .filtersets import DataValueFilterSet, OrgUnitFilterSet, UploadJobFilterSet
from .models import DataValue, OrgUnit, UploadJob
from .rules import check_value, element_rule

# --- org units -----------------------------------------------------------------------------


class OrgUnitOut(serializers.ModelSerializer):
    parent = serializers.CharField(
        source="parent.code", read_only=True, allow_null=True, help_text="上级单位代码"
    )

    class Meta:
        model = OrgUnit
        fields = [
            "code", "name_zh", "name_en", "level", "parent", "depth", "population",
            "population_year", "is_generated",
        ]  # fmt: skip
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="Org units", description="单位树（the org-unit tree, any depth）。"),
    retrieve=extend_schema(summary="One org unit"),
)
class OrgUnitViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """The org-unit tree (catalog: every signed-in user reads it), looked up by code."""

    lookup_field = "code"
    lookup_value_regex = r"[^/]+"
    filterset_class = OrgUnitFilterSet
    serializer_class = OrgUnitOut

    def get_queryset(self):
        return OrgUnit.objects.select_related("parent").order_by("path")


# --- data values ---------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [{"type": "number"}, {"type": "string"}, {"type": "boolean"}],
        "description": "数值：数字或文本，规则与上传文件相同（a number, or text read like a cell "
        "of an uploaded file: 1,234 / １２３４ / 15% for percent elements / 是·否 for booleans）",
    }
)
class ValueInputField(serializers.Field):
    """A value as a JSON number, string or boolean; parsed later with the element's rules."""

    default_error_messages = {"invalid": "须为数字或文本（must be a number or a string）"}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return "1" if data else "0"
        if isinstance(data, int | float | str):
            return str(data)
        self.fail("invalid")

    def to_representation(self, value):
        return value


def parse_value(raw: str, element: DataElement) -> Decimal:
    try:
        return check_value(raw, element_rule(element))
    except ValueError as exc:
        raise serializers.ValidationError({"value": [str(exc)]}) from None


WRITE_STATES = [(DataValue.DRAFT, "草稿（draft）"), (DataValue.SUBMITTED, "提交审核（submitted）")]
_STATE_HELP = (
    "submitted 提交审核；draft 仅保存（keeps a submitted value submitted）。"
    "审核用 approve/reject（reviewers use the approve and reject actions）。"
)


class DataValueCreateIn(serializers.Serializer):
    """One value; ``value`` is read with the element's rules once the scope has been checked."""

    element = serializers.SlugRelatedField(
        slug_field="code", queryset=DataElement.objects.select_related("not_above")
    )
    org_unit = serializers.SlugRelatedField(slug_field="code", queryset=OrgUnit.objects.all())
    period = serializers.CharField(help_text="2015、2015Q3 或 2015-07")
    value = ValueInputField()
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    state = serializers.ChoiceField(
        choices=WRITE_STATES, required=False, default=DataValue.DRAFT, help_text=_STATE_HELP
    )
    version = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="读取时的版本；不符则 409。0 = 须为新值（the version you read; 409 if it "
        "changed; 0 = the value must not exist yet）",
    )

    def validate_period(self, text: str) -> Period:
        try:
            return parse_period(text)
        except PeriodError as exc:
            raise serializers.ValidationError(str(exc)) from None


class DataValuePatchIn(serializers.Serializer):
    """Any of value, comment and state; what is left out keeps its current content. The value
    is read with its element's rules once the caller's scope has been checked."""

    value = ValueInputField(required=False)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    state = serializers.ChoiceField(choices=WRITE_STATES, required=False, help_text=_STATE_HELP)
    version = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="读取时的版本，必填或改用 If-Match；不符则 409，都没有则 428（the version you "
        "read: send it here or as If-Match; 409 if it changed, 428 if neither is sent）",
    )


class ApproveIn(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    version = serializers.IntegerField(required=False, min_value=0)


class RejectIn(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, help_text="退回原因，必填（required）")
    version = serializers.IntegerField(required=False, min_value=0)


def _username(field: str) -> serializers.CharField:
    return serializers.CharField(source=f"{field}.username", read_only=True, allow_null=True)


class DataValueOut(serializers.ModelSerializer):
    element = serializers.CharField(source="element.code", read_only=True)
    org_unit = serializers.CharField(source="org_unit.code", read_only=True)
    value = DecimalNumberField(max_digits=20, allow_null=False)
    created_by = _username("created_by")
    updated_by = _username("updated_by")
    reviewed_by = _username("reviewed_by")

    class Meta:
        model = DataValue
        fields = [
            "id", "element", "org_unit", "period", "period_end", "value", "state", "comment",
            "review_comment", "source", "version", "upload", "created_by", "updated_by",
            "reviewed_by", "reviewed_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='数值的 ETag（"3"）；不符则 412（the ETag you read; 412 if the value changed）',
)
ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description="数值的版本，供 If-Match 使用（the value's version, for If-Match）",
)


def etag(value: DataValue) -> str:
    return f'"{value.version}"'


def expected_version(request, body_version: int | None) -> tuple[int | None, str | None]:
    """The version the client says it read, and how it said so: ``"if-match"``, ``"body"``,
    ``"any"`` (``If-Match: *``: the value must exist) or ``None``."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        return body_version, ("body" if body_version is not None else None)
    if header == "*":
        return body_version, ("body" if body_version is not None else "any")
    tag = header.split(",")[0].strip().removeprefix("W/").strip('"')
    if not (tag.isascii() and tag.isdigit()):
        raise exceptions.ValidationError(
            {
                "If-Match": [
                    bilingual('If-Match 须为 ETag，如 "3"', 'If-Match must be an ETag like "3"')
                ]
            }
        )
    if body_version is not None and body_version != int(tag):
        raise exceptions.ValidationError(
            {"version": [bilingual("version 与 If-Match 不一致", "version and If-Match disagree")]}
        )
    return int(tag), "if-match"


def _stale(exc: services.StaleVersionError | None, via: str | None) -> exceptions.APIException:
    messages = exc.message_dict.get("version", exc.messages) if exc is not None else []
    detail = messages[0] if messages else None
    return PreconditionFailed(detail) if via in ("if-match", "any") else Conflict(detail)


def _link(operation: str, *, version: bool = False) -> dict:
    parameters = {"path.id": "$response.body#/id"}
    if version:
        parameters["header.If-Match"] = "$response.header.ETag"
    return {"operationId": operation, "parameters": parameters}


_VALUE_NEXT = {
    "ChangeValue": _link("data_values_partial_update", version=True),
    "ApproveValue": _link("data_values_approve_create", version=True),
    "RejectValue": _link("data_values_reject_create", version=True),
}
_VALUE_LINKS = {"GetValue": _link("data_values_retrieve"), **_VALUE_NEXT}


def _require(user, action: str, unit: OrgUnit) -> None:
    if not scopes.can(user, action, unit):
        verb = "填报" if action == scopes.WRITE else "审核"
        raise exceptions.PermissionDenied(
            bilingual(f"{unit.code} 不在您的{verb}范围内", f"{unit.code} is outside your scope")
        )


@extend_schema_view(
    list=extend_schema(
        summary="Data values in your scope",
        description="您范围内的数据值（values of the units in your scope）。\n\n"
        "Paging: `?page=` as before (`count` on the first page only, or with `count=true`), or "
        "keyset pages with `?cursor=` (start empty, follow `next`), whose cost does not grow "
        "with the scope or the depth; with a cursor, `ordering` may be none, `id`, `-id`, "
        "`updated_at` or `-updated_at`. Sync: `?updated_since=2026-05-01T00:00:00Z&"
        "ordering=updated_at&cursor=` walks the values changed since then.",
    ),
    retrieve=extend_schema(summary="One data value", parameters=[ETAG]),
    create=extend_schema(
        summary="Enter or change a value",
        description="按（数据项, 单位, 期间）新增或修改；规则与上传文件相同。201 新增，200 修改。"
        "(Creates or updates the value keyed by element, org unit and period, validated like "
        "an uploaded file; 201 when created, 200 when an existing value was changed.)",
        request=DataValueCreateIn,
        responses={201: DataValueOut, 200: DataValueOut},
        parameters=[IF_MATCH, ETAG],
    ),
    partial_update=extend_schema(
        summary="Change a value",
        description="须带读取时的版本：请求体 `version` 或 `If-Match` 头，否则 428。(Send the "
        "version you read, as `version` in the body or as `If-Match`; without either the "
        "request is refused with 428 Precondition Required.)",
        request=DataValuePatchIn,
        responses={200: DataValueOut},
        parameters=[IF_MATCH, ETAG],
    ),
)
class DataValueViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Reported values inside the caller's scope; written only through districts.services."""

    lookup_value_regex = r"[^/]+"  # anything but a number is then a JSON 404, not Django's
    filterset_class = DataValueFilterSet
    pagination_class = ScalablePagination
    # ordering → sort key of a keyset page, each served by an index: the primary key and
    # value_updated_key.
    keyset_orderings = {"": ("id",), "id": ("id",), "updated_at": ("updated_at", "id")}
    response_links = {
        "create": {"200": _VALUE_LINKS, "201": _VALUE_LINKS},
        "retrieve": {"200": _VALUE_NEXT},
        "partial_update": {"200": _VALUE_LINKS},
        "approve": {"200": {"GetValue": _link("data_values_retrieve")}},
        "reject": {"200": _VALUE_LINKS},
    }
    serializer_class = DataValueOut
    output_serializer_class = DataValueOut
    http_method_names = ["get", "post", "patch", "head", "options"]
    extra_error_codes = {
        "create": ("409", "412"),
        "partial_update": ("409", "412", "428"),
        "approve": ("409", "412"),
        "reject": ("409", "412"),
    }

    def get_queryset(self):
        queryset = DataValue.objects.select_related(
            "element", "org_unit", "created_by", "updated_by", "reviewed_by"
        ).order_by("id")
        return scopes.filter_in_scope(queryset, self.request.user, scopes.READ)

    def get_serializer_class(self):
        return {
            "create": DataValueCreateIn,
            "partial_update": DataValuePatchIn,
            "approve": ApproveIn,
            "reject": RejectIn,
        }.get(self.action, DataValueOut)

    def _respond(self, value: DataValue, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=value.pk)
        headers = {"ETag": etag(fresh)}
        if code == status.HTTP_201_CREATED:
            headers["Location"] = reverse("api:data-value-detail", args=[fresh.pk])
        return Response(DataValueOut(fresh).data, status=code, headers=headers)

    def retrieve(self, request, *args, **kwargs):
        return self._respond(self.get_object())

    def create(self, request, *args, **kwargs):
        form = DataValueCreateIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        element, unit = data["element"], data["org_unit"]
        _require(request.user, scopes.WRITE, unit)
        number = parse_value(data["value"], element)
        expected, via = expected_version(request, data.get("version"))
        try:
            value, created = services.value_put(
                actor=request.user, element=element, org_unit=unit, period=data["period"],
                value=number, comment=data["comment"],
                submit=data["state"] == DataValue.SUBMITTED, expected_version=expected,
                must_exist=via == "any",
            )  # fmt: skip
        except services.StaleVersionError as exc:
            raise _stale(exc, via) from None
        return self._respond(value, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def partial_update(self, request, *args, **kwargs):
        current = self.get_object()
        form = DataValuePatchIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        _require(request.user, scopes.WRITE, current.org_unit)
        expected, via = expected_version(request, data.get("version"))
        if expected is None:
            raise PreconditionRequired()
        new_value = parse_value(data["value"], current.element) if "value" in data else None
        try:
            value = services.value_change(
                actor=request.user, value=current, expected_version=expected,
                new_value=new_value, comment=data.get("comment"),
                submit=data.get("state") == DataValue.SUBMITTED,
            )  # fmt: skip
        except services.StaleVersionError as exc:
            raise _stale(exc, via) from None
        return self._respond(value)

    def _review(self, request, decision: str) -> Response:
        current = self.get_object()
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        _require(request.user, scopes.REVIEW, current.org_unit)
        expected, via = expected_version(request, data.get("version"))
        try:
            value = services.value_review(
                actor=request.user, value=current, decision=decision, comment=data["comment"],
                expected_version=expected,
            )  # fmt: skip
        except services.StaleVersionError as exc:
            raise _stale(exc, via) from None
        return self._respond(value)

    @extend_schema(
        summary="Approve a submitted value",
        description="审核员通过已提交的数值（a reviewer in scope approves a submitted value）。",
        request=ApproveIn,
        responses={200: DataValueOut},
        parameters=[IF_MATCH, ETAG],
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._review(request, "approve")

    @extend_schema(
        summary="Reject a submitted value",
        description="审核员退回已提交的数值，须写原因（a reviewer rejects, with a comment）。",
        request=RejectIn,
        responses={200: DataValueOut},
        parameters=[IF_MATCH, ETAG],
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._review(request, "reject")


# --- uploads -------------------------------------------------------------------------------

UPLOAD_ERRORS_SHOWN = 1000
"""Row errors listed in the JSON; all of them are in the errors CSV."""
_ERROR_KEYS = ("line", "column", "value", "reason", "field")


class UploadIn(serializers.Serializer):
    file = serializers.FileField(help_text="CSV 或 XLSX，列见 SPEC §4.3（org_unit,period,element,value[,comment]）")  # fmt: skip
    approve = serializers.BooleanField(
        required=False,
        default=False,
        help_text="导入即审核通过：仅管理员和范围内的审核员（admins and reviewers in scope only）",
    )

    def to_internal_value(self, data):
        # A multipart form may repeat a field; a form reads only its last value, which would
        # let "approve=false&approve=true" mean whatever came last. Each field is given once.
        if hasattr(data, "getlist"):
            repeated = {
                name: ["只能填写一次（give this field once）"]
                for name in self.fields
                if len(data.getlist(name)) > 1
            }
            if repeated:
                raise serializers.ValidationError(repeated)
        return super().to_internal_value(data)


class UploadRowErrorOut(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(allow_blank=True)
    value = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()
    field = serializers.CharField(allow_blank=True)


def _row_error(item) -> dict:
    """A stored row error (a dict, or a RowError saved as a list) in the API's shape."""
    if isinstance(item, dict):
        data = {key: item.get(key) for key in _ERROR_KEYS}
    elif isinstance(item, list | tuple):
        data = dict(zip(_ERROR_KEYS, item, strict=False))
    else:
        data = {"reason": item}
    line = data.get("line")
    return {
        "line": line if isinstance(line, int) else None,
        "column": str(data.get("column") or ""),
        "value": str(data.get("value") or ""),
        "reason": str(data.get("reason") or ""),
        "field": str(data.get("field") or ""),
    }


class UploadOut(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:upload-detail", read_only=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = UploadJob
        fields = [
            "id", "url", "original_name", "created_by", "source", "approve", "state", "percent",
            "total_rows", "created_count", "updated_count", "unchanged_count", "error_count",
            "message", "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class UploadDetailOut(UploadOut):
    errors = serializers.SerializerMethodField(
        help_text=f"前 {UPLOAD_ERRORS_SHOWN} 条（first rows)"
    )
    errors_truncated = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField()
    errors_csv_url = serializers.SerializerMethodField()

    class Meta(UploadOut.Meta):
        fields = [*UploadOut.Meta.fields, "errors", "errors_truncated", "warnings", "errors_csv_url"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(UploadRowErrorOut(many=True))
    def get_errors(self, job: UploadJob):
        return [_row_error(e) for e in (job.errors or [])[:UPLOAD_ERRORS_SHOWN]]

    def get_errors_truncated(self, job: UploadJob) -> bool:
        """Whether the file has more errors than ``errors`` lists (see the errors CSV)."""
        return job.error_count > min(len(job.errors or []), UPLOAD_ERRORS_SHOWN)

    @extend_schema_field(UploadRowErrorOut(many=True))
    def get_warnings(self, job: UploadJob):
        return [_row_error(e) for e in (job.warnings or [])[:UPLOAD_ERRORS_SHOWN]]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_errors_csv_url(self, job: UploadJob):
        if not job.error_count:
            return None
        url = reverse("api:upload-errors", args=[job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


@extend_schema_view(
    list=extend_schema(
        summary="Your uploads", description="您的上传（your own; all for admins）。"
    ),
    retrieve=extend_schema(
        summary="Upload state, counts and errors",
        description="状态、进度、行数和错误，处理完成前可反复查询（poll until the state is final）。",
    ),
    create=extend_schema(
        summary="Upload a values file",
        request={"multipart/form-data": UploadIn},
        responses={202: UploadDetailOut},
        description="上传数据文件（SPEC §4.3），后台导入；全部有效才写入。超过 UPLOAD_MAX_BYTES 则 413。"
        "(Imported in the background, all or nothing; poll the returned URL. A file over "
        "the server's UPLOAD_MAX_BYTES, default 50 MB, is refused with 413.)",
    ),
)
class UploadViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Uploads are visible to their creator and to administrators."""

    lookup_value_regex = r"[^/]+"
    filterset_class = UploadJobFilterSet
    response_links = {
        "create": {
            "202": {
                "GetUpload": _link("uploads_retrieve"),
                "GetUploadErrors": _link("uploads_errors_retrieve"),
            }
        }
    }
    output_serializer_class = UploadOut
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular, no user
            return UploadJob.objects.none()
        queryset = UploadJob.objects.select_related("created_by").order_by("-created_at", "-id")
        return scopes.visible_uploads(self.request.user, queryset)

    def get_serializer_class(self):
        return {"create": UploadIn, "retrieve": UploadDetailOut}.get(self.action, UploadOut)

    def create(self, request, *args, **kwargs):
        form = UploadIn(data=request.data)
        form.is_valid(raise_exception=True)
        size = form.validated_data["file"].size
        if size > settings.UPLOAD_MAX_BYTES:
            raise PayloadTooLarge(too_large_message(size, settings.UPLOAD_MAX_BYTES))
        job = services.upload_create(
            actor=request.user,
            uploaded_file=form.validated_data["file"],
            approve=form.validated_data["approve"],
            source="api",
        )
        body = UploadDetailOut(job, context=self.get_serializer_context()).data
        return Response(
            body, status=status.HTTP_202_ACCEPTED, headers={"Location": str(body["url"])}
        )

    @extend_schema(
        summary="The upload's row errors as CSV",
        description="全部错误行（every invalid row: line, column, value, reason）。",
        responses={200: OpenApiResponse(OpenApiTypes.STR, description="CSV (UTF-8 with BOM)")},
    )
    @action(detail=True, methods=["get"], url_path="errors", renderer_classes=[CSVRenderer])
    def errors(self, request, pk=None):
        job = self.get_object()
        response = Response(services.upload_errors_csv(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="upload-{job.pk}-errors.csv"'
        return response
