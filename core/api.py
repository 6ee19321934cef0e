"""API conventions shared by every endpoint of /api/v1/ (SPEC §4.5).

- Pagination: page-number pages of 100 rows, ``?page_size=`` up to 1000. The lists that grow
  with the data (progress, data values) also take ``?cursor=`` (keyset pages) and count only
  on the first page or with ``?count=true`` (:class:`ScalablePagination`).
- Formats: JSON by default; ``?format=csv`` (or ``Accept: text/csv``) renders the same rows as
  CSV with spreadsheet-formula injection neutralised. A CSV list without ``?page=`` or
  ``?page_size=`` is the whole filtered list, streamed, so ``curl …&format=csv`` returns every
  row the caller may see; with either parameter it is that one page.
- Errors: one shape everywhere, ``{"detail", "code", "request_id", "errors"}``; ``errors`` holds
  the field-level messages of a 400. The request id is a uuid4, also sent as ``X-Request-ID`` on
  every response of the API, and logged with every server error, so a client's report can be
  matched with the server log.
- Throttling: token clients (other systems, scripts) get ``API_THROTTLE_RATE`` requests per
  window (default 10000/hour), counted in the default cache (Redis, shared by every web
  process, when configured); the web UI's session requests are not throttled.
- Size: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (env ``API_MAX_BODY_BYTES``), or a multipart
  upload over ``UPLOAD_MAX_BYTES``, is a 413 before it is read.
- Writes: a PATCH must carry the version it read (``version`` or ``If-Match``), else 428.
- Schema: :class:`TrackerAutoSchema` adds the ``format`` parameter, the error responses and the
  ``X-Request-ID`` header to every operation, so the OpenAPI document lists what really comes back.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import logging
import math
import time
import uuid
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, renderers, serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.exporting import safe_cell

logger = logging.getLogger("tracker.api")

REQUEST_ID_HEADER = "X-Request-ID"


class Pagination(PageNumberPagination):
    """``?page=`` (from 1) and ``?page_size=`` (1–1000, default 100). A page size outside that
    range, or a page that is not a number, is a 400 rather than silently the default, so a
    client always gets what it asked for; a page past the last one is a 404."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"须为 1–{self.max_page_size} 的整数（an integer "
                                              f"from 1 to {self.max_page_size}）"]}
            )  # fmt: skip
        return int(raw)

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and not (raw.isascii() and raw.isdigit()):
            raise exceptions.ValidationError(
                {self.page_query_param: ["页码须为正整数（a page number from 1）"]}
            )
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.page_query_param:
                param["schema"]["minimum"] = 1
                param["description"] = "页码，从 1 开始（page number, from 1）"
            elif param["name"] == self.page_size_query_param:
                param["schema"].update(minimum=1, maximum=self.max_page_size)
                param["description"] = (
                    f"每页行数，默认 {self.page_size}（rows per page, 1–{self.max_page_size})"
                )
        return params


def _yes(raw: str | None, name: str) -> bool | None:
    if raw is None:
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise exceptions.ValidationError({name: ["须为 true 或 false（true or false）"]})


