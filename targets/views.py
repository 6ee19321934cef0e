"""Catalog editors' pages: a plan document in, reviewed target candidates out as a draft plan
file; a superuser loads a reviewed draft (issue 19). Thin: reading, extraction and drafting are
the pure ``targets.extraction`` package, file storage and the audited load its ``storage``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.text import bilingual
from districts.models import OrgUnit

from .extraction import extract
from .extraction.api import is_catalog_editor
from .extraction.draft import candidate_dict, draft_plan
from .extraction.elements import default_vocabulary
from .extraction.pipeline import build_draft, plan_code, schema_has_group
from .extraction.reading import DocumentError, read_document
from .extraction.storage import draft_files, draft_load, draft_path, draft_save
from .plan_schema import COMPARATORS, KINDS, PlanFileError


def editor_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            if not is_catalog_editor(request.user):
                raise PermissionDenied(bilingual("仅目录编辑可用", "catalog editors only"))
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            context = {"reason": str(exc or "")}
            return render(request, "targets/forbidden.html", context, status=403)

    return wrapper


def _cities():
    return [
        (u.code, f"{u.code} {u.name_zh}")
        for u in OrgUnit.objects.filter(level="city").order_by("code")
    ]


class ExtractForm(forms.Form):
    file = forms.FileField(label=_("规划文件（TXT、DOCX 或 PDF）"), required=False)
    text = forms.CharField(
        label=_("或粘贴全文"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    city = forms.ChoiceField(label=_("城市"))
    issued = forms.DateField(label=_("印发日期"), widget=forms.DateInput(attrs={"type": "date"}))
    horizon = forms.DateField(
        label=_("规划期末（可选）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("未写明期限的目标取此日；留空则取文中最常见的期限"),
    )
    title = forms.CharField(label=_("标题（可选）"), required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["city"].choices = _cities()

    def clean(self):
        data = super().clean()
        if not data.get("file") and not (data.get("text") or "").strip():
            raise forms.ValidationError(
                bilingual("请上传文件或粘贴全文", "upload a file or paste the text")
            )
        return data


@editor_required
def extract_page(request):
    """Upload (or paste) a plan; on success, the review page with every candidate."""
    form = ExtractForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data.get("file")
        filename = upload.name if upload else "pasted.txt"
        try:
            text = read_document(upload.read(), filename) if upload else data["text"]
            draft = build_draft(
                text=text,
                filename=filename,
                city=data["city"],
                issued=data["issued"],
                horizon=data.get("horizon"),
                title=data.get("title", ""),
            )
        except DocumentError as exc:
            form.add_error("file" if upload else "text", str(exc))
        else:
            return _review(request, draft.text, draft.candidates, _meta(draft, data, filename))
    return render(request, "targets/extract.html", {"form": form, "drafts": draft_files()})


def _meta(draft, data, filename: str) -> dict:
    plan = draft.document["plan"]
    return {
        "city": plan["city"],
        "issued": data["issued"].isoformat(),
        "horizon": (plan.get("horizon") or "") and plan["horizon"].isoformat(),
        "title": plan["title_zh"],
        "code": plan["code"],
        "source": filename,
    }


def _review(request, text: str, candidates: list[dict], meta: dict, status: int = 200):
    context = {"text": text, "candidates": candidates, "meta": meta, "kinds": KINDS,
               "comparators": COMPARATORS}  # fmt: skip
    return render(request, "targets/extract_review.html", context, status=status)


def _edited(candidate, post, key: str, text: str) -> list[str]:
    """Apply a reviewer's edits to one candidate; the problems, if any."""
    problems = []
    kind = post.get(f"{key}-kind", candidate.kind)
    comparator = post.get(f"{key}-comparator", candidate.comparator)
    if kind not in KINDS:
        problems.append(bilingual("类型无效", "unknown kind"))
    if comparator not in COMPARATORS:
        problems.append(bilingual("比较符无效", "unknown comparator"))
    try:
        target = Decimal(post.get(f"{key}-target", str(candidate.target)).strip())
        if not target.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        problems.append(bilingual("目标值须为数字", "the target must be a number"))
        target = candidate.target
    raw_deadline = post.get(f"{key}-deadline", "").strip()
    try:
        deadline = date.fromisoformat(raw_deadline) if raw_deadline else candidate.deadline
    except ValueError:
        problems.append(bilingual("期限须为日期", "the deadline must be a date"))
        deadline = candidate.deadline
    if problems:
        return problems
    changed_kind = kind != candidate.kind
    candidate.kind, candidate.comparator, candidate.target = kind, comparator, target
    candidate.unit = post.get(f"{key}-unit", candidate.unit).strip()[:40]
    candidate.deadline = deadline
    name = post.get(f"{key}-name", "").strip()
    if name:
        candidate.subject = name[:60]
    if changed_kind:
        default_vocabulary().match(candidate, text)
    return []


