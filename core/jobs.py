"""Running jobs (rows on :class:`core.models.Job`): enqueue after commit, beat while running,
reap the lost ones, and — in the quick start — run them on a small thread pool in the web process.

Where a job runs is ``settings.JOBS_BACKEND``:

- ``celery`` (REDIS_URL set): a message to the broker after the transaction commits. An
  unreachable broker does not fail the request: the job stays queued, marked as waiting for
  the queue, and the reaper (Celery beat, every minute) sends it again. With
  ``CELERY_TASK_ALWAYS_EAGER`` (the unit tests) the task runs at the commit, in-process.
- ``thread`` (the quick start, no Redis): after the commit the web process hands the job to its
  runner (a few daemon threads, started with the first request), so the request returns at once
  and the page polls the row. The runner also reaps, on start-up and then every
  ``JOB_REAP_INTERVAL`` seconds, since the quick start has no beat. Outside a web process (a
  management command) the job runs at the commit, in the command.

Services call :func:`enqueue` with the row; they never import a task module. The task named by
the model's ``TASK_NAME`` takes the row's id and claims it (``Job.claim``).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime, timedelta

from celery import current_app
from django.apps import apps
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import Job

log = logging.getLogger(__name__)


def job_models() -> list[type[Job]]:
    """Every concrete job kind of the installed apps."""
    return [m for m in apps.get_models() if issubclass(m, Job) and m.TASK_NAME]


def _label(model: type[Job]) -> str:
    return model._meta.label_lower


# --- enqueue --------------------------------------------------------------------------------------


def enqueue(job: Job | type[Job], job_id: int | None = None) -> None:
    """Have ``job`` (a saved, queued row; or a job kind and the row's id) run once the current
    transaction commits."""
    model, job_id = (job, job_id) if isinstance(job, type) else (type(job), job.pk)
    transaction.on_commit(lambda: send(model, job_id))


def send(model: type[Job], job_id: int, *, only_if: Q | None = None) -> bool:
    """Hand a queued job to whoever runs it, now. Returns False when the job is no longer queued
    (or no longer matches ``only_if``), or when the broker could not be reached — then the job
    stays queued, shows it waits for the queue, and the reaper sends it again."""
    rows = model._default_manager.filter(Q(pk=job_id, state=model.QUEUED), only_if or Q())
    if not rows.update(enqueued_at=timezone.now(), **model.enqueued_fields()):
        return False
    if settings.JOBS_BACKEND == "thread":
        if _runner is not None:
            _runner.submit(model.TASK_NAME, job_id)
        else:  # a management command: no runner outlives it, so the job runs here
            registered_task(model.TASK_NAME)(job_id)
        return True
    task = registered_task(model.TASK_NAME)
    if task.app.conf.task_always_eager:
        task.apply_async(args=[job_id])  # runs here; its errors propagate as before
        return True
    try:
        task.apply_async(args=[job_id], retry=True, retry_policy=settings.JOBS_PUBLISH_RETRY)
    except Exception:  # broker unreachable (or refusing): the row keeps the job
        log.warning("%s %s: could not reach the broker; left queued", _label(model), job_id)
        model._default_manager.filter(pk=job_id, state=model.QUEUED).update(
            enqueued_at=None, **model.waiting_fields()
        )
        return False
    return True


def registered_task(name: str):
    """The registered task ``name`` (autodiscovering the apps' tasks modules on first use)."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


# --- heartbeat ------------------------------------------------------------------------------------


@contextmanager
def heartbeat(job: Job):
    """Beat on the job row every ``stale_after() / 10`` seconds while the block runs.

    The beats come from a thread with its own database connection: a job's long write
    transaction would keep beats written on its own connection invisible until the commit. The
    thread dies with its process, so a killed worker stops beating. On SQLite (the quick start;
    one writer at a time) there is no beat thread: the job's progress updates are its beats, and
    the runner never reaps a job it is itself running.
    """
    if connection.vendor != "postgresql":
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(max(type(job).stale_after() / 10, 1)):
                try:
                    alive = job.heartbeat()
                except Exception:  # a missed beat is tried again; nine in a row are tolerated
                    log.warning("%s %s: heartbeat failed", _label(type(job)), job.pk, exc_info=True)
                    connection.close()
                    continue
                if not alive:  # finished, or reaped and claimed again meanwhile
                    return
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"job-{job.pk}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# --- reaper ---------------------------------------------------------------------------------------


def reap(
    *,
    models: Iterable[type[Job]] | None = None,
    stale_after: float | None = None,
    resend_after: float | None = None,
    now: datetime | None = None,
    exclude: Iterable[tuple[str, int]] = (),
) -> dict[str, dict[str, int]]:
    """One pass over every job kind (or ``models``):

    - a running job without a heartbeat for its kind's ``stale_after()`` seconds (or
      ``stale_after``) lost its worker: it is queued and sent again, or failed once it has been
      claimed ``max_attempts()`` times (or ended by its kind's ``salvage``);
    - a queued job never handed to the broker (``enqueued_at`` empty: the broker was down)
      for ``JOB_ENQUEUE_RETRY_AFTER`` seconds, or handed over more than
      ``JOB_RESEND_AFTER`` seconds (or ``resend_after``) ago and still not taken (the message
      was lost with the broker), is sent again. A duplicate message is harmless: the claim
      lets only one run.

    ``exclude`` holds ``(model label, id)`` of jobs this process is running itself. Every
    change is a conditional UPDATE on what was read, so a job that beats or is claimed meanwhile
    is left alone. Returns counts per kind: requeued, failed, finished, resent.
    """
    now = now or timezone.now()
    excluded = set(exclude)
    counts: dict[str, dict[str, int]] = {}
    for model in models or job_models():
        label = _label(model)
        done = {"requeued": 0, "failed": 0, "finished": 0, "resent": 0}
        mine = {job_id for kind, job_id in excluded if kind == label}
        cutoff = now - timedelta(
            seconds=model.stale_after() if stale_after is None else stale_after
        )
        limit = model.max_attempts()
        manager = model._default_manager
        stale = manager.filter(model.abandoned(cutoff)).exclude(pk__in=mine)
        for job_id, attempts in stale.values_list("pk", "attempts"):
            still = manager.filter(model.abandoned(cutoff), pk=job_id, attempts=attempts)
            salvaged = import_string(model.SALVAGE)(job_id, still, now) if model.SALVAGE else None
            if salvaged is not None:
                done["finished"] += salvaged
            elif attempts < limit:
                requeued = still.update(
                    state=model.QUEUED,
                    heartbeat_at=None,
                    enqueued_at=None,
                    **model.requeued_fields(attempts, limit),
                )
                if requeued:
                    transaction.on_commit(lambda m=model, i=job_id: send(m, i))
                done["requeued"] += requeued
            else:
                done["failed"] += still.update(
                    state=model.FAILED, finished_at=now, **model.given_up_fields(attempts)
                )
        never_sent = Q(
            enqueued_at__isnull=True,
            created_at__lt=now - timedelta(seconds=settings.JOB_ENQUEUE_RETRY_AFTER),
        )
        resend = settings.JOB_RESEND_AFTER if resend_after is None else resend_after
        lost = Q(enqueued_at__lt=now - timedelta(seconds=resend))
        waiting = manager.filter(never_sent | lost, state=model.QUEUED).exclude(pk__in=mine)
        for job_id, enqueued_at in waiting.values_list("pk", "enqueued_at"):
            # only the reaper that still sees the same enqueued_at sends it again
            done["resent"] += send(model, job_id, only_if=Q(enqueued_at=enqueued_at))
        if any(done.values()):
            log.warning("stale %s jobs: %s", label, done)
        counts[label] = done
    return counts


# --- the quick start's runner ---------------------------------------------------------------------


class Runner:
    """A few daemon threads running jobs in the web process, and one reaping every
    ``reap_every`` seconds (the first pass at start-up). Each job runs on its own database
    connection, closed when it ends."""

    def __init__(self, *, threads: int, reap_every: float) -> None:
        self._queue: queue.Queue[tuple[str, int]] = queue.Queue()
        self._lock = threading.Lock()
        self._running: set[tuple[str, int]] = set()
        self._stop = threading.Event()
        self.reap_every = reap_every
        self._threads = [
            threading.Thread(target=self._work, name=f"jobs-runner-{n}", daemon=True)
            for n in range(max(threads, 1))
        ]
        self._threads.append(threading.Thread(target=self._reap, name="jobs-reaper", daemon=True))

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def submit(self, task_name: str, job_id: int) -> None:
        self._queue.put((task_name, job_id))

    def running(self) -> set[tuple[str, int]]:
        """(model label, id) of the jobs this runner is running (the reaper leaves them)."""
        with self._lock:
            return set(self._running)

    def _work(self) -> None:
        by_task = {m.TASK_NAME: _label(m) for m in job_models()}
        while True:
            task_name, job_id = self._queue.get()
            key = (by_task.get(task_name, task_name), job_id)
            with self._lock:
                self._running.add(key)
            try:
                close_old_connections()
                registered_task(task_name)(job_id)
            except Exception:  # the task has stored its failure on the row
                log.exception("job %s %s failed", task_name, job_id)
            finally:
                with self._lock:
                    self._running.discard(key)
                connection.close()
                self._queue.task_done()

    def _reap(self) -> None:
        first = True
        while first or not self._stop.wait(self.reap_every):
            try:
                # at start-up every queued job is sent: the messages of the previous process
                # died with it (a duplicate is harmless: the claim lets only one run)
                reap(exclude=self.running(), resend_after=0 if first else None)
            except Exception:
                log.exception("job reaper failed")
            finally:
                connection.close()
            first = False

    def stop(self) -> None:
        """Stop reaping (tests); the job threads are daemons and end with the process."""
        self._stop.set()


_runner: Runner | None = None
_runner_lock = threading.Lock()


def start_runner(**_kwargs) -> Runner | None:
    """Start this process's runner (once) when jobs run in threads; a ``request_started``
    receiver, so only a process that serves requests runs jobs in the background."""
    global _runner
    if settings.JOBS_BACKEND != "thread":
        return None
    with _runner_lock:
        if _runner is None:
            _runner = Runner(threads=settings.JOBS_THREADS, reap_every=settings.JOB_REAP_INTERVAL)
            _runner.start()  # once it is this process's runner: its reaper sends jobs to it
    return _runner


def stop_runner() -> None:
    """Forget this process's runner (tests): later jobs run at the commit until one starts."""
    global _runner
    with _runner_lock:
        if _runner is not None:
            _runner.stop()
            _runner = None
