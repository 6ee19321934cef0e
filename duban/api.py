"""/api/v1/tasks/ and /api/v1/instructions/ (SPEC §7): 督办 tasks, their transitions and
progress reports with multipart evidence, and leaders' instructions with replies. Scoped by the
one rule in the queryset; an illegal transition is a 409, a move the caller may not make a 403,
a missing reason or evidence a 400, each in the API's error shape."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse

from core.api import ApiViewMixin, Conflict
from core.filtersets import FilterSet, YesNoFilter
from districts.models import OrgUnit
from targets.models import Goal, Indicator, Plan

from . import rules, selectors, services
from .models import Evidence, Instruction, InstructionReply, Task, TaskProgressReport


class RefusedMove(Conflict):
    default_detail = "不能从当前状态办理该操作（illegal transition）"
    default_code = "illegal_transition"


def _call(fn, **kwargs):
    """Run a service; an illegal move becomes the API's 409."""
    try:
        return fn(**kwargs)
    except services.TransitionRefused as exc:
        if exc.code == rules.ILLEGAL:
            raise RefusedMove(exc.message_text) from None
        raise


# --- output ------------------------------------------------------------------------------------


class EvidenceOut(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()
    preview_url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = ["id", "original_name", "kind", "content_type", "size", "sha256",
                  "created_at", "download_url", "preview_url"]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, row: Evidence) -> str:
        return reverse(
            "duban:evidence_download", args=[row.pk], request=self.context.get("request")
        )

    def get_preview_url(self, row: Evidence) -> str | None:
        if not row.previewable:
            return None
        return reverse("duban:evidence_preview", args=[row.pk], request=self.context.get("request"))


class ProgressReportOut(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True, allow_null=True)
    evidence = EvidenceOut(many=True, read_only=True)

    class Meta:
        model = TaskProgressReport
        fields = ["id", "reported_on", "text", "percent", "is_feedback", "author", "created_at",
                  "evidence"]  # fmt: skip
        read_only_fields = fields


class TransitionOut(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor.username", allow_null=True)
    source = serializers.CharField(help_text="空 = 交办（empty for the assignment）")
    target = serializers.CharField()
    note = serializers.CharField()


class StepOut(serializers.Serializer):
    id = serializers.IntegerField()
    title_zh = serializers.CharField()
    title_en = serializers.CharField()
    due = serializers.DateField()
    done_on = serializers.DateField(allow_null=True)


class TaskOut(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:task-detail", read_only=True)
    plan = serializers.CharField(source="plan.code", read_only=True)
    indicator = serializers.CharField(source="indicator.code", read_only=True, allow_null=True)
    lead_unit = serializers.CharField(source="lead_unit.code", read_only=True, allow_null=True)
    assignees = serializers.SerializerMethodField()
    lamp = serializers.SerializerMethodField()
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = Task
        fields = ["id", "url", "plan", "indicator", "clause", "quote", "title_zh", "title_en",
                  "lead_unit", "lead_department_code", "assignees", "deadline", "state", "lamp",
                  "closed_on", "created_by", "created_at"]  # fmt: skip
        read_only_fields = fields

    def get_assignees(self, task: Task) -> list[str]:
        return sorted(u.code for u in task.assignees.all())

    @extend_schema_field(serializers.ChoiceField(choices=list(rules.LAMPS)))
    def get_lamp(self, task: Task) -> str:
        """green / yellow / red today (Asia/Shanghai)."""
        return selectors.lamp_of(task, self.context.get("as_of") or selectors.today())


class TaskDetailOut(TaskOut):
    steps = StepOut(many=True, read_only=True)
    transitions = TransitionOut(many=True, read_only=True)
    progress_reports = ProgressReportOut(many=True, read_only=True)
    allowed_transitions = serializers.SerializerMethodField()

    class Meta(TaskOut.Meta):
        fields = [*TaskOut.Meta.fields, "steps", "transitions", "progress_reports",
                  "allowed_transitions"]  # fmt: skip
        read_only_fields = fields

    def get_allowed_transitions(self, task: Task) -> list[str]:
        """The states the caller may move this task to now."""
        request = self.context.get("request")
        parties = services.parties_of(request.user, task) if request else set()
        return [m.target for m in rules.moves_for(task.state, parties)]


# --- input -------------------------------------------------------------------------------------


class StepIn(serializers.Serializer):
    title_zh = serializers.CharField(max_length=300)
    title_en = serializers.CharField(max_length=300, required=False, default="")
    due = serializers.DateField()


class TaskIn(serializers.Serializer):
    plan = serializers.SlugRelatedField(slug_field="code", queryset=Plan.objects.all())
    indicator = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Indicator.objects.filter(kind="milestone"),
        required=False,
        allow_null=True,
        help_text="里程碑指标代码（a milestone indicator's code）",
    )
    goal = serializers.CharField(required=False, default="", help_text="条款代码（goal code）")
    clause = serializers.CharField(max_length=60, required=False, default="")
    quote = serializers.CharField(required=False, default="")
    title_zh = serializers.CharField(max_length=300)
    title_en = serializers.CharField(max_length=300, required=False, default="")
    lead_unit = serializers.SlugRelatedField(
        slug_field="code", queryset=OrgUnit.objects.all(), required=False, allow_null=True
    )
    assignees = serializers.SlugRelatedField(
        slug_field="code", queryset=OrgUnit.objects.all(), many=True, allow_empty=False
    )
    deadline = serializers.DateField()
    steps = StepIn(many=True, required=False, default=list)
    note = serializers.CharField(required=False, default="", allow_blank=True)


class TransitionIn(serializers.Serializer):
    to = serializers.ChoiceField(choices=list(rules.STATES))
    note = serializers.CharField(required=False, default="", allow_blank=True)
    evidence = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text="反馈办结时必传（required when reporting done）; multipart",
    )


