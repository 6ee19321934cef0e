"""Celery tasks for districts, where Celery's autodiscovery looks for them. The upload tasks are
defined beside the upload package (:mod:`districts.intake.tasks`)."""

from .intake.tasks import process_upload, reap_stale_uploads

__all__ = ["process_upload", "reap_stale_uploads"]
