"""Input parsing for the 督办 pages (the API has its own serializers)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from core.text import bilingual

from . import rules
from .services import StepIn


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceField(forms.FileField):
    """Several files in one input; their content is checked by the services."""

    widget = MultipleFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.docx,.xlsx"})

    def clean(self, data, initial=None):
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [f for f in files if f]


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=[(s, s) for s in rules.STATES])
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    evidence = EvidenceField(required=False, label=_("证明材料"))


class ProgressForm(forms.Form):
    text = forms.CharField(label=_("进展情况"), widget=forms.Textarea(attrs={"rows": 3}))
    reported_on = forms.DateField(label=_("日期"), required=False)
    percent = forms.IntegerField(label=_("完成百分比"), required=False, min_value=0, max_value=100)
    evidence = EvidenceField(required=False, label=_("证明材料"))


def parse_steps(text: str) -> list[StepIn]:
    """One step a line: ``2013-09-30 成立领导小组……`` (date, a space, the step)."""
    steps: list[StepIn] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        head, _sep, title = line.partition(" ")
        try:
            due = date.fromisoformat(head)
        except ValueError:
            raise forms.ValidationError(
                bilingual(
                    f"第 {number} 行应以日期开头，如 2013-09-30 成立领导小组",
                    f"line {number} must start with a date (YYYY-MM-DD)",
                )
            ) from None
        if not title.strip():
            raise forms.ValidationError(
                bilingual(f"第 {number} 行缺少步骤内容", f"line {number} has no step")
            )
        steps.append(StepIn(title_zh=title.strip(), due=due))
    return steps


class TaskForm(forms.Form):
    title_zh = forms.CharField(label=_("事项名称"), max_length=300)
    title_en = forms.CharField(label=_("英文名称"), max_length=300, required=False)
    goal = forms.TypedChoiceField(label=_("条款"), required=False, coerce=int, empty_value=None)
    indicator = forms.CharField(required=False, widget=forms.HiddenInput)
    clause = forms.CharField(label=_("条款号"), max_length=60, required=False)
    quote = forms.CharField(
        label=_("原文"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    lead_unit = forms.ChoiceField(label=_("牵头单位"), required=False)
    assignees = forms.MultipleChoiceField(label=_("承办单位"))
    deadline = forms.DateField(label=_("完成期限"), widget=forms.DateInput(attrs={"type": "date"}))
    steps = forms.CharField(
        label=_("阶段步骤（每行一条：日期 内容）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "2013-09-30 成立领导小组"}),
    )
    note = forms.CharField(
        label=_("交办意见"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, goals=(), units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goal"].choices = [
            ("", "—"),
            *[(g.pk, f"{g.code} {g.title_zh}") for g in goals],
        ]
        unit_choices = [(u.code, f"{u.name_zh} {u.code}") for u in units]
        self.fields["lead_unit"].choices = [("", "—"), *unit_choices]
        self.fields["assignees"].choices = unit_choices

    def clean_steps(self):
        return parse_steps(self.cleaned_data.get("steps", ""))


class InstructionForm(forms.Form):
    text = forms.CharField(label=_("批示内容"), widget=forms.Textarea(attrs={"rows": 4}))
    addressee = forms.ChoiceField(label=_("承办单位"))
    unit = forms.ChoiceField(label=_("针对单位"), required=False)
    indicator = forms.CharField(label=_("指标代码"), required=False)
    task = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(u.code, f"{u.name_zh} {u.code}") for u in units]
        self.fields["addressee"].choices = choices
        self.fields["unit"].choices = [("", "—"), *choices]


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("落实情况"), widget=forms.Textarea(attrs={"rows": 3}))
    done = forms.BooleanField(label=_("标记为已落实"), required=False)
    evidence = EvidenceField(required=False, label=_("证明材料"))
