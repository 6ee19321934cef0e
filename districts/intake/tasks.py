"""Celery tasks of uploads. Thin and idempotent: they take ids. (:mod:`districts.tasks` lists
them for Celery's autodiscovery; they live here so that importing the upload package registers
them, and :func:`districts.intake.job.enqueue` sends them by name.)"""

from celery import shared_task

from .job import PROCESS_TASK, reap_stale
from .pipeline import upload_process


# acks_late: a message whose worker dies before finishing is not lost. reject_on_worker_lost
# is left off: a redelivery right after the death would find the job's heartbeat still fresh
# and be skipped anyway (two workers must never process one file). A job whose worker died is
# queued again by the reaper (core.tasks.reap_stale_jobs) once its heartbeat is stale, and a
# late redelivery then claims it the same way (districts.intake.job.claim).
@shared_task(name=PROCESS_TASK, acks_late=True)
def process_upload(job_id: int) -> str:
    return upload_process(job_id=job_id).state


@shared_task(name="districts.tasks.reap_stale_uploads", acks_late=True)
def reap_stale_uploads() -> dict[str, int]:
    """Queue again, or fail, uploads whose worker died (beat runs the reaper of every job kind,
    core.tasks.reap_stale_jobs; this one is kept for calling by hand)."""
    return reap_stale()