class ProgressReportIn(serializers.Serializer):
    text = serializers.CharField()
    reported_on = serializers.DateField(required=False, allow_null=True, default=None)
    percent = serializers.IntegerField(
        min_value=0, max_value=100, required=False, allow_null=True, default=None
    )
    evidence = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class TaskFilterSet(FilterSet):
    state = django_filters.ChoiceFilter(choices=[(s, s) for s in rules.STATES])
    plan = django_filters.CharFilter(field_name="plan__code")
    unit = django_filters.CharFilter(
        method="filter_unit", help_text="牵头或承办单位代码（及其下级）"
    )

    class Meta:
        model = Task
        fields = ["state", "plan", "unit"]

    def filter_unit(self, queryset, name, value):
        unit = OrgUnit.objects.filter(code=value).first()
        if unit is None:
            return queryset.none()
        return queryset.filter(
            Q(lead_unit__path__startswith=unit.path)
            | Q(pk__in=Task.objects.filter(assignees__path__startswith=unit.path).values("pk"))
        )


@extend_schema_view(
    list=extend_schema(summary="督办事项 in your scope", description="您范围内的督办事项及灯号。"),
    retrieve=extend_schema(summary="One task with steps, transitions and progress"),
    create=extend_schema(
        summary="Assign a task (交办)",
        description="领导或审核员交办；范围须覆盖全部单位（leaders and reviewers in scope).",
        request=TaskIn,
        responses={201: TaskDetailOut},
    ),
)
class TaskViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    # Any path segment reaches the view, so a malformed id is the API's JSON 404 rather than
    # the catch-all route (which a POST without a CSRF cookie meets as Django's HTML 403).
    lookup_value_regex = r"[^/]+"
    filterset_class = TaskFilterSet
    output_serializer_class = TaskOut
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Task.objects.none()
        return (
            selectors.tasks_visible(self.request.user)
            .select_related("plan", "indicator", "lead_unit", "created_by")
            .prefetch_related(
                "steps",
                "assignees",
                "transitions__actor",
                "progress_reports__evidence",
                "progress_reports__author",
            )
            .order_by("deadline", "id")
        )

    def get_serializer_class(self):
        return {"retrieve": TaskDetailOut, "create": TaskIn}.get(self.action, TaskOut)

    def create(self, request, *args, **kwargs):
        form = TaskIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        goal = None
        if data["goal"]:
            goal = Goal.objects.filter(plan=data["plan"], code=data["goal"]).first()
            if goal is None:
                raise exceptions.ValidationError({"goal": ["该规划没有此条款（no such goal)"]})
        task = services.task_assign(
            actor=request.user,
            plan=data["plan"],
            indicator=data.get("indicator"),
            goal=goal,
            clause=data["clause"],
            quote=data["quote"],
            title_zh=data["title_zh"],
            title_en=data["title_en"],
            lead_unit=data.get("lead_unit"),
            assignees=data["assignees"],
            deadline=data["deadline"],
            steps=[services.StepIn(**s) for s in data["steps"]],
            note=data["note"],
        )
        return self._detail(task, status.HTTP_201_CREATED)

    def _detail(self, task: Task, code: int = status.HTTP_200_OK) -> Response:
        task = self.get_queryset().get(pk=task.pk)
        return Response(
            TaskDetailOut(task, context=self.get_serializer_context()).data, status=code
        )

    @extend_schema(
        summary="Move a task (签收、开始办理、反馈、办结、退回)",
        description="`to`: acknowledged / in_progress / reported (with `evidence` files, "
        "multipart) / closed / in_progress (return, `note` required). 非法流转 409，无权 403，"
        "缺少原因或材料 400。",
        request={"multipart/form-data": TransitionIn, "application/json": TransitionIn},
        responses={200: TaskDetailOut},
    )
    @action(detail=True, methods=["post"], url_path="transitions")
    def transitions(self, request, pk=None):
        task = self.get_object()
        form = TransitionIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        _call(
            services.task_transition,
            actor=request.user,
            task=task,
            to=data["to"],
            note=data["note"],
            files=data["evidence"],
            source="api",
        )
        return self._detail(task)

    @extend_schema(
        summary="Add a dated progress report (办理进展) with evidence",
        request={"multipart/form-data": ProgressReportIn, "application/json": ProgressReportIn},
        responses={201: ProgressReportOut},
    )
    @action(detail=True, methods=["post"], url_path="progress-reports")
    def progress_reports(self, request, pk=None):
        task = self.get_object()
        form = ProgressReportIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        report = _call(
            services.progress_report_add,
            actor=request.user,
            task=task,
            text=data["text"],
            reported_on=data["reported_on"],
            percent=data["percent"],
            files=data["evidence"],
        )
        body = ProgressReportOut(report, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


# --- instructions ------------------------------------------------------------------------------


class ReplyOut(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True, allow_null=True)
    evidence = EvidenceOut(many=True, read_only=True)

    class Meta:
        model = InstructionReply
        fields = ["id", "text", "author", "created_at", "evidence"]
        read_only_fields = fields


class InstructionOut(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True, allow_null=True)
    addressee = serializers.CharField(source="addressee.code", read_only=True)
    unit = serializers.CharField(source="unit.code", read_only=True, allow_null=True)
    indicator = serializers.CharField(source="indicator.code", read_only=True, allow_null=True)
    replies = ReplyOut(many=True, read_only=True)

    class Meta:
        model = Instruction
        fields = ["id", "text", "author", "task", "indicator", "unit", "addressee",
                  "addressee_department_code", "done", "done_at", "created_at", "replies"]  # fmt: skip
        read_only_fields = fields


class InstructionIn(serializers.Serializer):
    text = serializers.CharField()
    addressee = serializers.SlugRelatedField(slug_field="code", queryset=OrgUnit.objects.all())
    task = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    indicator = serializers.SlugRelatedField(
        slug_field="code", queryset=Indicator.objects.all(), required=False, allow_null=True
    )
    unit = serializers.SlugRelatedField(
        slug_field="code", queryset=OrgUnit.objects.all(), required=False, allow_null=True
    )


class ReplyIn(serializers.Serializer):
    text = serializers.CharField()
    done = serializers.BooleanField(required=False, default=False)
    evidence = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class InstructionFilterSet(FilterSet):
    # true / false only: django-filter's BooleanFilter reads anything else as "no filter"
    done = YesNoFilter(method="filter_done", help_text="true / false")
    task = django_filters.NumberFilter(field_name="task_id")

    class Meta:
        model = Instruction
        fields = ["done", "task"]

    def filter_done(self, queryset, name, value):
        return queryset.filter(done=value == "true")


@extend_schema_view(
    list=extend_schema(summary="Instructions (批示) in your scope, with replies"),
    retrieve=extend_schema(summary="One instruction with its replies"),
    create=extend_schema(
        summary="Write an instruction (leaders)",
        description="领导对事项、或某单位（及其指标）作出批示，指定承办单位。",
        request=InstructionIn,
        responses={201: InstructionOut},
    ),
)
class InstructionViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_regex = r"[^/]+"  # as TaskViewSet
    filterset_class = InstructionFilterSet
    output_serializer_class = InstructionOut
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Instruction.objects.none()
        return selectors.instructions_visible(self.request.user).order_by("-created_at", "-id")

    def get_serializer_class(self):
        return InstructionIn if self.action == "create" else InstructionOut

    def create(self, request, *args, **kwargs):
        form = InstructionIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        task = None
        if data["task"] is not None:
            task = selectors.tasks_visible(request.user).filter(pk=data["task"]).first()
            if task is None:
                raise exceptions.ValidationError({"task": ["不存在或不在您的范围内（not found）"]})
        instruction = services.instruction_create(
            actor=request.user,
            text=data["text"],
            addressee=data["addressee"],
            task=task,
            indicator=data.get("indicator"),
            unit=data.get("unit"),
        )
        instruction = self.get_queryset().get(pk=instruction.pk)
        body = InstructionOut(instruction, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Reply to an instruction (the addressed unit), optionally marking it done",
        request={"multipart/form-data": ReplyIn, "application/json": ReplyIn},
        responses={201: ReplyOut},
    )
    @action(detail=True, methods=["post"], url_path="replies")
    def replies(self, request, pk=None):
        instruction = self.get_object()
        form = ReplyIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        reply = services.instruction_reply(
            actor=request.user,
            instruction=instruction,
            text=data["text"],
            files=data["evidence"],
            mark_done=data["done"],
        )
        body = ReplyOut(reply, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)