def encode_cursor(ordering: str, values, *, backwards: bool = False) -> str:
    """The opaque ``cursor`` of a keyset page: the ordering, the sort key of the row the page
    starts after (or, ``backwards``, before), as URL-safe base64 of a small JSON object."""
    payload = json.dumps(
        {"o": ordering, "k": [None if v is None else str(v) for v in values], "b": backwards},
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> dict:
    """:func:`encode_cursor` undone (``ValueError`` and friends on anything malformed)."""
    padded = token + "=" * (-len(token) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


MAX_OFFSET = 2**62
"""Beyond any list's last row: a page number past it is a 404 without asking the database."""


class ScalablePagination(Pagination):
    """Pagination of the lists that grow with the data (progress, data values): what
    :class:`Pagination` does, in one of two modes, and without a full count on every page.

    - Page numbers (``?page=``, as before): the page is read with one row more than it shows, to
      know whether there is a next one; ``count`` is given on the first page and, on later
      pages, only with ``?count=true`` (else ``null``). A page past the last is a 404.
    - Keyset (``?cursor=``, DRF CursorPagination's semantics): start with an empty ``cursor=``
      and follow ``next``/``previous``, opaque links that hold the last row's sort key. Each page
      costs the same however deep it is and however many rows the scope holds: the database
      walks an index from the key (``WHERE (a, b) > (…) ORDER BY a, b LIMIT n``). Only the
      orderings a view lists in ``keyset_orderings`` (each served by an index) are allowed;
      ``count`` as in page mode (on the first page, or with ``?count=true``; ``?count=false``
      leaves it out of the first page too).
    """

    cursor_query_param = "cursor"
    count_query_param = "count"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.size = self.get_page_size(request)
        self.want_count = _yes(request.query_params.get(self.count_query_param), "count")
        self.base_url = request.build_absolute_uri()
        self.next_url = self.previous_url = None
        if self.cursor_query_param in request.query_params:
            return self._keyset(queryset, request, view)
        raw = request.query_params.get(self.page_query_param) or "1"
        if not (raw.isascii() and raw.isdigit()):
            raise exceptions.ValidationError(
                {self.page_query_param: ["页码须为正整数（a page number from 1）"]}
            )
        number = int(raw)
        offset = (number - 1) * self.size
        if number < 1 or offset > MAX_OFFSET:  # past any last page (and a bigint's range)
            raise exceptions.NotFound()
        rows = list(queryset[offset : offset + self.size + 1])
        more = len(rows) > self.size
        rows = rows[: self.size]
        if number > 1 and not rows:
            raise exceptions.NotFound()
        self.count = self._count(queryset, first=number == 1, shown=len(rows), more=more)
        if more:
            self.next_url = replace_query_param(self.base_url, self.page_query_param, number + 1)
        if number == 2:
            self.previous_url = remove_query_param(self.base_url, self.page_query_param)
        elif number > 2:
            self.previous_url = replace_query_param(
                self.base_url, self.page_query_param, number - 1
            )
        return rows

    def _count(self, queryset, *, first: bool, shown: int, more: bool) -> int | None:
        if self.want_count is False or (not first and not self.want_count):
            return None
        return shown if first and not more else queryset.count()

    # --- keyset ---

    def _keyset(self, queryset, request, view):
        orderings = getattr(view, "keyset_orderings", {})
        ordering = request.query_params.get("ordering", "")
        descending = ordering.startswith("-")
        keys = orderings.get(ordering.removeprefix("-"))
        if keys is None:
            allowed = ", ".join(
                f"{name}, -{name}" if name else "(none)" for name in orderings
            )  # fmt: skip
            raise exceptions.ValidationError(
                {"ordering": [f"cursor 分页只支持这些排序：{allowed}（with cursor, ordering may "
                              f"only be one of: {allowed}）"]}
            )  # fmt: skip
        token = request.query_params.get(self.cursor_query_param)
        position, backwards = self._decode(token, ordering, keys, queryset.model)
        down = descending != backwards  # walking towards smaller keys
        page = queryset.order_by(*[f"-{k}" if down else k for k in keys])
        if position is not None:
            from django.db.models import F
            from django.db.models.fields.tuple_lookups import (
                Tuple,
                TupleGreaterThan,
                TupleLessThan,
            )

            columns = Tuple(*[F(k) for k in keys])
            page = page.filter((TupleLessThan if down else TupleGreaterThan)(columns, position))
        rows = list(page[: self.size + 1])
        more = len(rows) > self.size
        rows = rows[: self.size]
        if backwards:
            rows.reverse()
        self.count = self._count(queryset, first=position is None, shown=len(rows), more=more)
        if rows:
            has_next, has_previous = (True, more) if backwards else (more, position is not None)
            if has_next:
                self.next_url = self._link(ordering, keys, rows[-1], backwards=False)
            if has_previous:
                self.previous_url = self._link(ordering, keys, rows[0], backwards=True)
        return rows

    def _link(self, ordering: str, keys, row, *, backwards: bool) -> str:
        values = [row[k] if isinstance(row, dict) else getattr(row, k) for k in keys]
        token = encode_cursor(ordering, values, backwards=backwards)
        url = remove_query_param(self.base_url, self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, token)

    def _decode(self, token: str | None, ordering: str, keys, model):
        if not token:
            return None, False
        invalid = exceptions.ValidationError(
            {self.cursor_query_param: ["cursor 无效：请从 next/previous 链接取用（invalid cursor: "
                                       "use the next or previous link as given）"]}
        )  # fmt: skip
        try:
            data = decode_cursor(token)
            if data["o"] != ordering or len(data["k"]) != len(keys):
                raise ValueError("cursor of another ordering")
            fields = [model._meta.get_field(k) for k in keys]
            values = tuple(f.to_python(v) for f, v in zip(fields, data["k"], strict=True))
        except Exception:  # any malformed token: one clear 400
            raise invalid from None
        if any(v is None for v in values):
            raise invalid
        return values, bool(data.get("b"))

    def get_paginated_response(self, data):
        return Response(
            {"count": self.count, "next": self.next_url, "previous": self.previous_url,
             "results": data}
        )  # fmt: skip

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"].update(
            nullable=True,
            description="匹配的行数：仅第一页或 count=true 时给出（rows matched: on the first "
            "page, or with count=true; otherwise null）",
        )
        return response

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        orderings = getattr(view, "keyset_orderings", {})
        allowed = ", ".join(f"`{n}`, `-{n}`" if n else "none" for n in orderings)
        params += [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "键集分页：首页用空值 `cursor=`，之后跟随 next/previous（keyset "
                "pagination: start with an empty `cursor=`, then follow `next`/`previous`; "
                f"every page costs the same at any depth). Orderings allowed with it: {allowed}.",
                "schema": {"type": "string"},
            },
            {
                "name": self.count_query_param,
                "required": False,
                "in": "query",
                "description": "是否计算总行数（give `count`: by default only on the first page; "
                "`true` on every page, `false` on none）",
                "schema": {"type": "boolean"},
            },
        ]
        return params


