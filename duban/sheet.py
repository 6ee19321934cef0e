"""The printable 督办单 (supervision notice) of a task, as a PDF: WeasyPrint with the system's
Noto Sans CJK fonts, as the report packs."""

from __future__ import annotations

from datetime import date

from django.template.loader import render_to_string
from django.utils import translation

from . import rules
from .models import Task


def sheet_context(task: Task, *, as_of: date, lamp: str) -> dict:
    steps = list(task.steps.all())
    reports = list(task.progress_reports.all())
    return {
        "task": task,
        "as_of": as_of,
        "lamp": lamp,
        "lamp_label": rules.lamp_label(lamp),
        "state_label": rules.state_label(task.state),
        "days_late": max((as_of - task.deadline).days, 0),
        "steps": steps,
        "late_steps": [s for s in steps if s.done_on is None and s.due < as_of],
        "assignees": list(task.assignees.all()),
        "last_report": reports[-1] if reports else None,
        "transitions": list(task.transitions.all()),
        "LANGUAGE_CODE": translation.get_language(),
    }


def sheet_html(task: Task, *, as_of: date, lamp: str) -> str:
    return render_to_string("duban/pdf/sheet.html", sheet_context(task, as_of=as_of, lamp=lamp))


def sheet_pdf(task: Task, *, as_of: date, lamp: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=sheet_html(task, as_of=as_of, lamp=lamp)).write_pdf()


def document_pdf(title: str, paragraphs: list[str]) -> bytes:
    """A small real PDF (the demo's evidence files): a title and paragraphs, CJK fonts."""
    from django.utils.html import escape
    from weasyprint import HTML

    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    html = (
        '<html><head><meta charset="utf-8"><style>body{font-family:"Noto Sans CJK SC",'
        "sans-serif;font-size:11pt} h1{font-size:16pt}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTML(string=html).write_pdf()
