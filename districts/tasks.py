"""Celery tasks for districts. Thin and idempotent: they take ids."""

from celery import shared_task

from .uploading import upload_process


@shared_task(name="districts.tasks.process_upload", acks_late=True)
def process_upload(job_id: int) -> str:
    return upload_process(job_id=job_id).state