# --- request ids ---------------------------------------------------------------------------


def request_id(request) -> str:
    """The id of this request: a uuid4 made on first use and kept on the Django request."""
    django_request = getattr(request, "_request", request)
    rid = getattr(django_request, "tracker_request_id", None)
    if rid is None:
        rid = str(uuid.uuid4())
        django_request.tracker_request_id = rid
    return rid


class ApiViewMixin:
    """What every /api/v1/ view shares: the request id header and CSV lists.

    ``output_serializer_class`` names the serializer a list renders; its fields are the CSV
    columns, so an empty CSV list still has its header line.
    """

    output_serializer_class: type[serializers.Serializer] | None = None

    def initial(self, request, *args, **kwargs):
        # Before authentication: a session client's CSRF check reads (parses) the body.
        refuse_large_body(request)
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if REQUEST_ID_HEADER not in response:
            response[REQUEST_ID_HEADER] = request_id(request)
        return response

    def csv_columns(self) -> list[str]:
        serializer_class = self.output_serializer_class or self.get_serializer_class()
        return list(serializer_class().fields)

    def wants_whole_csv(self, request) -> bool:
        renderer = getattr(request, "accepted_renderer", None)
        return (
            getattr(renderer, "format", None) == "csv"
            and "page" not in request.query_params
            and "page_size" not in request.query_params
            and "cursor" not in request.query_params
        )

    def stream_csv(self, queryset, serializer_class) -> StreamingHttpResponse:
        """Every row of ``queryset`` as CSV, a chunk of rows at a time."""
        columns = self.csv_columns()
        context = self.get_serializer_context()

        def rows() -> Iterator[dict]:
            serializer = serializer_class(context=context)  # one, not one per row
            for instance in queryset.iterator(chunk_size=2000):
                yield serializer.to_representation(instance)

        response = StreamingHttpResponse(
            csv_lines(columns, rows()), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{self.csv_filename()}"'
        return response

    def csv_filename(self) -> str:
        return f"{getattr(self, 'basename', None) or 'export'}.csv"

    def list(self, request, *args, **kwargs):
        if self.wants_whole_csv(request):
            queryset = self.filter_queryset(self.get_queryset())
            return self.stream_csv(
                queryset, self.output_serializer_class or self.get_serializer_class()
            )
        return super().list(request, *args, **kwargs)


MULTIPART_SLACK = 64 * 1024
"""Room for a multipart body's boundaries and small fields on top of the file it carries."""


def body_limit(request) -> int | None:
    """The most bytes a request body may have: ``UPLOAD_MAX_BYTES`` (and the form around it)
    for a multipart upload, ``DATA_UPLOAD_MAX_MEMORY_SIZE`` for anything else (JSON)."""
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("multipart/"):
        return settings.UPLOAD_MAX_BYTES + MULTIPART_SLACK
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def refuse_large_body(request) -> None:
    """413 for a body over :func:`body_limit` by its ``Content-Length``, before a byte of it is
    read (a body without one is cut at its limit by Django as it is read)."""
    limit = body_limit(request)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if limit is not None and length > limit:
        raise PayloadTooLarge(too_large_message(length, limit))


def too_large_message(size: int, limit: int) -> str:
    shown = f"{limit / 1048576:.3g} MB"
    return (
        f"请求体或文件过大：{size} 字节，上限 {limit} 字节（{shown}）"
        f"（too large: {size} bytes, the limit is {limit} bytes, {shown}）"
    )


def not_found(request, *args, **kwargs):
    """Any other path under /api/v1/: the API's JSON 404, not Django's HTML page."""
    from django.http import JsonResponse

    rid = request_id(request)
    response = JsonResponse(
        {"detail": NOT_FOUND, "code": "not_found", "request_id": rid}, status=404
    )
    response[REQUEST_ID_HEADER] = rid
    return response


# --- fields --------------------------------------------------------------------------------


class DecimalNumberField(serializers.DecimalField):
    """A stored Decimal as an exact-looking JSON number: ``12`` not ``"12.000000"``, ``0.5``
    not ``"0.500000"`` — the same numbers ``export_progress --format json`` writes."""

    def __init__(self, *, max_digits: int = 24, decimal_places: int = 6, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(
            max_digits=max_digits, decimal_places=decimal_places, coerce_to_string=False, **kwargs
        )

    def to_representation(self, value):
        return plain_number(value)


def plain_number(value):
    """``Decimal("12.000000")`` → ``12``, ``Decimal("0.500000")`` → ``0.5``, ``None`` → ``None``."""
    if value is None:
        return None
    normal = Decimal(value).normalize()
    return int(normal) if normal == normal.to_integral_value() else float(normal)


def finite_float(value):
    """A float JSON can carry: NaN and ±infinity become ``None``."""
    return None if value is None or not math.isfinite(value) else float(value)


class FiniteFloatField(serializers.FloatField):
    """A float that JSON can carry: NaN and ±infinity (which PostgreSQL stores) become null."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return finite_float(value)


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A choice stored as ``""`` when it does not apply, shown as ``null``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return None if value in ("", None) else super().to_representation(value)


class BlankAsNullCharField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return None if value in ("", None) else str(value)


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's, except that an empty ``?format=`` is refused like an unknown one (a 404) instead
    of quietly meaning JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if request.query_params.get(self.settings.URL_FORMAT_OVERRIDE, None) == "":
            raise Http404("unknown format")
        return super().select_renderer(request, renderers, format_suffix)


# --- CSV -----------------------------------------------------------------------------------


def csv_cell(value):
    """One value as a CSV cell: numbers stay numbers, text is made formula-safe, nested
    structures become JSON text (also made formula-safe)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, dict) or (
        isinstance(value, list | tuple) and any(isinstance(v, dict | list) for v in value)
    ):
        return safe_cell(json.dumps(value, ensure_ascii=False, default=str))
    return safe_cell(value)


def csv_lines(columns: list[str], rows: Iterable[dict]) -> Iterator[str]:
    """The header and then one CSV line per row, as text chunks for a streaming response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for count, row in enumerate(rows, 1):
        writer.writerow([csv_cell(row.get(c)) for c in columns])
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


class CSVRenderer(renderers.BaseRenderer):
    """``?format=csv``: a page of a list, or one object, as CSV (UTF-8, header line first).

    Errors are not data: a 4xx/5xx body is rendered as JSON (and labelled so) even when CSV was
    asked for, so a client sees the same error shape whatever the format.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        context = renderer_context or {}
        response = context.get("response")
        if isinstance(data, bytes):
            return data
        if response is not None and response.status_code >= 400:
            response["Content-Type"] = "application/json"
            return renderers.JSONRenderer().render(data, "application/json", context)
        if data is None:
            return b""
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            rows = data["results"]
        elif isinstance(data, list):
            rows = data
        else:
            rows = [data]
        view = context.get("view")
        if rows:
            columns = list(rows[0])
        elif view is not None and hasattr(view, "csv_columns"):
            columns = view.csv_columns()
        else:
            columns = []
        if response is not None and view is not None and hasattr(view, "csv_filename"):
            response["Content-Disposition"] = f'attachment; filename="{view.csv_filename()}"'
        return "".join(csv_lines(columns, rows)).encode("utf-8")


# --- errors --------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    detail = serializers.CharField(help_text="What went wrong, Chinese first, English in brackets.")
    code = serializers.CharField(
        help_text="A stable machine-readable code: invalid, not_authenticated, permission_denied, "
        "not_found, conflict, precondition_failed, throttled, …"
    )
    request_id = serializers.UUIDField(help_text="Also sent as the X-Request-ID header.")


class ValidationErrorSerializer(ErrorSerializer):
    """A 400: ``errors`` maps each input field (or ``non_field_errors``) to its messages."""

    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field name → messages; `non_field_errors` for the request as a whole.",
    )


