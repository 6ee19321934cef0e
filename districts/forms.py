"""Input of the data pages: what an official picks, types and uploads, and what a reviewer
decides. Forms only parse; scope checks and writes happen in views and services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.periods import Period, PeriodError, parse_period

from .intake import TEMPLATE_FORMATS
from .services import GridCell


def _period(text: str) -> Period:
    try:
        return parse_period(text)
    except PeriodError as exc:
        raise forms.ValidationError(str(exc)) from None


class UnitPeriodForm(forms.Form):
    """An org unit (by code, among ``units``) and a period (``2015``, ``2015Q3``, ``2015-07``)."""

    unit = forms.ChoiceField(label=_("单位"))
    period = forms.CharField(
        label=_("期间"),
        max_length=20,
        help_text=_("如 2015、2015Q3 或 2015-07"),
    )

    def __init__(self, *args, units: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = units

    def clean_period(self) -> Period:
        return _period(self.cleaned_data["period"])


class TemplateForm(UnitPeriodForm):
    """A template's unit and period. ``periods`` (value, label) are offered as a select: the
    periods due or with values in the user's scope, not a free-text year."""

    fmt = forms.ChoiceField(
        label=_("格式"), choices=[(f, f.upper()) for f in TEMPLATE_FORMATS], initial="xlsx"
    )

    def __init__(self, *args, periods: list[tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if periods:
            self.fields["period"].widget = forms.Select(choices=periods)
            self.fields["period"].help_text = _("待填报的期间排在前面")


class UploadForm(forms.Form):
    file = forms.FileField(label=_("数据文件"), help_text=_("CSV（UTF-8 或 GB18030）或 XLSX"))
    approve = forms.BooleanField(label=_("导入即审核通过"), required=False)


class ReviewForm(forms.Form):
    """Approve or reject the checked values; a rejection needs a comment (the service says so
    too, so the rule holds for the API as well)."""

    APPROVE = "approve"
    REJECT = "reject"

    action = forms.ChoiceField(choices=[(APPROVE, _("审核通过")), (REJECT, _("退回"))])
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True)
    comment = forms.CharField(label=_("审核意见"), required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id is accepted here; the view keeps only values the reviewer may see.
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()
        self.fields["ids"].error_messages["required"] = _("请勾选要处理的数值")

    def clean(self):
        data = super().clean()
        if data.get("action") == self.REJECT and not (data.get("comment") or "").strip():
            self.add_error("comment", _("退回时请填写原因"))
        return data


class RollbackForm(forms.Form):
    reason = forms.CharField(label=_("撤销原因"), required=False, max_length=500)


def grid_cells(data, elements) -> list[GridCell]:
    """The cells an entry form posted for ``elements`` (``v-<id>``, ``c-<id>``, ``ver-<id>``).

    A cell the form did not post (a locked, read-only one) is left out, so it is not touched.
    """
    cells: list[GridCell] = []
    for element in elements:
        name = f"v-{element.id}"
        if name not in data:
            if f"ver-{element.id}" not in data:
                continue
            # A yes/no item with neither radio chosen posts no value: an empty cell.
        try:
            version = int(data.get(f"ver-{element.id}", "0") or 0)
        except ValueError:
            version = 0
        cells.append(
            GridCell(
                element=element,
                text=data.get(name, "")[:100],
                comment=data.get(f"c-{element.id}", "")[:2000],
                version=version,
            )
        )
    return cells
