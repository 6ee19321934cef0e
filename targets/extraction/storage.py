"""Draft plan files kept for review under MEDIA_ROOT/plan-drafts/, and their audited load.

Not part of the pure extractor: this module writes files and, on load, the catalog. A draft is
saved by a catalog editor; loading it (``load_plans`` on the file) is a separate step for
superusers, recorded in the admin log with who loaded which file and what it changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.text import bilingual
from targets.models import Plan
from targets.services import plan_files_load

from .draft import dump_plan

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*\.yaml$")


@dataclass(frozen=True)
class DraftFile:
    name: str
    path: Path
    saved_at: datetime
    size: int


def drafts_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "plan-drafts"


def draft_files() -> list[DraftFile]:
    folder = drafts_dir()
    if not folder.is_dir():
        return []
    files = []
    for path in folder.glob("*.yaml"):
        stat = path.stat()
        when = datetime.fromtimestamp(stat.st_mtime, tz=timezone.get_current_timezone())
        files.append(DraftFile(path.name, path, when, stat.st_size))
    return sorted(files, key=lambda f: f.saved_at, reverse=True)


def draft_path(name: str) -> Path:
    """The file of a saved draft; a name that is not one (or tries to leave the folder) is a
    FileNotFoundError."""
    if not _NAME.match(name):
        raise FileNotFoundError(name)
    path = drafts_dir() / name
    if not path.is_file():
        raise FileNotFoundError(name)
    return path


def draft_save(*, actor, document: dict) -> DraftFile:
    """Write a reviewed draft plan; the name is the plan code and the time it was saved."""
    code = re.sub(r"[^A-Za-z0-9_.\-]+", "-", document["plan"]["code"]).strip("-.") or "plan"
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    folder = drafts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{code}-{stamp}.yaml"
    saved_by = f"# saved by {actor.get_username()} at {timezone.localtime().isoformat()}\n"
    path.write_text(dump_plan(document) + saved_by, encoding="utf-8")
    stat = path.stat()
    return DraftFile(path.name, path, timezone.localtime(), stat.st_size)


def draft_load(*, actor, name: str):
    """Run load_plans on a saved draft, as a superuser, and record it in the admin log.
    Raises PlanFileError (nothing written) when the draft does not validate."""

    if not actor.is_superuser:
        raise PermissionDenied(bilingual("仅超级管理员可载入规划", "only superusers load plans"))
    path = draft_path(name)
    existed = set(Plan.objects.values_list("code", flat=True))
    result = plan_files_load(paths=[path])[0]
    plan = Plan.objects.get(code=result.plan_code)
    LogEntry.objects.log_actions(
        user_id=actor.pk,
        queryset=[plan],
        action_flag=CHANGE if plan.code in existed else ADDITION,
        change_message=(
            f"load_plans {name}: {result.goals} goals, {result.indicators} indicators"
            f"{'' if result.changed else ' (unchanged)'}"
        ),
        single_object=True,
    )
    return result