def _flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"field": ["message", …]}`` (``a.b`` for nested)."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in _flatten_errors(value, name).items():
                flat.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            flat[prefix or api_settings.NON_FIELD_ERRORS_KEY] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                name = f"{prefix}.{index}" if prefix else str(index)
                for k, v in _flatten_errors(item, name).items():
                    flat.setdefault(k, []).extend(v)
    else:
        flat[prefix or api_settings.NON_FIELD_ERRORS_KEY] = [str(detail)]
    return flat


def _from_django_validation_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        detail = {
            (api_settings.NON_FIELD_ERRORS_KEY if k == "__all__" else k): v
            for k, v in exc.message_dict.items()
        }
    else:
        detail = {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
    return exceptions.ValidationError(detail)


NOT_FOUND = "不存在或不在您的范围内（not found）"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "数据已被他人修改，请刷新后重试（the resource changed since you read it）"
    default_code = "conflict"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "请带上读取时的版本：请求体 version 或 If-Match 头（send the version you read, as "
        "`version` in the body or an `If-Match` header）"
    )
    default_code = "precondition_required"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "请求体过大（request body too large）"
    default_code = "payload_too_large"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "If-Match 与当前版本不符（the If-Match version is not the current one）"
    default_code = "precondition_failed"


def exception_handler(exc, context):
    """DRF's handler, plus: services' Django ValidationErrors become 400s with field messages,
    every body gets the one error shape with the request id, and an unexpected exception is
    logged with that id and answered with a JSON 500 (in production; DEBUG shows the page)."""
    from rest_framework.views import exception_handler as drf_handler
    from rest_framework.views import set_rollback

    request = context.get("request")
    rid = request_id(request) if request is not None else str(uuid.uuid4())
    if isinstance(exc, DjangoValidationError):
        exc = _from_django_validation_error(exc)
    elif isinstance(exc, RequestDataTooBig):
        # Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE) met while reading the body.
        exc = PayloadTooLarge()
    response = drf_handler(exc, context)
    if response is None:
        if settings.DEBUG:
            return None
        logger.exception("unhandled API error (request_id=%s)", rid, exc_info=exc)
        set_rollback()
        response = Response(
            {
                "detail": "服务器内部错误（server error）",
                "code": "server_error",
                "request_id": rid,
            },
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    else:
        response.data = _error_body(exc, response.data, rid)
    response[REQUEST_ID_HEADER] = rid
    return response


def _error_body(exc, data, rid: str) -> dict:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if isinstance(exc, exceptions.ValidationError):
        return {
            "detail": "输入有误（invalid input）",
            "code": "invalid",
            "request_id": rid,
            "errors": _flatten_errors(data),
        }
    if isinstance(exc, exceptions.ParseError):  # a 400 too: same shape as any other
        detail = str(data.get("detail", "")) if isinstance(data, dict) else str(data)
        return {
            "detail": detail,
            "code": "parse_error",
            "request_id": rid,
            "errors": {api_settings.NON_FIELD_ERRORS_KEY: [detail]},
        }
    if isinstance(exc, exceptions.NotFound):
        # One answer for "no such object" and "not in your scope": a 404 must not tell them apart.
        return {"detail": NOT_FOUND, "code": "not_found", "request_id": rid}
    detail = data.get("detail", "") if isinstance(data, dict) else data
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    return {"detail": str(detail), "code": code, "request_id": rid}


# --- throttling ----------------------------------------------------------------------------


def _throttle_cache():
    """The default cache: Redis, shared by every web process, when the deployment has it
    (settings.CACHES); one process's memory in the quick start."""
    return caches["default"]


def _redis_count(cache, key: str, ttl: int) -> int | None:
    """On Redis, one round trip (``SET NX EX`` and ``INCR`` in a pipeline) instead of the three
    of Django's ``add`` then ``incr`` (which checks ``EXISTS`` first); ``None`` elsewhere."""
    from django.core.cache.backends.redis import RedisCache

    if not isinstance(cache, RedisCache):
        return None
    name = cache.make_and_validate_key(key)
    pipe = cache._cache.get_client(name, write=True).pipeline()
    pipe.set(name, 0, ex=ttl, nx=True)
    pipe.incr(name)
    return int(pipe.execute()[-1])


def _cache_count(cache, key: str, ttl: int) -> int:
    if cache.add(key, 1, ttl):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, ttl)
        return 1


