from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from targets.extraction.pipeline import draft_from_file
from targets.extraction.reading import DocumentError


def _date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"“{raw}” is not a date (YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = (
        "Read a plan (TXT, DOCX or PDF with a text layer) and write a draft plan file of its "
        "numeric targets and dated tasks, for review before load_plans (SPEC §7)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--city", required=True, help="org unit code of the plan's city")
        parser.add_argument("--issued", required=True, help="issue date, YYYY-MM-DD")
        parser.add_argument("--horizon", help="plan end date for undated targets (YYYY-MM-DD)")
        parser.add_argument("--code", default="", help="plan code (default: from the file name)")
        parser.add_argument("--title", default="", help="plan title (default: from the text)")
        parser.add_argument("--out", help="write the draft here (default: standard output)")

    def handle(self, *args, file, city, issued, horizon, code, title, out, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            draft = draft_from_file(
                path.read_bytes(),
                path.name,
                city=city,
                issued=_date(issued),
                horizon=_date(horizon) if horizon else None,
                code=code,
                title=title,
            )
        except DocumentError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        indicators = sum(len(g["indicators"]) for g in draft.document["goals"])
        if out:
            Path(out).write_text(draft.yaml_text, encoding="utf-8")
            where = out
        else:
            self.stdout.write(draft.yaml_text, ending="")
            where = "standard output"
        self.stderr.write(
            f"{file}: {indicators} candidate indicators in {len(draft.document['goals'])} "
            f"clauses → {where} (draft: review before load_plans)"
        )
