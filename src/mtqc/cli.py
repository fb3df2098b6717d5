"""Command line: a thin layer over the library that turns typed errors into exit codes."""
from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

import click
from rich.console import Console

from . import __version__
from .config import load_settings
from .engines import ENGINE_NAMES
from .errors import InputError, MtqcError, UsageError

EXIT_OK, EXIT_UNDER_THRESHOLD, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
F = TypeVar("F", bound=Callable[..., Any])

err_console = Console(stderr=True, highlight=False)


def _fail(message: str, code: int) -> "click.exceptions.Exit":
    err_console.print(f"[bold red]mtqc: error:[/] {message}", soft_wrap=True)
    return click.exceptions.Exit(code)


def handle_errors(func: F) -> F:
    """Typed errors become one line on stderr and exit 2; anything else is a bug (exit 3)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except MtqcError as exc:
            raise _fail(str(exc), EXIT_BAD_INPUT) from None
        except KeyboardInterrupt:
            raise _fail("interrupted", 130) from None
        except Exception as exc:  # a bug: say so in one line unless --debug
            if ctx.find_root().params.get("debug"):
                raise
            raise _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for a traceback)", EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mtqc")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
def main(debug: bool) -> None:
    """mtqc: find likely mistranslations in machine-translated English news."""


def _common_check_options(func: F) -> F:
    options = [
        click.option("--glossary", "glossaries", multiple=True, type=click.Path(path_type=Path),
                     help="Extra glossary (own format, .csv, .tsv, .tbx); repeatable."),
        click.option("--no-builtin-glossary", is_flag=True, help="Do not use the shipped news glossary."),
        click.option("--engine", type=click.Choice(ENGINE_NAMES), default="auto", show_default=True,
                     help="Back-translation engine; auto picks the best one available."),
        click.option("--models-dir", type=click.Path(path_type=Path), default=None,
                     help="Where models live [env MTQC_MODELS_DIR; default models/]."),
        click.option("--offline", is_flag=True, default=None, help="Never try to download models."),
        click.option("--no-cache", is_flag=True, help="Do not read or write the translation cache."),
        click.option("--fail-under", type=click.FloatRange(0, 100), default=None,
                     help="Exit 1 when an article scores below this."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _make_checker(engine: str, glossaries: Sequence[Path], no_builtin_glossary: bool, models_dir: Path | None,
                  offline: bool | None, no_cache: bool):  # type: ignore[no-untyped-def]
    from .pipeline import Checker

    settings = load_settings(models_dir=models_dir, offline=offline or None, use_cache=False if no_cache else None)
    return Checker.create(settings, engine=engine, glossaries=glossaries, builtin_glossary=not no_builtin_glossary)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="JSON report path (one FILE only).")
@click.option("--html", "html_path", type=click.Path(path_type=Path), help="HTML report path (one FILE only).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="Folder for reports named after each article.")
@click.option("--quiet", "-q", is_flag=True, help="No terminal summary.")
@_common_check_options
@handle_errors
def check(files: tuple[Path, ...], json_path: Path | None, html_path: Path | None, out_dir: Path, quiet: bool,
          glossaries: tuple[Path, ...], no_builtin_glossary: bool, engine: str, models_dir: Path | None,
          offline: bool | None, no_cache: bool, fail_under: float | None) -> None:
    """Check one or more articles; write JSON and HTML reports and print a summary."""
    from .reports import write_html, write_json
    from .terminal import print_summary

    if len(files) > 1 and (json_path or html_path):
        raise UsageError("--json/--html name one report; with several FILES use --out DIR")
    checker = _make_checker(engine, glossaries, no_builtin_glossary, models_dir, offline, no_cache)
    console = Console()
    failed_input = under = False
    for path in files:
        try:
            report = checker.check_file(path)
        except InputError as exc:
            err_console.print(f"[bold red]mtqc: error:[/] {exc}", soft_wrap=True)
            failed_input = True
            continue
        written = [
            write_json(report, json_path or out_dir / f"{path.stem}.json"),
            write_html(report, html_path or out_dir / f"{path.stem}.html"),
        ]
        if not quiet:
            print_summary(report, console)
            console.print("  reports: " + ", ".join(str(p) for p in written))
        if fail_under is not None and report.score < fail_under:
            under = True
            err_console.print(f"mtqc: {path}: score {report.score:.1f} is under --fail-under {fail_under:g}")
    if failed_input:
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    if under:
        raise click.exceptions.Exit(EXIT_UNDER_THRESHOLD)


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="Folder for the reports, summary.json and index.html.")
@_common_check_options
@handle_errors
def batch(directory: Path, out_dir: Path, glossaries: tuple[Path, ...], no_builtin_glossary: bool, engine: str,
          models_dir: Path | None, offline: bool | None, no_cache: bool, fail_under: float | None) -> None:
    """Check every *.txt, *.md and *.html article in DIRECTORY."""
    from rich.progress import Progress

    from .batch import find_articles, run_batch

    files = find_articles(directory)
    if not files:
        raise InputError(f"{directory}: no *.txt, *.md or *.html articles found")
    checker = _make_checker(engine, glossaries, no_builtin_glossary, models_dir, offline, no_cache)
    for note in checker.engine_choice.notes:
        err_console.print(f"[cyan]note:[/] {note}", soft_wrap=True)
    with Progress(console=err_console, transient=True, disable=not err_console.is_terminal) as progress:
        task = progress.add_task("checking", total=len(files))
        result = run_batch(checker, directory, out_dir, files=files, on_item=lambda _: progress.advance(task))
    checked = [i for i in result.items if not i.error]
    click.echo(f"checked {len(checked)} of {len(result.items)} articles; reports in {out_dir} "
               f"(index: {result.index_path.name}, summary: {result.summary_path.name})")
    for item in result.failures:
        err_console.print(f"[bold red]failed:[/] {item.error}", soft_wrap=True)
    if result.failures:
        err_console.print(f"mtqc: {len(result.failures)} of {len(result.items)} articles could not be checked")
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    if fail_under is not None and any(i.score is not None and i.score < fail_under for i in checked):
        raise click.exceptions.Exit(EXIT_UNDER_THRESHOLD)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
