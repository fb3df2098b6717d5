"""Command line: a thin layer over the library that turns typed errors into exit codes."""
from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import click
from rich.console import Console
from rich.text import Text

from . import __version__
from .config import Settings, load_settings
from .engines import ENGINE_NAMES
from .errors import InputError, MtqcError, UsageError
from .signals import SIGNALS

if TYPE_CHECKING:
    from .pipeline import Checker

EXIT_OK, EXIT_UNDER_THRESHOLD, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
F = TypeVar("F", bound=Callable[..., Any])

err_console = Console(stderr=True, highlight=False)


def _labelled(label: str, message: object, style: str = "bold red") -> Text:
    """A styled label and a message printed as is: messages carry file names and article text."""
    return Text.assemble((label, style), " ", str(message))


def _fail(message: str, code: int) -> "click.exceptions.Exit":
    err_console.print(_labelled("mtqc: error:", message), soft_wrap=True)
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
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None,
                     help="Device for neural engines [env MTQC_DEVICE; default auto]."),
        click.option("--threads", type=click.IntRange(1), default=None, help="CPU threads for neural engines."),
        click.option("--beams", type=click.IntRange(1, 16), default=None,
                     help="Beam size for back-translation [env MTQC_BEAMS; default 1, greedy]."),
        click.option("--fail-under", type=click.FloatRange(0, 100), default=None,
                     help="Exit 1 when an article scores below this."),
        click.option("--disable", "disabled", multiple=True, type=click.Choice(sorted(SIGNALS)),
                     help="Turn a signal off; repeatable."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _settings(models_dir: Path | None = None, offline: bool | None = None, no_cache: bool = False,
              device: str | None = None, threads: int | None = None, beams: int | None = None) -> Settings:
    return load_settings(models_dir=models_dir, offline=offline or None, use_cache=False if no_cache else None,
                         device=device, threads=threads, beams=beams)


def _make_checker(opts: dict[str, Any]) -> "Checker":
    from .pipeline import Checker

    settings = _settings(opts["models_dir"], opts["offline"], opts["no_cache"], opts["device"], opts["threads"], opts["beams"])
    return Checker.create(settings, engine=opts["engine"], glossaries=opts["glossaries"],
                          builtin_glossary=not opts["no_builtin_glossary"], disabled=opts["disabled"])


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
          fail_under: float | None, **opts: Any) -> None:
    """Check one or more articles; write JSON and HTML reports and print a summary."""
    from .reports import write_html, write_json
    from .terminal import print_summary

    if len(files) > 1 and (json_path or html_path):
        raise UsageError("--json/--html name one report; with several FILES use --out DIR")
    checker = _make_checker(opts)
    console = Console()
    failed_input = under = False
    for path in files:
        try:
            report = checker.check_file(path)
        except InputError as exc:
            err_console.print(_labelled("mtqc: error:", exc), soft_wrap=True)
            failed_input = True
            continue
        written = [
            write_json(report, json_path or out_dir / f"{path.stem}.json"),
            write_html(report, html_path or out_dir / f"{path.stem}.html"),
        ]
        if not quiet:
            print_summary(report, console)
            console.print(Text("  reports: " + ", ".join(str(p) for p in written)))
        if fail_under is not None and report.score < fail_under:
            under = True
            err_console.print(Text(f"mtqc: {path}: score {report.score:.1f} is under --fail-under {fail_under:g}"))
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
def batch(directory: Path, out_dir: Path, fail_under: float | None, **opts: Any) -> None:
    """Check every *.txt, *.md and *.html article in DIRECTORY."""
    from rich.progress import Progress

    from .batch import find_articles, run_batch

    files = find_articles(directory)
    if not files:
        raise InputError(f"{directory}: no *.txt, *.md or *.html articles found")
    checker = _make_checker(opts)
    for note in checker.engine_choice.notes:
        err_console.print(_labelled("note:", note, "cyan"), soft_wrap=True)
    with Progress(console=err_console, transient=True, disable=not err_console.is_terminal) as progress:
        task = progress.add_task("checking", total=len(files))
        result = run_batch(checker, directory, out_dir, files=files, on_item=lambda _: progress.advance(task))
    checked = [i for i in result.items if not i.error]
    click.echo(f"checked {len(checked)} of {len(result.items)} articles; reports in {out_dir} "
               f"(index: {result.index_path.name}, summary: {result.summary_path.name})")
    for item in result.failures:
        err_console.print(_labelled("failed:", item.error), soft_wrap=True)
    if result.failures:
        err_console.print(f"mtqc: {len(result.failures)} of {len(result.items)} articles could not be checked")
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    if fail_under is not None and any(i.score is not None and i.score < fail_under for i in checked):
        raise click.exceptions.Exit(EXIT_UNDER_THRESHOLD)


