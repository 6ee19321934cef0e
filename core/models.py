"""The one shape of a background job row (as NetBox's ``core.Job``): every job kind — an upload, a
report pack, a progress recompute, a reminder run — is a concrete model on this abstract base.

The row is the truth about a job, the broker only a doorbell: a job is created ``queued`` and
committed, then a message carrying its id is sent (``core.jobs.enqueue``). Whoever takes the job
claims it with one conditional UPDATE, so two workers never run one job; the worker beats on the
row while it runs; it ends the job ``succeeded`` or ``failed`` (with the error kept on the row).
One reaper (``core.jobs.reap``) sends again a queued job whose message was lost and puts back in
the queue — or fails, after ``max_attempts()`` claims — a running job whose worker stopped beating.

State changes are conditional UPDATEs on what the caller last knew (the state, and the claim's
``attempts``), so a worker that lost its job to the reaper cannot overwrite its successor.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.text import bilingual


class Job(models.Model):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STATE_CHOICES = [
        (QUEUED, _("排队中")),
        (RUNNING, _("运行中")),
        (SUCCEEDED, _("完成")),
        (FAILED, _("失败")),
    ]
    ACTIVE = (QUEUED, RUNNING)

    TASK_NAME: ClassVar[str] = ""
    """The Celery task that runs a job of this kind, given only the job's id."""
    SALVAGE: ClassVar[str] = ""
    """Dotted path of ``f(job_id, still, now) -> int | None`` for a kind whose dead worker may
    have finished its work before dying: the reaper calls it first (``still`` is the job as the
    reaper saw it); it ends the job and returns how many it ended, or None to let the reaper
    requeue or fail it. A path, not a method: it lives with the kind's lifecycle, above the
    models (an upload's recomputes the progress its values feed)."""

    state = models.CharField(_("状态"), max_length=12, choices=STATE_CHOICES, default=QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the message was last handed to the broker; empty while it could not be (broker
    # down): the page says the job waits for the queue and the reaper sends it again.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # its worker's last sign of life
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)  # times a worker claimed it
    error = models.TextField(blank=True)

    class Meta:
        abstract = True

    # --- per kind -------------------------------------------------------------------------------

    @classmethod
    def stale_after(cls) -> float:
        """Seconds without a heartbeat after which a running job's worker is taken for dead."""
        return float(settings.JOB_STALE_AFTER)

    @classmethod
    def max_attempts(cls) -> int:
        return int(settings.JOB_MAX_ATTEMPTS)

    @classmethod
    def requeued_fields(cls, attempts: int, limit: int) -> dict:
        """What a job put back in the queue by the reaper shows (besides its state)."""
        return {}

    @classmethod
    def given_up_fields(cls, attempts: int) -> dict:
        """What a job failed by the reaper shows: by default its error."""
        return {
            "error": bilingual(
                f"处理中断，已尝试 {attempts} 次",
                f"the worker stopped {attempts} times",
            )
        }

    @classmethod
    def waiting_fields(cls) -> dict:
        """What a queued job shows while its message cannot reach the broker."""
        return {}

    @classmethod
    def enqueued_fields(cls) -> dict:
        """What a queued job shows once its message reached the broker."""
        return {}

    # --- lifecycle ------------------------------------------------------------------------------

    @classmethod
    def abandoned(cls, cutoff: datetime) -> Q:
        """Running jobs whose worker has given no sign of life since ``cutoff`` (one claimed
        before heartbeats existed counts from its start)."""
        return Q(state=cls.RUNNING) & (
            Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
        )

    @classmethod
    def claim(cls, job_id: int, **fields) -> Job | None:
        """Take a queued job, or a running one abandoned by a dead worker that has claims left
        (a message redelivered after its worker was killed). One conditional UPDATE: of two
        workers racing for a job the second finds the row changed and updates nothing. Returns
        the claimed row, or None when the job is not this caller's to run."""
        now = timezone.now()
        cutoff = now - timedelta(seconds=cls.stale_after())
        claimable = Q(state=cls.QUEUED) | (
            cls.abandoned(cutoff) & Q(attempts__lt=cls.max_attempts())
        )
        claimed = cls._default_manager.filter(claimable, pk=job_id).update(
            state=cls.RUNNING,
            started_at=now,
            heartbeat_at=now,
            finished_at=None,
            error="",
            attempts=F("attempts") + 1,
            **fields,
        )
        return cls._default_manager.get(pk=job_id) if claimed else None

    @classmethod
    def start_new(cls, **fields) -> Job:
        """A job created by the worker that runs it (a beat task, a command): born claimed."""
        now = timezone.now()
        return cls._default_manager.create(
            state=cls.RUNNING, started_at=now, heartbeat_at=now, attempts=1, **fields
        )

    def _mine(self) -> models.QuerySet:
        """This job while it is still this claim's: running, not reaped and claimed again."""
        return type(self)._default_manager.filter(
            pk=self.pk, state=self.RUNNING, attempts=self.attempts
        )

    def heartbeat(self, **fields) -> bool:
        """A sign of life (with any progress ``fields``); False once the job is no longer this
        worker's — finished, or reaped and claimed by another."""
        return bool(self._mine().update(heartbeat_at=timezone.now(), **fields))

    def finish(self, **fields) -> bool:
        """End the job as succeeded with its results; False (nothing written) if it is no longer
        this worker's."""
        return self._end(self.SUCCEEDED, **fields)

    def fail(self, error: str, **fields) -> bool:
        """End the job as failed, keeping ``error``; False if it is no longer this worker's."""
        return self._end(self.FAILED, error=error[:4000], **fields)

    def _end(self, state: str, **fields) -> bool:
        fields.setdefault("finished_at", timezone.now())
        ended = bool(self._mine().update(state=state, **fields))
        if ended:
            self.state = state
            for name, value in fields.items():
                setattr(self, name, value)
        return ended

    @property
    def waiting_for_queue(self) -> bool:
        """Queued but not handed to the broker (it was unreachable): the reaper sends it again."""
        return self.state == self.QUEUED and self.enqueued_at is None
