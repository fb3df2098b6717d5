"""Where a batch's articles are checked: in this process, in N worker processes, or on a Ray cluster."""
from __future__ import annotations

import hashlib
import logging
import multiprocessing
import signal
import traceback
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Protocol, Sequence

from ..fs import write_files
from ..errors import ExecutorError, MtqcError

if TYPE_CHECKING:
    from ..pipeline import Checker, CheckerConfig

# error_kind of a failed article: it could not be checked, its reports could not be written,
# mtqc itself failed (a bug), or the batch was interrupted before reaching it
INPUT, WRITE, INTERNAL, INTERRUPTED = "input", "write", "internal", "interrupted"
EXECUTORS = ("local", "ray")
RAY_INSTALL_HINT = "pip install -e '.[ray]'"
# tasks given to one worker at a time: one running, one waiting, so a worker never idles between
# articles while the driver still holds at most 2 x workers articles that are not done
IN_FLIGHT_PER_WORKER = 2


@dataclass(frozen=True)
class WorkerInfo:
    """What a checker reports about itself before any article: the batch's signature and notes."""

    signature: str
    engine: str
    notes: tuple[str, ...] = ()

    @property
    def signature_sha256(self) -> str:
        return hashlib.sha256(self.signature.encode("utf-8")).hexdigest()


def checker_info(checker: "Checker") -> WorkerInfo:
    return WorkerInfo(str(checker.signature()), checker.engine_choice.engine.name, tuple(checker.engine_choice.notes))


@dataclass(frozen=True)
class Job:
    """One article to check: small and picklable (a file is read by the worker, not sent)."""

    key: str
    path: str  # as the summary shows it
    json_path: str
    html_path: str
    content_sha256: str | None
    signature_sha256: str
    file: str | None = None
    text: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    write: bool = True  # the worker writes the report pair; False: the driver writes what comes back
    debug: bool = False


@dataclass(frozen=True)
class Outcome:
    """A job's result: a score and the report pair (written, or rendered for the driver), or an error."""

    key: str
    score: float | None = None
    by_severity: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    error_kind: str | None = None
    traceback: str | None = None
    report_id: str | None = None
    written: bool = False  # the report pair is on disk
    contents: tuple[str, str] | None = None  # (JSON, HTML) for the driver to write
    extras: dict[str, Any] = field(default_factory=dict)  # for the index page (`summary_row_extras`)


def _internal(job: Job, exc: BaseException, **known: Any) -> Outcome:
    return Outcome(job.key, error=f"{job.path}: internal error: {type(exc).__name__}: {exc}", error_kind=INTERNAL,
                   traceback="".join(traceback.format_exception(exc)) if job.debug else None, **known)


def _check(checker: "Checker", job: Job) -> Any:
    if job.file is not None:
        return checker.check_file(Path(job.file))
    from ..ingest import article_from_text

    article = article_from_text(job.text or "", job.path, max_bytes=checker.settings.max_bytes, metadata=dict(job.metadata))
    return checker.check_article(article)


def write_pair(job: Job, outcome: Outcome) -> Outcome:
    """Write a rendered report pair (`outcome.contents`); a failure becomes the outcome's error."""
    if outcome.contents is None:
        return outcome
    json_text, html_text = outcome.contents
    try:
        write_files([(Path(job.json_path), json_text), (Path(job.html_path), html_text)])
    except MtqcError as exc:
        return replace(outcome, contents=None, report_id=None, error=f"{job.path}: report not written: {exc}",
                       error_kind=WRITE)
    except Exception as exc:
        return replace(_internal(job, exc), score=outcome.score, by_severity=outcome.by_severity)
    return replace(outcome, contents=None, written=True)


