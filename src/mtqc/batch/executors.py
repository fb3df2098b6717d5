"""Where a batch's articles are checked: in this process, in N worker processes, or on a Ray cluster."""
from __future__ import annotations

import hashlib
import logging
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Protocol, Sequence

from ..errors import ExecutorError, MtqcError, TransientEngineError, UsageError
from ..fs import write_files
from .records import ENGINE, INPUT, INTERNAL, WRITE, ArticleRecord, rounded

if TYPE_CHECKING:
    from ..pipeline import Checker, CheckerConfig

EXECUTORS = ("local", "ray")
RAY_INSTALL_HINT = "pip install -e '.[ray]'"
# tasks given to one worker at a time: one running, one waiting, so a worker never idles between
# articles while the driver still holds at most 2 x workers articles that are not done
IN_FLIGHT_PER_WORKER = 2

ReportPair = tuple[str, str]  # a rendered (JSON, HTML) report pair


@dataclass(frozen=True)
class WorkerInfo:
    """What a checker reports about itself before any article: the batch's signature and notes."""

    signature: str
    engine: str
    notes: tuple[str, ...] = ()

    @property
    def signature_sha256(self) -> str:
        return hashlib.sha256(self.signature.encode("utf-8")).hexdigest()


def checker_info(checker: Checker) -> WorkerInfo:
    return WorkerInfo(str(checker.signature()), checker.engine_choice.engine.name, tuple(checker.engine_choice.notes))


@dataclass(frozen=True)
class Job:
    """One article to check: small and picklable (a file is read by the worker, not sent)."""

    key: str  # the article's `Unit.key`
    record: ArticleRecord  # the article's identity (path, hashes, id, line); the worker fills in the outcome
    out_dir: str
    json_rel: str  # where its report pair goes, relative to `out_dir`
    html_rel: str
    file: str | None = None
    text: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    debug: bool = False  # keep an internal error's traceback

    @property
    def path(self) -> str:
        return self.record.path


def _internal(job: Job, exc: BaseException, *, score: float | None = None,
              by_severity: Mapping[str, int] | None = None) -> ArticleRecord:
    """The record of a bug met while checking `job` (its score, when it got that far)."""
    trace = "".join(traceback.format_exception(exc)) if job.debug else None
    return replace(job.record, score=score, by_severity=dict(by_severity or {})).failed_as(
        f"{job.path}: internal error: {type(exc).__name__}: {exc}", INTERNAL, trace)


def _naming(job: Job, message: str) -> str:
    """`message` beginning with the article's path (the `failed:` lines at the end of a run name the article)."""
    return message if message.startswith(job.path) else f"{job.path}: {message}"


def _check(checker: Checker, job: Job) -> Any:
    if job.file is not None:
        return checker.check_file(Path(job.file))
    from ..ingest import article_from_text

    article = article_from_text(job.text or "", job.path, max_bytes=checker.settings.max_bytes, metadata=dict(job.metadata))
    return checker.check_article(article)


def render_job(checker: Checker, job: Job) -> tuple[ArticleRecord, ReportPair | None]:
    """Check one article and render its report pair (None when it failed); never raises."""
    from ..reports import render_html, report_to_json
    from ..reports.index import summary_row_extras
    from ..reports.naming import INDEX_NAME

    try:
        report = _check(checker, job)
        score, by_severity = rounded(report.score), report.counts()["by_severity"]
    except TransientEngineError as exc:  # may pass: not final like an unreadable article, the next run retries it
        return job.record.failed_as(_naming(job, f"engine failed, try again later: {exc}"), ENGINE), None
    except MtqcError as exc:
        return job.record.failed_as(str(exc), INPUT), None
    except Exception as exc:  # a bug in one article must not cost the others their reports
        return _internal(job, exc), None
    try:
        report_id = uuid.uuid4().hex
        extra = {"content_sha256": job.record.content_sha256, "signature_sha256": job.record.signature_sha256}
        # the report links back to the batch's index.html, from however deep its folder is
        index_href = "../" * (len(PurePosixPath(job.html_rel).parts) - 1) + INDEX_NAME
        # compact: a batch's JSON reports are for tools (editors read the HTML), and json writes
        # indented JSON with its pure-Python encoder, several times slower than the compact one
        pair = (report_to_json(report, report_id, extra, indent=None), render_html(report, report_id, index_href))
        extras = summary_row_extras(report)
    except Exception as exc:
        return _internal(job, exc, score=score, by_severity=by_severity), None
    return replace(job.record, score=score, by_severity=by_severity, report_id=report_id, extras=extras), pair