_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10000/hour"`` → ``(10000, 3600)``."""
    count, _, period = rate.partition("/")
    return int(count), _PERIOD_SECONDS[period.strip()[0].lower()]


class TokenRateThrottle(BaseThrottle):
    """Requests per window for token-authenticated clients (``API_THROTTLE_RATE``).

    A fixed-window counter (one INCR per request) rather than DRF's sliding window, which
    stores and rewrites the timestamp of every request in the window — 10,000 of them at the
    default rate. A window may see up to twice the rate across its boundary; for a guard
    against runaway scripts that is fine. Counters are keyed by a hash of the token, never the
    token itself. If the cache is down, requests are let through: throttling must not take the
    API down with it.
    """

    scope = "token"

    def __init__(self):
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        self.num_requests, self.duration = parse_rate(rate) if rate else (None, None)
        self._wait = 0.0

    def allow_request(self, request, view) -> bool:
        if self.num_requests is None or not isinstance(
            request.successful_authenticator, TokenAuthentication
        ):
            return True
        now = time.time()
        window = int(now // self.duration)
        digest = hashlib.sha256(request.auth.key.encode()).hexdigest()[:32]
        key = f"{self.scope}:{digest}:{window}"
        cache = _throttle_cache()
        try:
            count = _redis_count(cache, key, self.duration + 5)
            if count is None:
                count = _cache_count(cache, key, self.duration + 5)
        except Exception:  # the throttle's cache failing must not fail the API
            logger.warning("API throttle cache unavailable; request let through", exc_info=True)
            return True
        if count <= self.num_requests:
            return True
        self._wait = (window + 1) * self.duration - now
        return False

    def wait(self) -> float | None:
        return math.ceil(self._wait) if self._wait else None


# --- schema --------------------------------------------------------------------------------

_ERROR_DESCRIPTIONS = {
    "400": "输入有误：`errors` 列出每个字段的问题（invalid input; field-level messages in `errors`）",
    "401": "未登录或令牌无效（no or invalid credentials: send `Authorization: Token …`）",
    "403": "无权执行（outside your scope, or your role does not allow it）",
    "404": "不存在或不在您的范围内（not found, or outside your scope; also an unknown page or format）",
    "406": "无法提供所要求的格式（cannot produce the requested Accept type）",
    "409": "版本冲突：数值已被他人修改（version conflict: the value changed since you read it）",
    "412": "If-Match 版本不符（If-Match does not match the current version）",
    "413": "请求体过大（request body, or uploaded file, over the configured limit）",
    "428": "须带版本：请求体 version 或 If-Match（send `version` or `If-Match`）",
    "415": "不支持的请求体类型（unsupported request body type）",
    "429": "请求过于频繁（throttled: see Retry-After）",
}


def _tracker_auto_schema():
    # Built on first use: drf_spectacular.openapi imports rest_framework.views, whose APIView
    # reads DEFAULT_RENDERER_CLASSES (this module's CSVRenderer) while it is being defined.
    from drf_spectacular.openapi import AutoSchema

    class TrackerAutoSchema(AutoSchema):
        """drf-spectacular's schema, plus what every endpoint of this API shares: the ``format``
        parameter on reads, the documented error responses, a plain-string CSV body, and the
        ``X-Request-ID`` response header."""

        def get_override_parameters(self):
            params = list(super().get_override_parameters())
            media_types = self.map_renderers("media_type")
            if self.method == "GET" and {"text/csv", "application/json"} <= set(media_types):
                params.append(
                    OpenApiParameter(
                        "format",
                        str,
                        OpenApiParameter.QUERY,
                        enum=["json", "csv"],
                        description="json (default) or csv. A CSV list without `page`/`page_size` "
                        "holds every matching row; with either, that page.",
                    )
                )
            params.append(
                OpenApiParameter(
                    REQUEST_ID_HEADER,
                    OpenApiTypes.UUID,
                    OpenApiParameter.HEADER,
                    response=True,
                    description="The request id, also in every error body.",
                )
            )
            return params

        def _error_codes(self) -> list[str]:
            # 404 everywhere: an unknown ?format= is one too (DRF's content negotiation).
            codes = ["401", "404", "406", "429"]
            action = getattr(self.view, "action", None)
            if self.method == "GET":
                codes += ["400"] if self._is_list_view() else []
            else:
                codes += ["400", "403", "413", "415"]
                codes += list(getattr(self.view, "extra_error_codes", {}).get(action, ()))
            return sorted(set(codes))

        def _get_response_bodies(self, direction="response"):
            responses = super()._get_response_bodies(direction)
            if direction != "response":
                return responses
            # OpenAPI links: where a response's id (and ETag) lead next, for clients and for
            # schemathesis' stateful runs. A view lists them by action: {status: {name: link}}.
            action = getattr(self.view, "action", None)
            for code, links in getattr(self.view, "response_links", {}).get(action, {}).items():
                if code in responses:
                    responses[code]["links"] = links
            for code in self._error_codes():
                if code in responses:
                    continue
                serializer = ValidationErrorSerializer if code == "400" else ErrorSerializer
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(serializer, description=_ERROR_DESCRIPTIONS[code]),
                    code,
                    media_types=["application/json"],
                )
            return responses

        def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):  # fmt: skip
            result = super()._get_response_for_code(serializer, status_code, media_types, direction)
            content = result.get("content")
            if content and "text/csv" in content:
                if str(status_code) >= "400":
                    del content["text/csv"]
                elif not content["text/csv"].get("schema", {}).get("format") == "binary":
                    content["text/csv"] = {
                        "schema": {"type": "string", "description": "CSV, header line first"}
                    }
            return result

    return TrackerAutoSchema


def __getattr__(name: str):
    """``TrackerAutoSchema`` (DEFAULT_SCHEMA_CLASS), made on first access (see above)."""
    if name == "TrackerAutoSchema":
        globals()[name] = schema_class = _tracker_auto_schema()
        return schema_class
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
