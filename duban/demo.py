"""督办 demo data (演示): Langxia's coordinator-team timeline as one task with its seven dated
steps, closed in 2013; Dongguan's milestone clauses and task clauses as tasks in every state
(deadlines set around today so the lamps show green, yellow and red), some with real PDF
evidence, one red with its 督办单, and leaders' instructions with replies.

Idempotent: a task is keyed by its plan and title and an instruction by its task and text; what
exists is left as it is. Actors are the demo users of ``seed_demo`` where they exist (the
leader, reviewer and officials of each city), else the first administrator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from districts.models import OrgUnit, RoleAssignment
from targets.models import Goal, Indicator, Plan

from . import rules, services
from .models import Instruction, Task
from .sheet import document_pdf

LANGXIA = "310116107"
DONGGUAN = "441900"
DEMO_NOTE = "（演示数据）"


@dataclass
class DemoSummary:
    created: int = 0
    existing: int = 0
    instructions: int = 0
    skipped: list[str] = field(default_factory=list)


def _admin():
    return get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("pk").first()


def _holder(role: str, unit: OrgUnit, *, below: bool = False):
    """A user holding ``role`` on ``unit`` or an ancestor (or, with ``below``, a descendant)."""
    codes = [c for c in unit.path.split("/") if c]
    qs = RoleAssignment.objects.filter(role=role).select_related("user", "org_unit")
    row = qs.filter(org_unit__code__in=codes).order_by("-org_unit__depth", "pk").first()
    if row is None and below:
        row = qs.filter(org_unit__path__startswith=unit.path).order_by("org_unit__path").first()
    return (row.user, row.org_unit) if row else (None, None)


def _pdf(title: str, lines: list[str]) -> tuple[str, bytes]:
    return (f"{title}.pdf", document_pdf(title + DEMO_NOTE, lines))


@transaction.atomic
def seed(*, today: date) -> DemoSummary:
    summary = DemoSummary()
    admin = _admin()
    _langxia(summary, admin)
    _dongguan(summary, admin, today)
    return summary


def _existing(plan: Plan, title: str) -> Task | None:
    return Task.objects.filter(plan=plan, title_zh=title).first()


def _langxia(summary: DemoSummary, admin) -> None:
    plan = Plan.objects.filter(code="langxia-2013-xgy").first()
    unit = OrgUnit.objects.filter(code=LANGXIA).first()
    if plan is None or unit is None:
        summary.skipped.append("langxia-2013-xgy (run seed_catalog)")
        return
    title = "调整完善“万人就业项目”协管员队伍"
    if _existing(plan, title):
        summary.existing += 1
        return
    reviewer = _holder(RoleAssignment.REVIEWER, unit)[0] or admin
    official = _holder(RoleAssignment.OFFICIAL, unit, below=True)[0] or admin
    if reviewer is None or official is None:
        summary.skipped.append("langxia: no reviewer/official nor administrator")
        return
    timeline = list(
        Indicator.objects.filter(plan=plan, code__startswith="lx.timeline.").order_by("deadline")
    )
    goal = Goal.objects.filter(plan=plan, code="五").first()
    task = services.task_assign(
        actor=reviewer,
        plan=plan,
        indicator=Indicator.objects.filter(code="lx.coordinators.exit_informal_orgs").first(),
        goal=goal,
        title_zh=title,
        title_en="Adjust the coordinator teams of the '10,000 Jobs Project'",
        quote="；".join(i.quote for i in timeline[:2]) if timeline else "",
        lead_unit=unit,
        assignees=[unit],
        deadline=date(2013, 12, 31),
        steps=[
            services.StepIn(title_zh=i.name_zh, title_en=i.name_en, due=i.deadline)
            for i in timeline
        ],
        note="按时间安排分步推进" + DEMO_NOTE,
    )
    services.task_transition(
        actor=official, task=task, to=rules.ACKNOWLEDGED, today=date(2013, 9, 16)
    )
    for step in task.steps.all():
        services.step_mark_done(actor=official, step=step, done_on=step.due - timedelta(days=1))
    services.progress_report_add(
        actor=official, task=task, reported_on=date(2013, 10, 31), percent=45,
        text="领导小组已成立，摸底调查完成，机构设置及人员配备方案已上报。" + DEMO_NOTE,
        files=[_pdf("廊下镇协管队伍摸底调查汇总", ["涉及协管队伍 9 支，摸底调查已完成。"])],
    )  # fmt: skip
    services.task_transition(
        actor=official, task=task, to=rules.REPORTED, today=date(2013, 12, 27),
        note="各工作站已登记注册，资料已归档并形成总结。" + DEMO_NOTE,
        files=[_pdf("廊下镇协管队伍调整完善工作总结", ["工作站登记注册完成，资料归档。"])],
    )  # fmt: skip
    services.task_transition(actor=reviewer, task=task, to=rules.CLOSED, today=date(2013, 12, 30))
    summary.created += 1


@dataclass(frozen=True)
class _Spec:
    """One Dongguan demo task: where it comes from, how far it gets, when it is due."""

    plan: str
    indicator: str | None
    goal: str | None
    title: str
    state: str
    due_in_days: int
    returned: bool = False
    evidence: bool = False


DONGGUAN_TASKS = [
    _Spec("dongguan-2012-shzz", "dg.shzz.purchase_catalogue", None, "出台政府购买社会组织服务目录",
          rules.CLOSED, 30, evidence=True),
    _Spec("dongguan-2012-shzz", "dg.shzz.transfer_catalogue", None, "出台政府向社会组织转移职能目录",
          rules.REPORTED, 25, returned=True, evidence=True),
    _Spec("dongguan-2012-fwzf", "dg.fwzf.devolution_catalogue", None, "出台政府向社会组织放权目录",
          rules.IN_PROGRESS, -12, evidence=True),  # red: overdue, with its 督办单
    _Spec("dongguan-2012-14", "dg.culture.ten_min_circle", None, "基本建成“十分钟文化体育圈”",
          rules.IN_PROGRESS, 2),  # yellow: due within 3 working days
    _Spec("dongguan-2012-14", "dg.transport.ten_min_circle", None, "基本建成“十分钟乘车圈”",
          rules.ACKNOWLEDGED, 60),
    _Spec("dongguan-2012-14", None, "11", "建立社区工作准入制度", rules.ASSIGNED, 90),
]  # fmt: skip


def _dongguan(summary: DemoSummary, admin, today: date) -> None:
    city = OrgUnit.objects.filter(code=DONGGUAN).first()
    if city is None:
        summary.skipped.append("dongguan (run seed_catalog)")
        return
    leader = _holder(RoleAssignment.LEADER, city)[0] or admin
    reviewer = _holder(RoleAssignment.REVIEWER, city)[0] or admin
    official, town = _holder(RoleAssignment.OFFICIAL, city, below=True)
    official = official or admin
    town = town if town is not None and town.pk != city.pk else None
    if leader is None or reviewer is None or official is None:
        summary.skipped.append("dongguan: no demo users nor administrator")
        return
    assignees = [town] if town else [city]
    red_task = None
    for spec in DONGGUAN_TASKS:
        plan = Plan.objects.filter(code=spec.plan).first()
        if plan is None:
            summary.skipped.append(spec.plan)
            continue
        task = _existing(plan, spec.title)
        if task is not None:
            summary.existing += 1
        else:
            task = _dongguan_task(spec, plan, city, assignees, leader, reviewer, official, today)
            if task is None:
                summary.skipped.append(spec.title)
                continue
            summary.created += 1
        if spec.due_in_days < 0:
            red_task = task
    if red_task is not None:
        summary.instructions += _instructions(red_task, city, assignees[0], leader, official)


def _dongguan_task(spec, plan, city, assignees, leader, reviewer, official, today):
    indicator = Indicator.objects.filter(code=spec.indicator).first() if spec.indicator else None
    if spec.indicator and indicator is None:
        return None
    goal = Goal.objects.filter(plan=plan, code=spec.goal).first() if spec.goal else None
    task = services.task_assign(
        actor=leader,
        plan=plan,
        indicator=indicator,
        goal=goal,
        title_zh=spec.title,
        lead_unit=city,
        assignees=assignees,
        deadline=today + timedelta(days=spec.due_in_days),
        note="请按期办结并上传证明材料" + DEMO_NOTE,
    )
    order = [rules.ACKNOWLEDGED, rules.IN_PROGRESS, rules.REPORTED, rules.CLOSED]
    if spec.state == rules.ASSIGNED:
        return task
    services.task_transition(actor=official, task=task, to=rules.ACKNOWLEDGED, today=today)
    if order.index(spec.state) < 1:
        return task
    files = [_pdf(f"{spec.title}进展材料", ["已形成初稿，正在征求意见。"])] if spec.evidence else []
    services.progress_report_add(
        actor=official, task=task, text="已形成初稿，正在征求相关部门意见。" + DEMO_NOTE,
        percent=50, files=files, reported_on=today,
    )  # fmt: skip
    if order.index(spec.state) < 2:
        return task
    if spec.returned:
        services.task_transition(
            actor=official, task=task, to=rules.REPORTED, today=today,
            note="目录初稿已报送" + DEMO_NOTE, files=[_pdf(f"{spec.title}（初稿）", ["初稿"])],
        )  # fmt: skip
        services.task_transition(
            actor=reviewer, task=task, to=rules.IN_PROGRESS,
            note="缺少正式印发文件及文号，请补充后重新反馈" + DEMO_NOTE,
        )  # fmt: skip
    services.task_transition(
        actor=official, task=task, to=rules.REPORTED, today=today,
        note="目录已正式印发" + DEMO_NOTE,
        files=[_pdf(f"{spec.title}（印发稿）", ["东府办〔演示〕号：目录已正式印发。"])],
    )  # fmt: skip
    if spec.state == rules.CLOSED:
        services.task_transition(actor=reviewer, task=task, to=rules.CLOSED, today=today)
    return task


def _instructions(task: Task, city: OrgUnit, addressee: OrgUnit, leader, official) -> int:
    created = 0
    text = "该事项已逾期，请牵头单位一周内拿出整改措施并报送进展。" + DEMO_NOTE
    first = Instruction.objects.filter(task=task, text=text).first()
    if first is None:
        first = services.instruction_create(actor=leader, text=text, addressee=addressee, task=task)
        services.instruction_reply(
            actor=official, instruction=first, mark_done=True,
            text="已召开专题会议，明确于本月底前完成目录印发。" + DEMO_NOTE,
            files=[_pdf("整改措施", ["专题会议纪要：明确完成时限与责任人。"])],
        )  # fmt: skip
        created += 1
    text = "请关注各镇街社区服务中心建设进度，按季度报送。" + DEMO_NOTE
    if not Instruction.objects.filter(unit=city, text=text).exists():
        services.instruction_create(actor=leader, text=text, addressee=addressee, unit=city)
        created += 1
    return created
