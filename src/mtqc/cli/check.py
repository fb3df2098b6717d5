"""`mtqc check`: check articles, write their reports, print a summary."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from ..errors import MtqcError
from .common import (fail_under_option, EXIT_BAD_INPUT, EXIT_UNDER_THRESHOLD, check_options, make_checker, option_inputs,
                     review_option,
                     err_console, handle_errors)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="JSON report path (one FILE only).")
@click.option("--html", "html_path", type=click.Path(path_type=Path), help="HTML report path (one FILE only).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="Folder for reports named after each article.")
@click.option("--quiet", "-q", is_flag=True, help="No terminal summary.")
@click.option("--verbose", "-v", is_flag=True, help="Every note on checks that did not run, in full (models, folders, cache).")
@check_options
@review_option
@fail_under_option
@handle_errors
def check(files: tuple[Path, ...], json_path: Path | None, html_path: Path | None, out_dir: Path, quiet: bool,
          verbose: bool, fail_under: float | None, **opts: Any) -> None:
    """Check one or more articles; write JSON and HTML reports and print a summary."""
    from ..fs import is_stdout
    from ..reports import write_reports
    from ..reports.naming import plan_check_paths, prepare_report_dirs
    from ..reports.terminal import print_summary

    plan = plan_check_paths(files, out_dir, json_path, html_path, other_inputs=option_inputs(opts))
    outputs = [p for _, *pair in plan for p in pair]
    prepare_report_dirs(outputs)
    checker = make_checker(opts)
    streaming = any(is_stdout(p) for p in outputs)
    console = err_console if streaming else Console()  # stdout carries the report itself
    failed = under = False
    for path, json_out, html_out in plan:
        try:
            report = checker.check_file(path)
            written = write_reports(report, json_out, html_out)
        except MtqcError as exc:
            err_console.print(f"[bold red]mtqc: error:[/] {escape(str(exc))}", soft_wrap=True)
            failed = True
            continue
        if not quiet:
            print_summary(report, console, verbose=verbose)
            if report.suppressed:
                n = len(report.suppressed)
                console.print(f"  {n} flag{'s' if n != 1 else ''} dismissed in a review not raised again")
            console.print("  reports: " + ", ".join(escape(str(p)) for p in (written.json_path, written.html_path)
                                                    if not is_stdout(p)))
        if fail_under is not None and report.score < fail_under:
            under = True
            err_console.print(f"mtqc: {escape(str(path))}: score {report.score:.1f} is under --fail-under {fail_under:g}")
    if failed:
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    if under:
        raise click.exceptions.Exit(EXIT_UNDER_THRESHOLD)
