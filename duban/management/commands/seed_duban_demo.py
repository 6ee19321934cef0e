"""``python manage.py seed_duban_demo`` — the 督办 demo tasks, evidence and instructions
(idempotent; run after seed_catalog and seed_demo)."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand
from django.utils import timezone

from duban import demo


class Command(BaseCommand):
    help = "Add demo 督办 tasks (every state), evidence and instructions; idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--today", help="the day the demo is set around (YYYY-MM-DD)")

    def handle(self, *args, today=None, **options):
        day = date.fromisoformat(today) if today else timezone.localdate()
        summary = demo.seed(today=day)
        self.stdout.write(
            f"督办演示：新建 {summary.created} 项，已有 {summary.existing} 项，批示 "
            f"{summary.instructions} 条（created {summary.created}, existing {summary.existing}, "
            f"instructions {summary.instructions})"
            + (f"; skipped: {', '.join(summary.skipped)}" if summary.skipped else "")
        )
