"""How far a running batch is: counts, rate and ETA, for a progress bar or a periodic log line."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

PROGRESS_LOG_EVERY_S = 30.0  # on a non-terminal, one progress line this often


@dataclass(frozen=True)
class BatchProgress:
    """Where a running batch stands."""

    total: int
    done: int  # articles with an outcome (checked now, unchanged, or failed)
    checked_now: int  # checked in this run (the others were unchanged since the last run)
    unchanged: int
    failed: int
    elapsed_s: float

    @property
    def rate(self) -> float:
        """Articles checked per second in this run (unchanged ones cost nothing and are left out)."""
        return self.checked_now / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        left = self.total - self.done
        if left <= 0:
            return 0.0
        return left / self.rate if self.rate > 0 else None

    def line(self) -> str:
        share = f"{100 * self.done / self.total:.0f}%" if self.total else "-"
        eta = "-" if self.eta_s is None else _duration(self.eta_s)
        unchanged = f", {self.unchanged} unchanged" if self.unchanged else ""
        return (f"{self.done}/{self.total} articles ({share}), {self.rate:.1f} articles/s, {self.failed} failed"
                f"{unchanged}, elapsed {_duration(self.elapsed_s)}, ETA {eta}")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


class RunCounts:
    """What this run has done so far (a tally, updated as records come in)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.started = clock()
        self.done = self.now = self.unchanged = self.failed = 0

    @property
    def elapsed_s(self) -> float:
        return self.clock() - self.started

    def progress(self, total: int) -> BatchProgress:
        return BatchProgress(total, self.done, self.now, self.unchanged, self.failed, self.elapsed_s)


class ProgressLog:
    """Calls `write` with a progress line at most every `every_s` seconds (for logs, not terminals)."""

    def __init__(self, write: Callable[[str], None], every_s: float = PROGRESS_LOG_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.write, self.every_s, self.clock = write, every_s, clock
        self._last = clock()

    def __call__(self, progress: BatchProgress) -> None:
        now = self.clock()
        if now - self._last >= self.every_s:
            self._last = now
            self.write(f"mtqc: {progress.line()}")