def process_job(checker: "Checker", job: Job) -> Outcome:
    """Check one article and render (and, if `job.write`, write) its report pair; never raises."""
    from ..reports import render_html, report_to_json
    from ..reports.index import summary_row_extras

    try:
        report = _check(checker, job)
        score, by_severity = report.score, report.counts()["by_severity"]
    except MtqcError as exc:
        return Outcome(job.key, error=str(exc), error_kind=INPUT)
    except Exception as exc:  # a bug in one article must not cost the others their reports
        return _internal(job, exc)
    try:
        report_id = uuid.uuid4().hex
        extra = {"content_sha256": job.content_sha256, "signature_sha256": job.signature_sha256}
        contents = (report_to_json(report, report_id, extra), render_html(report, report_id))
        extras = summary_row_extras(report)
    except Exception as exc:
        return _internal(job, exc, score=score, by_severity=by_severity)
    outcome = Outcome(job.key, score, by_severity, report_id=report_id, contents=contents, extras=extras)
    return write_pair(job, outcome) if job.write else outcome


class Executor(Protocol):
    """Checks jobs somewhere; at most a bounded number are pending at any time."""

    name: str
    workers: int
    workers_write: bool  # workers write the reports (they see OUTDIR); else the driver does

    def start(self) -> WorkerInfo: ...

    def map(self, jobs: Iterator[Job]) -> Iterator[Outcome]: ...

    def cancel(self) -> None: ...

    def close(self) -> None: ...


class InlineExecutor:
    """Checks in this process with one checker (`--jobs 1`)."""

    name = "local"
    workers = 1
    workers_write = True

    def __init__(self, checker: "Checker | None" = None, options: CheckerConfig | None = None) -> None:
        assert checker is not None or options is not None, "a checker, or the options to build one"
        self.checker, self.options = checker, options

    def start(self) -> WorkerInfo:
        if self.checker is None:  # built here, not before: planning (and refusing) a batch loads no model
            assert self.options is not None
            self.checker = self.options.build()
        return checker_info(self.checker)

    def map(self, jobs: Iterator[Job]) -> Iterator[Outcome]:
        assert self.checker is not None, "start() first"
        for job in jobs:
            yield process_job(self.checker, job)

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


def _worker_checker() -> "Checker":
    if "error" in _WORKER:
        raise _WORKER["error"]
    return _WORKER["checker"]


def _worker_info() -> WorkerInfo:
    return checker_info(_worker_checker())


def _worker_process(job: Job) -> Outcome:
    return process_job(_worker_checker(), job)