@main.group()
def models() -> None:
    """List, download and convert the neural models."""


_models_dir_option = click.option("--models-dir", type=click.Path(path_type=Path), default=None,
                                  help="Where models live [env MTQC_MODELS_DIR; default models/].")


@models.command("list")
@_models_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def models_list(models_dir: Path | None, as_json: bool) -> None:
    """Each model of the manifest: present or missing, where, size, revision."""
    import json

    from rich.table import Table

    from .models import model_status

    rows = model_status(_settings(models_dir))
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    table = Table("model", "status", "where", "size", "revision", "licence")
    for row in rows:
        size = f"{row.size_bytes / 1e6:.0f} MB" if row.present else f"~{row.expected_mb} MB"
        where = f"{row.path} ({row.where})" if row.present else "-"
        table.add_row(row.name, "present" if row.present else Text("missing", style="red"), Text(where), size,
                      row.revision or row.manifest_revision, row.licence)
    Console().print(table)
    if not all(r.present for r in rows):
        click.echo("fetch missing models with: mtqc models pull  (on a connected machine; then copy models/ for air-gapped use)")


@models.command("pull")
@click.argument("names", nargs=-1)
@_models_dir_option
@click.option("--force", is_flag=True, help="Download again even if present.")
@handle_errors
def models_pull(names: tuple[str, ...], models_dir: Path | None, force: bool) -> None:
    """Download models (all by default) into the models directory; resumable."""
    from .models import pull

    for resolved in pull(list(names) or None, _settings(models_dir), force=force):
        click.echo(f"{resolved.spec.name}: {resolved.path} ({resolved.source}, revision {resolved.revision})")


@models.command("convert")
@click.argument("names", nargs=-1)
@_models_dir_option
@click.option("--force", is_flag=True, help="Convert again even if up to date.")
@handle_errors
def models_convert(names: tuple[str, ...], models_dir: Path | None, force: bool) -> None:
    """Convert the Marian models to CTranslate2 int8 for the faster `ct2` engine."""
    from .engines.ct2 import convert_models

    for path in convert_models(_settings(models_dir, offline=True), list(names) or None, force=force):
        click.echo(f"converted: {path}")


@main.group()
def glossary() -> None:
    """Glossaries: validate them before use."""


@glossary.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@handle_errors
def glossary_check(paths: tuple[Path, ...]) -> None:
    """List every problem in each glossary with its line number; exit 2 if there are any."""
    from .glossary import inspect_glossary_file

    bad = False
    for path in paths:
        result = inspect_glossary_file(path)  # one pass: the same reader, and lines, as loading
        for line, message in result.problems:
            click.echo(f"{path}:{line}: {message}")
        if result.problems:
            bad = True
            continue
        click.echo(f"{path}: ok, {len(result.concepts)} concepts")
    if bad:
        raise click.exceptions.Exit(EXIT_BAD_INPUT)


@main.group()
def cache() -> None:
    """The translation cache."""


@cache.command("clear")
@handle_errors
def cache_clear() -> None:
    """Delete every cached translation and score."""
    from .cache import Cache

    store = Cache.for_settings(_settings())
    store.clear()
    click.echo(f"cleared {store.path}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