def write_pair(job: Job, record: ArticleRecord, pair: ReportPair | None) -> ArticleRecord:
    """Write a rendered report pair; a failure becomes the record's error."""
    if pair is None:
        return record
    out_dir = Path(job.out_dir)
    try:
        # not synced here: the journal syncs a group of pairs at once before it names them
        write_files([(out_dir / job.json_rel, pair[0]), (out_dir / job.html_rel, pair[1])], durable=False)
    except MtqcError as exc:
        return record.failed_as(f"{job.path}: report not written: {exc}", WRITE)
    except Exception as exc:
        return _internal(job, exc, score=record.score, by_severity=record.by_severity)
    return replace(record, json_rel=job.json_rel, html_rel=job.html_rel)


def process_job(checker: Checker, job: Job) -> ArticleRecord:
    """Check one article and write its report pair; never raises."""
    return write_pair(job, *render_job(checker, job))


class Executor(Protocol):
    """Checks jobs somewhere, each with its record as it is done; at most a bounded number are pending at any time."""

    name: str
    workers: int

    def start(self) -> WorkerInfo: ...

    def map(self, jobs: Iterator[Job]) -> Iterator[tuple[Job, ArticleRecord]]: ...

    def cancel(self) -> None: ...

    def close(self) -> None: ...


class InlineExecutor:
    """Checks in this process with one checker (`--jobs 1`)."""

    name = "local"
    workers = 1

    def __init__(self, checker: Checker | None = None, options: CheckerConfig | None = None) -> None:
        assert checker is not None or options is not None, "a checker, or the options to build one"
        self.checker, self.options = checker, options

    def start(self) -> WorkerInfo:
        if self.checker is None:  # built here, not before: planning (and refusing) a batch loads no model
            assert self.options is not None
            self.checker = self.options.build()
        return checker_info(self.checker)

    def map(self, jobs: Iterator[Job]) -> Iterator[tuple[Job, ArticleRecord]]:
        assert self.checker is not None, "start() first"
        for job in jobs:
            yield job, process_job(self.checker, job)

    def cancel(self) -> None:
        pass

    def close(self) -> None:
        pass


# ------------------------------------------------------------------ worker processes

_WORKER: dict[str, Any] = {}  # in a worker process: its checker, or why it could not be built


def _init_worker(options: CheckerConfig) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    try:
        _WORKER["checker"] = options.build()
    except Exception as exc:  # reported by `_worker_info`, typed, to the driver
        _WORKER["error"] = exc


_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_PARENT_POLL_S = 1.0  # how often the portable watchdog looks for its parent


