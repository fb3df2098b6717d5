"""`mtqc batch`: check a folder, a tree or a JSON Lines file of articles."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click
from rich.markup import escape

from ..errors import UsageError
from .common import (option_inputs, fail_under_option, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_UNDER_THRESHOLD, check_options, checker_config,
                     err_console, handle_errors, review_option)

if TYPE_CHECKING:  # imported when run: `mtqc --help` loads no batch machinery
    from rich.progress import Progress

    from ..batch.archive import ArchiveBatch, ArchiveResult
    from ..batch.executors import Executor
    from ..batch.plan import Source
    from ..batch.progress import BatchProgress


@click.command()
@click.argument("directory", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="Folder for the reports, summary.json, summary.jsonl and index.html.")
@click.option("--recursive", "-r", is_flag=True, help="Check the whole tree below INPUT, mirrored under OUTDIR.")
@click.option("--jobs", "-j", type=click.IntRange(1), default=None,
              help="Worker processes (local; default 1) or Ray actors (default: one per cluster CPU).")
@click.option("--force", is_flag=True, help="Check every article again, even those unchanged since the last run.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Where to check: this machine, or a Ray cluster (pip install -e '.[ray]').")
@click.option("--ray-address", default=None, help="Ray cluster to join (e.g. ray://head:10001); default: start a local one.")
@check_options
@review_option
@fail_under_option
@handle_errors
def batch(directory: Path, out_dir: Path, recursive: bool, jobs: int | None, force: bool, executor: str,
          ray_address: str | None, fail_under: float | None, **opts: Any) -> None:
    """Check every *.txt, *.md and *.html article in a folder (INPUT), or every line of a .jsonl file.

    Articles unchanged since the last run into OUTDIR are not checked again (--force does); a batch
    that was stopped picks up where it was.
    """
    from ..batch.archive import ArchiveBatch
    from ..batch.executors import make_executor

    debug = bool(click.get_current_context().find_root().params.get("debug"))
    options = checker_config(opts)
    source = _source(directory, recursive, options.settings.max_bytes)
    # built before the plan so that a missing Ray or a bad --ray-address fails before any work
    ex = make_executor(options, executor=executor, jobs=jobs, ray_address=ray_address)
    inputs = tuple(path for path, _ in option_inputs(opts))  # glossaries, calibration, reviews: never written
    with ArchiveBatch(source, out_dir, force=force, other_inputs=inputs) as plan:
        for skipped in plan.skipped():
            err_console.print(f"[yellow]skipped:[/] {escape(str(skipped))}", soft_wrap=True)
        plan.require_articles()
        plan.prepare()  # an unwritable OUTDIR fails now, not after every article is checked
        try:
            result = _run(plan, ex, debug)
        finally:
            ex.close()
    _say(result, out_dir, debug)
    code = _exit_code(result, fail_under)
    if code:
        raise click.exceptions.Exit(code)


def _source(directory: Path, recursive: bool, max_bytes: int) -> Source:
    """INPUT as a batch source: a JSON Lines file, or a folder (a tree, with --recursive)."""
    from ..batch.sources import FolderSource, JsonlSource, is_jsonl

    if not is_jsonl(directory):
        return FolderSource(directory, recursive)
    if recursive:
        raise UsageError("--recursive walks a folder; INPUT is a JSON Lines file")
    return JsonlSource(directory, max_bytes)


def _run(plan: ArchiveBatch, ex: Executor, debug: bool) -> ArchiveResult:
    """Start the workers (saying their notes) and run the batch under a progress bar, or a periodic log line."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    info = ex.start()
    for note in info.notes:
        err_console.print(f"[cyan]note:[/] {escape(note)}", soft_wrap=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                  console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
        return plan.run(ex, info=info, debug=debug, on_progress=_on_progress(bar, plan.total))


def _on_progress(bar: Progress, total: int) -> Callable[[BatchProgress], None]:
    """On a terminal, the bar follows the batch; elsewhere (a log, CI), a line every 30 s."""
    from ..batch.progress import ProgressLog

    if not err_console.is_terminal:
        return ProgressLog(lambda line: err_console.print(escape(line), soft_wrap=True, highlight=False))
    task = bar.add_task("checking", total=total, rate="")

    def update(p: BatchProgress) -> None:
        bar.update(task, completed=p.done, rate=f"{p.rate:.1f}/s",
                   description=f"checking ({p.failed} failed)" if p.failed else "checking")

    return update


def _say(result: ArchiveResult, out_dir: Path, debug: bool) -> None:
    """The end of a run: what was checked (stdout); the failures and files not written (stderr)."""
    skipped_note = f", {result.skipped} skipped" if result.skipped else ""
    unchanged = f"; {result.unchanged} unchanged since the last run, not checked again" if result.unchanged else ""
    click.echo(f"checked {result.checked} of {result.total} articles{skipped_note}; reports in {out_dir} "
               f"(index: {result.index_path.name}, summary: {result.summary_path.name}){unchanged}")
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    _say_failures(result)
    for error in result.errors:
        err_console.print(f"[bold red]mtqc: error:[/] {escape(error)}", soft_wrap=True)
    if result.failed:
        err_console.print(f"mtqc: {result.failed} of {result.total} articles could not be checked")
    if result.internal_failed and not debug:
        err_console.print("mtqc: an internal error is a bug; rerun with mtqc --debug batch ... for the traceback")


def _say_failures(result: ArchiveResult) -> None:
    for item in result.failures:
        err_console.print(f"[bold red]failed:[/] {escape(item.error or '')}", soft_wrap=True)
        if item.traceback:
            err_console.print(item.traceback, markup=False, highlight=False, soft_wrap=True)
    if result.failed > len(result.failures):
        err_console.print(f"... and {result.failed - len(result.failures)} more failures, listed in {result.summary_path}")


def _exit_code(result: ArchiveResult, fail_under: float | None) -> int:
    """3 for a bug in any article, 2 for an article (or batch file) that failed, 1 for a score under --fail-under."""
    if result.internal_failed:
        return EXIT_INTERNAL
    if result.failed or result.errors:
        return EXIT_BAD_INPUT
    if fail_under is not None and result.lowest_score is not None and result.lowest_score < fail_under:
        return EXIT_UNDER_THRESHOLD
    return 0