@editor_required
@require_POST
def extract_save(request):
    """Save the accepted (and edited) candidates as a draft plan file. The candidates are read
    again from the posted text, so every quote and span is the source's own."""
    post = request.POST
    # Browsers send a textarea's line ends as CRLF; the file as read had LF only.
    text = post.get("text", "").replace("\r\n", "\n")
    try:
        issued = date.fromisoformat(post.get("issued", ""))
        horizon = date.fromisoformat(post["horizon"]) if post.get("horizon") else None
    except ValueError as exc:
        raise Http404 from exc
    city = post.get("city", "")
    extraction = extract(text, issued=issued, horizon=horizon)
    accepted, problems = [], []
    for index, candidate in enumerate(extraction.candidates):
        key = f"c{index}"
        if post.get(f"{key}-decision") != "accept":
            continue
        for problem in _edited(candidate, post, key, text):
            problems.append(f"#{index + 1}: {problem}")
        accepted.append(candidate_dict(candidate, text, index))
    meta = {k: post.get(k, "") for k in ("city", "issued", "horizon", "title", "code", "source")}
    if problems or not accepted:
        for problem in problems or [bilingual("没有接受任何候选指标", "no candidate accepted")]:
            messages.error(request, problem)
        candidates = [candidate_dict(c, text, i) for i, c in enumerate(extraction.candidates)]
        return _review(request, text, candidates, meta, status=400)
    document = draft_plan(
        accepted,
        code=meta["code"] or plan_code(meta["source"], city, issued),
        city=city,
        title_zh=meta["title"] or meta["source"] or "未命名规划",
        issued=issued,
        horizon=horizon or extraction.horizon,
        source=meta["source"],
        group_key=schema_has_group(),
    )
    saved = draft_save(actor=request.user, document=document)
    messages.success(
        request,
        bilingual(
            f"已保存草稿 {saved.name}（{len(accepted)} 个指标），核对后由超级管理员载入",
            f"draft {saved.name} saved with {len(accepted)} indicators; a superuser loads it",
        ),
    )
    return redirect(reverse("targets:extract") + "#drafts")


@editor_required
def draft_download(request, name: str):
    try:
        path = draft_path(name)
    except FileNotFoundError as exc:
        raise Http404 from exc
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=name, content_type="text/yaml; charset=utf-8"
    )


@editor_required
@require_POST
def draft_load_view(request, name: str):
    """Load a reviewed draft with load_plans (superusers; recorded in the admin log)."""
    try:
        result = draft_load(actor=request.user, name=name)
    except FileNotFoundError as exc:
        raise Http404 from exc
    except PlanFileError as exc:
        for problem in exc.problems[:20]:
            messages.error(request, f"{name}: {problem}")
    else:
        messages.success(
            request,
            bilingual(
                f"已载入规划 {result.plan_code}：{result.goals} 个目标，{result.indicators} 个指标",
                f"plan {result.plan_code} loaded: {result.goals} goals, {result.indicators} "
                "indicators",
            ),
        )
    return redirect(reverse("targets:extract") + "#drafts")