def _die_with_parent(parent_pid: int) -> None:
    """Make this worker exit when the driver dies, even by `kill -9` (which runs no clean-up of the driver's).

    On Linux the kernel sends SIGKILL at the parent's death (prctl PR_SET_PDEATHSIG); everywhere a
    daemon thread also polls the parent's pid, which changes when the worker is orphaned (and covers
    a parent that died before prctl took effect).
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl here: the watchdog alone
    if os.getppid() != parent_pid:
        os._exit(1)  # orphaned already

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(_PARENT_POLL_S)
        os._exit(1)  # no driver to take a result: nothing to flush (reports are written atomically)

    threading.Thread(target=watch, name="mtqc-parent-watchdog", daemon=True).start()


def _init_process_worker(options: CheckerConfig, parent_pid: int) -> None:
    _die_with_parent(parent_pid)
    _init_worker(options)


def _worker_checker() -> Checker:
    if "error" in _WORKER:
        raise _WORKER["error"]
    return _WORKER["checker"]


def _worker_info() -> WorkerInfo:
    return checker_info(_worker_checker())


def _worker_process(job: Job) -> ArticleRecord:
    return process_job(_worker_checker(), job)


def _fill(pending: Mapping[Any, Any], limit: int, jobs: Iterator[Job], submit: Callable[[Job], None]) -> bool:
    """Submit jobs until `limit` are pending (back-pressure: the driver never holds more); True while any is."""
    while len(pending) < limit:
        job = next(jobs, None)
        if job is None:
            break
        submit(job)
    return bool(pending)


class ProcessExecutor:
    """Checks in `workers` processes, each building its checker (and loading its models) once.

    Processes are started with `spawn`: a fork of a driver running threads (the progress bar,
    torch) can deadlock. A worker that dies (killed, out of memory) costs its articles, which are
    recorded as internal errors; a new pool takes over the rest.
    """

    name = "local"

    def __init__(self, options: CheckerConfig, workers: int, in_flight: int | None = None) -> None:
        self.options, self.workers = options, workers
        self.in_flight = in_flight or IN_FLIGHT_PER_WORKER * workers
        self._pool: ProcessPoolExecutor | None = None
        self._pending: dict[Future[ArticleRecord], Job] = {}

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_process_worker, initargs=(self.options, os.getpid()))

    def start(self) -> WorkerInfo:
        self._pool = self._new_pool()
        return self._pool.submit(_worker_info).result()

    def map(self, jobs: Iterator[Job]) -> Iterator[tuple[Job, ArticleRecord]]:
        assert self._pool is not None, "start() first"
        while _fill(self._pending, self.in_flight, jobs, self._submit):
            done, _ = wait(list(self._pending), return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                job = self._pending.pop(future)
                record, died = self._result(job, future)
                broken = broken or died
                yield job, record
            if broken:
                yield from self._restart()

    @staticmethod
    def _result(job: Job, future: Future[ArticleRecord]) -> tuple[ArticleRecord, bool]:
        """The job's record, and whether its worker died (which breaks the pool)."""
        try:
            return future.result(), False
        except BrokenProcessPool as exc:
            return _internal(job, RuntimeError(f"its worker process died ({exc})")), True
        except Exception as exc:
            return _internal(job, exc), False

    def _submit(self, job: Job) -> None:
        assert self._pool is not None
        self._pending[self._pool.submit(_worker_process, job)] = job

    def _restart(self) -> Iterator[tuple[Job, ArticleRecord]]:
        """After a worker died: the pool is unusable; its pending articles are failed, a new pool goes on."""
        for future, job in list(self._pending.items()):
            if future.done() and not future.exception():
                yield job, future.result()
            else:
                yield job, _internal(job, RuntimeError("a worker process died while it was pending"))
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()

    def cancel(self) -> None:
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# ------------------------------------------------------------------ Ray


class _CheckerActor:
    """A Ray actor holding one checker (models loaded once per actor)."""

    def __init__(self, options: CheckerConfig) -> None:
        _init_worker(options)

    def info(self) -> WorkerInfo:
        return _worker_info()

    def process(self, job: Job) -> tuple[ArticleRecord, ReportPair | None]:
        return render_job(_worker_checker(), job)  # rendered, not written: the driver writes