class ProcessExecutor:
    """Checks in `workers` processes, each building its checker (and loading its models) once.

    Processes are started with `spawn`: a fork of a driver running threads (the progress bar,
    torch) can deadlock. A worker that dies (killed, out of memory) costs its articles, which are
    recorded as internal errors; a new pool takes over the rest.
    """

    name = "local"
    workers_write = True

    def __init__(self, options: CheckerConfig, workers: int, in_flight: int | None = None) -> None:
        self.options, self.workers = options, workers
        self.in_flight = in_flight or IN_FLIGHT_PER_WORKER * workers
        self._pool: ProcessPoolExecutor | None = None
        self._pending: dict[Future[Outcome], Job] = {}

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(self.options,))

    def start(self) -> WorkerInfo:
        self._pool = self._new_pool()
        return self._pool.submit(_worker_info).result()

    def map(self, jobs: Iterator[Job]) -> Iterator[Outcome]:
        assert self._pool is not None, "start() first"
        exhausted = False
        while True:
            while not exhausted and len(self._pending) < self.in_flight:
                job = next(jobs, None)
                if job is None:
                    exhausted = True
                    break
                self._submit(job)
            if not self._pending:
                return
            done, _ = wait(list(self._pending), return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                job = self._pending.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool as exc:
                    broken = True
                    yield _internal(job, RuntimeError(f"its worker process died ({exc})"))
                except Exception as exc:
                    yield _internal(job, exc)
            if broken:
                yield from self._restart()

    def _submit(self, job: Job) -> None:
        assert self._pool is not None
        self._pending[self._pool.submit(_worker_process, job)] = job

    def _restart(self) -> Iterator[Outcome]:
        """After a worker died: the pool is unusable; its pending articles are failed, a new pool goes on."""
        for future, job in list(self._pending.items()):
            if future.done() and not future.exception():
                yield future.result()
            else:
                yield _internal(job, RuntimeError("a worker process died while it was pending"))
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

    def process(self, job: Job) -> Outcome:
        return _worker_process(job)


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
    workers_write = False  # the cluster's nodes need not see OUTDIR

    def __init__(self, options: CheckerConfig, workers: int | None = None, address: str | None = None,
                 cpus_per_actor: float = 1.0) -> None:
        self.ray = import_ray()
        self.options, self.address, self.cpus_per_actor = options, address, cpus_per_actor
        self.workers = workers or 0
        self._started = False
        self._actors: list[Any] = []
        self._pending: dict[Any, tuple[int, Job]] = {}

    def start(self) -> WorkerInfo:
        ray = self.ray
        if not ray.is_initialized():
            try:
                ray.init(address=self.address, num_cpus=None if self.address else self.workers or None,
                         include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
            except Exception as exc:  # ConnectionError, a version mismatch, ...
                where = f"the Ray cluster at {self.address}" if self.address else "a local Ray instance"
                raise ExecutorError(f"cannot start {where}: {type(exc).__name__}: {exc}") from None
            self._started = True
        if not self.workers:
            self.workers = max(1, int(ray.cluster_resources().get("CPU", 1) // self.cpus_per_actor))
        actor_class = ray.remote(num_cpus=self.cpus_per_actor, max_restarts=1, max_task_retries=0)(_CheckerActor)
        self._actors = [actor_class.remote(self.options) for _ in range(self.workers)]
        try:
            infos = ray.get([a.info.remote() for a in self._actors])
        except Exception as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, MtqcError):
                raise cause from None
            raise
        return infos[0]

    def map(self, jobs: Iterator[Job]) -> Iterator[Outcome]:
        ray = self.ray
        load = [0] * len(self._actors)
        exhausted = False
        while True:
            while not exhausted and len(self._pending) < IN_FLIGHT_PER_WORKER * len(self._actors):
                job = next(jobs, None)
                if job is None:
                    exhausted = True
                    break
                actor = min(range(len(load)), key=load.__getitem__)
                load[actor] += 1
                self._pending[self._actors[actor].process.remote(replace(job, write=False))] = (actor, job)
            if not self._pending:
                return
            ready, _ = ray.wait(list(self._pending), num_returns=1)
            for ref in ready:
                actor, job = self._pending.pop(ref)
                load[actor] -= 1
                try:
                    outcome = ray.get(ref)
                except Exception as exc:  # the actor died (out of memory, killed): this article is lost
                    yield _internal(job, exc)
                    continue
                yield write_pair(job, outcome)  # the driver writes: the nodes need not see OUTDIR

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
                  ray_address: str | None = None, checker: "Checker | None" = None) -> Executor:
    """The executor for `--executor`/`--jobs`/`--ray-address`.

    Raises:
        UsageError: an address without `--executor ray`, or an unknown executor.
        ExecutorError: Ray is asked for and not installed.
    """
    from ..errors import UsageError

    if executor not in EXECUTORS:
        raise UsageError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    if ray_address and executor != "ray":
        raise UsageError("--ray-address needs --executor ray")
    if executor == "ray":
        return RayExecutor(options, jobs, ray_address)
    if (jobs or 1) == 1:
        return InlineExecutor(checker, options)
    return ProcessExecutor(options, jobs or 1)


__all__: Sequence[str] = ("CheckerConfig", "Executor", "InlineExecutor", "Job", "Outcome", "ProcessExecutor",
                          "RayExecutor", "WorkerInfo", "make_executor", "process_job")
