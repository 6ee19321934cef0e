"""Celery tasks for districts. Thin and idempotent: they take ids."""

from celery import shared_task

from .uploading import upload_process, upload_reap_stale


# acks_late: a message whose worker dies before finishing is not lost. reject_on_worker_lost
# is left off: a redelivery right after the death would find the job's heartbeat still fresh
# and be skipped anyway (two workers must never process one file). A job whose worker died is
# queued again by reap_stale_uploads once its heartbeat is stale, and a late redelivery then
# claims it the same way (districts.uploading._claim).
@shared_task(name="districts.tasks.process_upload", acks_late=True)
def process_upload(job_id: int) -> str:
    return upload_process(job_id=job_id).state


@shared_task(name="districts.tasks.reap_stale_uploads", acks_late=True)
def reap_stale_uploads() -> dict[str, int]:
    """Queue again, or fail, uploads whose worker died (Celery beat, every minute)."""
    return upload_reap_stale()