def import_ray() -> Any:
    """The `ray` module, or ExecutorError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ExecutorError(f"--executor ray needs Ray, which is not installed; install it with {RAY_INSTALL_HINT}") from None
    return ray


class RayExecutor:
    """Checks on a Ray cluster: a pool of actors, each with its own checker; the driver writes the reports.

    Without an address, a local Ray instance is started (and stopped at the end); when Ray is
    already initialised in this process (a test, a notebook), that instance is used. At most
    `IN_FLIGHT_PER_WORKER` articles are pending per actor, so the driver's memory is bounded.
    """

    name = "ray"

    def __init__(self, options: CheckerConfig, workers: int | None = None, address: str | None = None,
                 cpus_per_actor: float = 1.0) -> None:
        self.ray = import_ray()
        self.options, self.address, self.cpus_per_actor = options, address, cpus_per_actor
        self.workers = workers or 0
        self._started = False
        self._actors: list[Any] = []
        self._load: list[int] = []  # pending tasks per actor
        self._pending: dict[Any, tuple[int, Job]] = {}

    def start(self) -> WorkerInfo:
        ray = self.ray
        if not ray.is_initialized():
            self._init()
        if not self.workers:
            self.workers = max(1, int(ray.cluster_resources().get("CPU", 1) // self.cpus_per_actor))
        actor_class = ray.remote(num_cpus=self.cpus_per_actor, max_restarts=1, max_task_retries=0)(_CheckerActor)
        self._actors = [actor_class.remote(self.options) for _ in range(self.workers)]
        self._load = [0] * len(self._actors)
        return self._first_info()

    def _init(self) -> None:
        try:
            self.ray.init(address=self.address, num_cpus=None if self.address else self.workers or None,
                          include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
        except Exception as exc:  # ConnectionError, a version mismatch, ...
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray instance"
            raise ExecutorError(f"cannot start {where}: {type(exc).__name__}: {exc}") from None
        self._started = True

    def _first_info(self) -> WorkerInfo:
        """Every actor's checker built; the first one's info (a typed error in building one is raised as is)."""
        try:
            infos = self.ray.get([a.info.remote() for a in self._actors])
        except Exception as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, MtqcError):
                raise cause from None
            raise
        return infos[0]

    def map(self, jobs: Iterator[Job]) -> Iterator[tuple[Job, ArticleRecord]]:
        while _fill(self._pending, IN_FLIGHT_PER_WORKER * len(self._actors), jobs, self._submit):
            ready, _ = self.ray.wait(list(self._pending), num_returns=1)
            for ref in ready:
                actor, job = self._pending.pop(ref)
                self._load[actor] -= 1
                yield job, self._result(job, ref)

    def _submit(self, job: Job) -> None:
        actor = min(range(len(self._load)), key=self._load.__getitem__)  # the least busy
        self._load[actor] += 1
        self._pending[self._actors[actor].process.remote(job)] = (actor, job)

    def _result(self, job: Job, ref: Any) -> ArticleRecord:
        try:
            record, pair = self.ray.get(ref)
        except Exception as exc:  # the actor died (out of memory, killed): this article is lost
            return _internal(job, exc)
        return write_pair(job, record, pair)  # the driver writes: the nodes need not see OUTDIR

    def cancel(self) -> None:
        for ref in self._pending:
            try:
                self.ray.cancel(ref)
            except Exception:
                pass  # an actor task that cannot be cancelled finishes and is dropped
        self._pending.clear()

    def close(self) -> None:
        for actor in self._actors:
            try:
                self.ray.kill(actor)
            except Exception:
                pass
        self._actors = []
        if self._started:
            self.ray.shutdown()
            self._started = False


def make_executor(options: CheckerConfig, *, executor: str = "local", jobs: int | None = None,
                  ray_address: str | None = None, checker: Checker | None = None) -> Executor:
    """The executor for `--executor`/`--jobs`/`--ray-address`.

    Raises:
        UsageError: an address without `--executor ray`, or an unknown executor.
        ExecutorError: Ray is asked for and not installed.
    """
    if executor not in EXECUTORS:
        raise UsageError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    if ray_address and executor != "ray":
        raise UsageError("--ray-address needs --executor ray")
    if executor == "ray":
        return RayExecutor(options, jobs, ray_address)
    if (jobs or 1) == 1:
        return InlineExecutor(checker, options)
    return ProcessExecutor(options, jobs or 1)


__all__: Sequence[str] = ("Executor", "InlineExecutor", "Job", "ProcessExecutor", "RayExecutor", "WorkerInfo",
                          "make_executor", "process_job", "render_job")
